"""``-w N``: shares of -c and -n per process, and reports merged back into one."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from tests.trioload.conftest import StartTrioserve, run_trioload, url
from trioload.config import LoadConfig
from trioload.report import RunResult, format_json
from trioload.stats import FAILURE_KINDS, PHASES, RunStats
from trioload.workers import merged_window, split, stats_from_json


@given(st.integers(0, 10_000), st.integers(1, 64))
def test_split_shares_differ_by_at_most_one_and_add_up(total: int, parts: int) -> None:
    shares = split(total, parts)
    assert len(shares) == parts
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1


def test_stats_from_json_rebuilds_what_the_child_measured() -> None:
    stats = RunStats(server_software="trioserve")
    for ms, status in ((3, 200), (7, 500), (11, 200)):
        stats.record_response(
            connect_us=ms * 100,
            processing_us=ms * 900,
            waiting_us=ms * 800,
            total_us=ms * 1000,
            status=status,
            wire_bytes=88,
            body_bytes=5,
            keep_alive=True,
        )
    stats.record_failure("receive", wire_bytes=10)
    stats.record_failure("length")
    report = json.loads(format_json(RunResult(LoadConfig(), stats, 1.0, 0.1, 0.1)))
    rebuilt = stats_from_json(report)
    assert rebuilt.complete == stats.complete == 3
    assert rebuilt.failures == stats.failures
    assert {kind: rebuilt.failures[kind] for kind in FAILURE_KINDS} == stats.failures
    assert (rebuilt.non_2xx, rebuilt.keep_alive_requests) == (1, 3)
    assert (rebuilt.total_bytes, rebuilt.html_bytes) == (stats.total_bytes, stats.html_bytes)
    assert (rebuilt.document_length, rebuilt.server_software) == (5, "trioserve")
    for phase in PHASES:
        ours, theirs = stats.histograms[phase], rebuilt.histograms[phase]
        assert theirs.get_total_count() == ours.get_total_count() == 3
        assert theirs.get_value_at_percentile(50) == ours.get_value_at_percentile(50)


async def test_workers_merge_counts_to_exactly_n(start_trioserve: StartTrioserve) -> None:
    server, port = await start_trioserve()
    n = 301  # odd: the shares differ
    run = await run_trioload("-q", "-w", "2", "-c", "4", "-n", str(n), "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    report = run.report
    assert report["workers"] == 2
    assert (report["complete"], report["succeeded"], report["failed"]) == (n, n, 0)
    assert report["total_bytes"] == 88 * n
    assert report["requests"] == n
    assert server.stats.responses == n
    for phase in PHASES:
        assert report["latency_ms"][phase]["p50"] > 0
    assert f"Complete requests:      {n}\n" in run.stderr
    assert "2 processes" in run.stderr


async def test_workers_with_fewer_requests_than_workers(start_trioserve: StartTrioserve) -> None:
    # -n 1 -c 2 -w 2: one process gets no request at all; the run must still do exactly one.
    server, port = await start_trioserve()
    run = await run_trioload("-q", "-w", "2", "-c", "2", "-n", "1", "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    assert run.report["complete"] == 1
    assert server.stats.responses == 1


def test_merged_window_spans_the_children_that_ran() -> None:
    reports: list[dict[str, Any]] = [
        {"window_monotonic_s": [10.5, 12.0]},
        {"window_monotonic_s": [10.2, 11.5]},
        {"window_monotonic_s": None},  # a child with no request to make
    ]
    assert merged_window(reports) == (10.2, 12.0)
    assert merged_window([{"window_monotonic_s": None}]) is None


async def test_workers_time_taken_leaves_out_child_start_up(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    began = trio.current_time()
    run = await run_trioload("-q", "-w", "2", "-c", "4", "-n", "200", "--json", "-", url(port))
    wall_s = trio.current_time() - began
    assert run.returncode == 0, run.stderr
    start, end = run.report["window_monotonic_s"]
    assert run.report["time_taken_s"] == pytest.approx(end - start)
    # Two interpreters starting up take far longer than 200 requests to trioserve.
    assert run.report["time_taken_s"] < wall_s / 2


async def test_workers_show_one_progress_for_all_children(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    run = await run_trioload("-w", "2", "-c", "4", "-n", "2000", url(port))
    assert run.returncode == 0, run.stderr
    completed = re.findall(r"^Completed (\d+) requests$", run.stderr, re.MULTILINE)
    assert completed == [str(200 * i) for i in range(1, 10)]
    assert "Finished 2000 requests\n" in run.stderr
    assert "trioload-progress" not in run.stderr + run.stdout
    # one report, the merged one: the children's own stay between them and the parent
    assert "trioload worker" not in run.stderr
    assert run.stdout.count("Complete requests:") == 1
