"""Running the bench: peers up and down, one measured client run at a time.

The ``Runner`` collects a ``Sample`` per run and a note-only ``Row`` per thing that could not
run, and prints a progress line for each so a long bench shows where it is.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .machine import REPO, free_port
from .peers import PeerSpec
from .processes import Server, StartError, run_measured
from .report import Row, Sample, aggregate
from .tools import LoadResult

Parser = Callable[[str], LoadResult]


@dataclass(frozen=True, slots=True)
class Live:
    """A started peer and where it answers."""

    server: Server
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"


@dataclass(frozen=True, slots=True)
class ClientRun:
    """One client invocation: its label, command line and parser, and the requests it makes."""

    name: str
    argv: list[str]
    parse: Parser
    requests: int | None  # None: duration-bound (wrk); the count comes from its report
    timeout_s: float


def client_timeout(requests: int) -> float:
    """A safety net, not a budget: generous even at 1,000 req/s."""
    return 60.0 + requests / 1000


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


class Runner:
    """Starts peers, runs clients against them and keeps every sample."""

    def __init__(self, host: str, log_dir: Path, pause_s: float) -> None:
        self.host = host
        self.log_dir = log_dir
        self.pause_s = pause_s
        self.samples: list[Sample] = []
        self.skipped: list[Row] = []
        #: (part, server, client) in the order first run or skipped, for the report's rows.
        self.order: list[tuple[str, str, str]] = []

    def _note_order(self, key: tuple[str, str, str]) -> None:
        if key not in self.order:
            self.order.append(key)

    def rows(self) -> list[Row]:
        """Medians of what ran and notes for what could not, in the order they came up."""
        rows = aggregate(self.samples) + self.skipped
        return sorted(rows, key=lambda row: self.order.index(row.key))

    def skip(self, part: str, server: str, clients: Sequence[str], why: str) -> None:
        """Record that these pairs could not run, and say so once."""
        print(f"  [{part}] {server}: {why}")
        for client in clients:
            self.skipped.append(Row(part, server, client, note=why))
            self._note_order((part, server, client))

    @contextmanager
    def started(
        self, part: str, specs: Sequence[PeerSpec], clients: Sequence[str]
    ) -> Iterator[dict[str, Live]]:
        """Start every available peer; yield them by name; always stop them afterwards."""
        live: dict[str, Live] = {}
        for spec in specs:
            for client in clients:
                self._note_order((part, spec.name, client))
        try:
            for spec in specs:
                if spec.missing is not None:
                    self.skip(part, spec.name, clients, f"not available: {spec.missing}")
                    continue
                port = free_port(self.host)
                log = self.log_dir / f"{_slug(spec.name)}.log"
                server = Server(spec.name, spec.argv(port), log, host=self.host, port=port,
                                cwd=spec.cwd)  # fmt: skip
                try:
                    server.start()
                except (StartError, OSError) as exc:
                    self.skip(part, spec.name, clients, f"failed to start: {exc}")
                    continue
                live[spec.name] = Live(server, self.host, port)
            yield live
        finally:
            for peer in live.values():
                peer.server.stop()

    def measure(self, part: str, server_name: str, peer: Live | None, run: ClientRun) -> Sample:
        """Run one client to completion, with the server's CPU time read around it."""
        if self.pause_s:
            time.sleep(self.pause_s)  # let the previous run's closing sockets settle
        if peer is not None and not peer.server.alive():
            error = f"server had exited ({peer.server.log_tail()})"
            return self._record(Sample(part, server_name, run.name, LoadResult(error=error)))
        cpu_before = peer.server.cpu_seconds() if peer else None
        finished = run_measured(run.argv, run.timeout_s, cwd=REPO)  # baselines run as -m
        cpu_after = peer.server.cpu_seconds() if peer else None
        result = run.parse(finished.stdout + "\n" + finished.stderr)
        if finished.timed_out:
            result = LoadResult(error=f"killed after {run.timeout_s:.0f} s")
        elif result.error and finished.returncode != 0:
            tail = (finished.stderr.strip().splitlines() or ["no stderr"])[-1][:160]
            result = LoadResult(error=f"exit {finished.returncode}: {tail}")
        count = result.finished or run.requests
        server_cpu = client_cpu = client_user = None
        if count and result.error is None:
            client_cpu = finished.cpu_s / count * 1e6
            client_user = finished.user_s / count * 1e6
            if cpu_before is not None and cpu_after is not None:
                server_cpu = (cpu_after - cpu_before) / count * 1e6
        sample = Sample(
            part, server_name, run.name, result,
            server_cpu_us=server_cpu, client_cpu_us=client_cpu,
            client_user_us=client_user, client_rss_kb=finished.maxrss_kb,
        )  # fmt: skip
        return self._record(sample)

    def _record(self, sample: Sample) -> Sample:
        self.samples.append(sample)
        self._note_order((sample.part, sample.server, sample.client))
        where = f"[{sample.part}] {sample.client} -> {sample.server}"
        print(f"  {where}: {_summary(sample)}", flush=True)
        return sample


def _summary(sample: Sample) -> str:
    result = sample.result
    if result.error is not None:
        return f"ERROR {result.error}"
    parts = [
        f"{result.requests_per_second or 0:,.0f} req/s",
        f"failed {result.failed if result.failed is not None else '?'}",
    ]
    if result.p50_ms is not None:
        parts.append(f"p50 {result.p50_ms:.2f} ms")
    if result.p99_ms is not None:
        parts.append(f"p99 {result.p99_ms:.2f} ms")
    if sample.server_cpu_us is not None:
        parts.append(f"server {sample.server_cpu_us:.1f} us/req")
    if sample.client_cpu_us is not None:
        parts.append(f"client {sample.client_cpu_us:.1f} us/req")
    if sample.client_user_us is not None:
        parts.append(f"(user {sample.client_user_us:.1f})")
    if sample.client_rss_kb:
        parts.append(f"client RSS {sample.client_rss_kb / 1024:.1f} MB")
    return ", ".join(parts)
