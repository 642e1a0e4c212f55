"""Comparisons made of runs with known figures, without a network."""

from __future__ import annotations

from trioload.compare.outcome import Outcome, RunRecord
from trioload.compare.plan import ComparePlan, Target
from trioload.config import LoadConfig
from trioload.results.result import RunResult
from trioload.results.tally import Failure, Tally

#: requests in each synthetic run.
REQUESTS = 200


def run_result(
    rps: float, latency_ms: float, *, failed: int = 0, cpu_s: float = 0.1, interrupted: bool = False
) -> RunResult:
    """A run of ``REQUESTS`` requests, each ``latency_ms`` long, at ``rps``."""
    tally = Tally(server_software="test")
    for _ in range(REQUESTS - failed):
        tally.record_response(
            connect_us=100,
            processing_us=int(latency_ms * 1000) - 100,
            waiting_us=int(latency_ms * 500),
            total_us=int(latency_ms * 1000),
            status=200,
            wire_bytes=88,
            body_bytes=5,
            keep_alive=False,
        )
    for _ in range(failed):
        tally.record_failure(Failure.CONNECT)
    config = LoadConfig(url="http://127.0.0.1:8080/", concurrency=10, requests=REQUESTS)
    elapsed = REQUESTS / rps
    return RunResult(config, tally, elapsed, cpu_s, 0.0, interrupted=interrupted)


def record(
    target: str,
    round_index: int,
    rps: float,
    latency_ms: float = 5.0,
    server_cpu_s: float | None = None,
    *,
    failed: int = 0,
    cpu_s: float = 0.1,
    interrupted: bool = False,
    server_alive: bool = True,
) -> RunRecord:
    result = run_result(rps, latency_ms, failed=failed, cpu_s=cpu_s, interrupted=interrupted)
    return RunRecord(target, round_index, 0, result, server_cpu_s, server_alive)


def plan_for(*names: str, rounds: int = 6, **options: object) -> ComparePlan:
    config = LoadConfig(url="http://127.0.0.1:8080/", concurrency=10, requests=REQUESTS)
    targets = tuple(Target(name, config) for name in names)
    return ComparePlan(targets=targets, baseline=names[0], rounds=rounds, **options)  # type: ignore[arg-type]


def outcome_of(runs: list[RunRecord], rounds_completed: int, **options: object) -> Outcome:
    return Outcome(runs=runs, rounds_completed=rounds_completed, **options)  # type: ignore[arg-type]
