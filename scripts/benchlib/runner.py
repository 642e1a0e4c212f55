"""Running the bench: peers up and down, one measured client run at a time.

The ``Runner`` collects each run's ``LoadResult`` and a note-only ``Row`` per thing that could not
run (a server that could not: one row for all its clients, ``ALL``), and prints a progress
line for each so a long bench shows where it is.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .machine import REPO
from .peers import PeerSpec
from .processes import Server, StartError, run_measured, start_server
from .report import ALL, Key, Row, aggregate
from .tools import LoadResult

Parser = Callable[[str], LoadResult]


@dataclass(frozen=True, slots=True)
class ClientRun:
    """One client invocation: its label, command line and parser, the requests it makes, and
    why it cannot run here (as a ``PeerSpec`` says of a server), if it cannot."""

    name: str
    argv: list[str]
    parse: Parser
    requests: int | None  # None: duration-bound (wrk); the count comes from its report
    timeout_s: float
    missing: str | None = None


def client_timeout(requests: int) -> float:
    """A safety net, not a budget: generous even at 1,000 req/s."""
    return 60.0 + requests / 1000


class Runner:
    """Starts peers, runs clients against them and keeps every sample."""

    def __init__(self, host: str, log_dir: Path, pause_s: float) -> None:
        self.host = host
        self.log_dir = log_dir
        self.pause_s = pause_s
        self.results: dict[Key, list[LoadResult]] = {}
        self.skipped: dict[Key, Row] = {}
        #: (part, server, client) in the order first run or skipped, for the report's rows.
        self.order: dict[Key, int] = {}

    def rows(self) -> list[Row]:
        """Medians of what ran and notes for what could not, by server in the order the
        servers came up, then in the order the clients did."""
        rows = aggregate(self.results) + list(self.skipped.values())
        servers: dict[tuple[str, str], int] = {}
        for part, server, _ in self.order:
            servers.setdefault((part, server), len(servers))
        return sorted(rows, key=lambda row: (servers[row.part, row.server], self.order[row.key]))

    def skip(self, part: str, server: str, client: str, why: str) -> None:
        """Record that this pair could not run (``ALL``: nothing on that server), once."""
        if (part, server, client) not in self.skipped:
            print(f"  [{part}] {server}: {why}")
            self.skipped[part, server, client] = Row(part, server, client, note=why)
            self.order.setdefault((part, server, client), len(self.order))

    @contextmanager
    def started(self, part: str, specs: Sequence[PeerSpec]) -> Iterator[dict[str, Server]]:
        """Start every available peer; yield them by name; always stop them afterwards."""
        live: dict[str, Server] = {}
        for spec in specs:
            self.order.setdefault((part, spec.name, ALL), len(self.order))
        try:
            for spec in specs:
                if spec.missing is not None:
                    self.skip(part, spec.name, ALL, f"not available: {spec.missing}")
                    continue
                try:
                    live[spec.name] = start_server(spec, self.log_dir, self.host)
                except (StartError, OSError) as exc:
                    self.skip(part, spec.name, ALL, f"failed to start: {exc}")
            yield live
        finally:
            for peer in live.values():
                peer.stop()

    def run_rounds(
        self,
        part: str,
        rounds: int,
        specs: Sequence[PeerSpec],
        clients: Callable[[Server], list[ClientRun]],
    ) -> None:
        """Start ``specs``, then run each one's ``clients(peer)`` once a round for ``rounds``
        rounds, every other round backward: a run's figures (its CPU a request above all)
        depend on what ran just before it, so no run always follows the same one."""
        with self.started(part, specs) as live:
            plan = [(name, peer, run) for name, peer in live.items() for run in clients(peer)]
            for number in range(rounds):
                for server, peer, run in plan if number % 2 == 0 else reversed(plan):
                    self.measure(part, server, peer, run)

    def measure(
        self, part: str, server_name: str, peer: Server | None, run: ClientRun
    ) -> LoadResult:
        """Run one client to completion, with the server's CPU time read around it; a client
        that cannot run here becomes a note (once) and an error."""
        if run.missing is not None:
            self.skip(part, server_name, run.name, f"not available: {run.missing}")
            return LoadResult(error=run.missing)
        if self.pause_s:
            time.sleep(self.pause_s)  # let the previous run's closing sockets settle
        if peer is not None and not peer.alive():
            error = f"server had exited ({peer.log_tail()})"
            return self._record((part, server_name, run.name), LoadResult(error=error))
        cpu_before = peer.cpu_seconds() if peer else None
        finished = run_measured(run.argv, run.timeout_s, cwd=REPO)  # baselines run as -m
        cpu_after = peer.cpu_seconds() if peer else None
        result = run.parse(finished.stdout + "\n" + finished.stderr)
        if finished.timed_out:
            result = LoadResult(error=f"killed after {run.timeout_s:.0f} s")
        elif result.error and finished.returncode != 0:
            tail = (finished.stderr.strip().splitlines() or ["no stderr"])[-1][:160]
            result = LoadResult(error=f"exit {finished.returncode}: {tail}")
        count = result.finished or run.requests
        result = dataclasses.replace(result, client_rss_kb=finished.maxrss_kb)
        if count and result.error is None:
            result = dataclasses.replace(
                result,
                client_cpu_us=finished.cpu_s / count * 1e6,
                client_user_us=finished.user_s / count * 1e6,
                server_cpu_us=None if cpu_before is None or cpu_after is None
                else (cpu_after - cpu_before) / count * 1e6,
            )  # fmt: skip
        return self._record((part, server_name, run.name), result)

    def _record(self, key: Key, result: LoadResult) -> LoadResult:
        self.results.setdefault(key, []).append(result)
        self.order.setdefault(key, len(self.order))
        part, server, client = key
        print(f"  [{part}] {client} -> {server}: {_summary(result)}", flush=True)
        return result


def _summary(result: LoadResult) -> str:
    if result.error is not None:
        return f"ERROR {result.error}"
    failed = result.failed if result.failed is not None else "?"
    rss_mb = result.client_rss_kb / 1024 if result.client_rss_kb else None
    figures = [
        (result.p50_ms, "p50 {:.2f} ms"), (result.p99_ms, "p99 {:.2f} ms"),
        (result.server_cpu_us, "server {:.1f} us/req"),
        (result.client_cpu_us, "client {:.1f} us/req"), (result.client_user_us, "(user {:.1f})"),
        (rss_mb, "client RSS {:.1f} MB"),
    ]  # fmt: skip
    shown = [text.format(value) for value, text in figures if value is not None]
    return ", ".join([f"{result.requests_per_second or 0:,.0f} req/s", f"failed {failed}", *shown])
