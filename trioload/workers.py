"""``-w N``: N trioload processes share -c and -n; their JSON reports are merged.

One trio process saturates one core long before a fast server does. Each child runs the same
command line with its share of the concurrency and requests, quietly, writing JSON to a pipe;
the parent merges the HDR histograms (exact: same bucket layout) and the counters. Children
report their counters on stderr a few times a second, so the parent shows one progress display
for all. Children run in their own sessions, so a terminal's Ctrl-C reaches the parent, which
forwards it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import trio
from hdrh.histogram import HdrHistogram

from trioload.config import LoadConfig
from trioload.progress import Progress, parse_child_line
from trioload.report import RunResult
from trioload.run import PROGRESS_INTERVAL_S, write
from trioload.stats import FAILURE_KINDS, PHASES, RunStats


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` shares that differ by at most one."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def stats_from_json(report: dict[str, Any]) -> RunStats:
    """Rebuild a child's RunStats from its JSON report."""
    stats = RunStats()
    for phase in PHASES:
        encoded = report["hdr"].get(phase)
        if encoded:
            stats.histograms[phase] = HdrHistogram.decode(encoded.encode("ascii"))
    stats.complete = report["succeeded"]
    for kind in FAILURE_KINDS:
        stats.failures[kind] = report["failures"][kind]
    stats.non_2xx = report["non_2xx"]
    stats.keep_alive_requests = report["keep_alive_requests"]
    stats.total_bytes = report["total_bytes"]
    stats.html_bytes = report["html_bytes"]
    stats.document_length = report["document_length"]
    stats.server_software = report["server_software"]
    return stats


def child_commands(config: LoadConfig, argv: list[str]) -> list[list[str]]:
    """One command line per child: the parent's, then its share of -c and -n, reporting JSON."""
    shares_c = split(config.concurrency, config.workers)
    shares_n = split(config.requests, config.workers) if config.requests else None
    commands = []
    for i, c in enumerate(shares_c):
        extra = ["-c", str(c), "-w", "1", "-q", "--child-progress", "--json", "-"]
        if shares_n is not None:
            extra += ["-n", str(shares_n[i])]
        commands.append([sys.executable, "-m", "trioload", *argv, *extra])
    return commands


async def run_workers(config: LoadConfig, argv: list[str]) -> RunResult:
    """Run ``config.workers`` children, show their combined progress, merge what they measured."""
    pool = _Children(config)
    start = time.perf_counter()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        for command in child_commands(config, argv):
            pool.processes.append(
                await trio.lowlevel.open_process(
                    command,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            )
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(pool.forward, signals)
                if config.progress:
                    nursery.start_soon(pool.tick, start)
                async with trio.open_nursery() as children:
                    for index, proc in enumerate(pool.processes):
                        children.start_soon(pool.collect, proc)
                        children.start_soon(pool.listen, index, proc)
                nursery.cancel_scope.cancel()
        finally:
            pool.kill_survivors()
    wall_s = time.perf_counter() - start
    reports = pool.reports
    merged = RunStats()
    for report in reports:
        merged.merge(stats_from_json(report))
    if config.progress:
        pool.show_progress(wall_s)
        write(pool.progress.finish(merged.finished))
    window = merged_window(reports)
    return RunResult(
        config=config,
        stats=merged,
        # The children's own windows leave out their start-up (interpreter, imports).
        elapsed_s=window[1] - window[0] if window else wall_s,
        cpu_user_s=sum(report["client_cpu"]["user_s"] for report in reports),
        cpu_sys_s=sum(report["client_cpu"]["sys_s"] for report in reports),
        interrupted=any(report["interrupted"] for report in reports),
        window_s=window,
    )


class _Children:
    """The running children: their reports, their latest counters, one progress display."""

    def __init__(self, config: LoadConfig) -> None:
        self.processes: list[trio.Process] = []
        self.reports: list[dict[str, Any]] = []
        #: each child's latest (finished, failed), by index.
        self.counters: dict[int, tuple[int, int]] = {}
        self.progress = Progress(config.requests, config.time_limit, live=sys.stderr.isatty())

    async def collect(self, proc: trio.Process) -> None:
        """Read a child's JSON report to the end of its stdout."""
        assert proc.stdout is not None
        output = bytearray()
        async with proc.stdout:
            while chunk := await proc.stdout.receive_some(1 << 16):
                output += chunk
        status = await proc.wait()
        if status not in (0, 1, 130):
            raise RuntimeError(f"worker process {proc.pid} failed with status {status}")
        self.reports.append(json.loads(output))

    async def listen(self, index: int, proc: trio.Process) -> None:
        """Progress records update the counters; anything else a child says is passed on."""
        assert proc.stderr is not None
        async with proc.stderr:
            async for line in _lines(proc.stderr):
                record = parse_child_line(line)
                if record is not None:
                    self.counters[index] = record
                elif line.strip():
                    write(f"trioload worker {index + 1}: {line}")

    def show_progress(self, elapsed_s: float) -> None:
        finished = sum(done for done, _ in self.counters.values())
        failed = sum(bad for _, bad in self.counters.values())
        write(self.progress.tick(finished, failed, elapsed_s))

    async def tick(self, start: float) -> None:
        while True:
            await trio.sleep(PROGRESS_INTERVAL_S)
            self.show_progress(time.perf_counter() - start)

    def kill_survivors(self) -> None:
        """After a failure, take down the children still running (they have their own sessions,
        so nothing else would)."""
        for proc in self.processes:
            if proc.returncode is None:
                proc.kill()

    async def forward(self, signals: AsyncIterator[int]) -> None:
        """Ctrl-C reaches only the parent (children have their own sessions): pass it on."""
        async for signum in signals:
            for proc in self.processes:
                if proc.returncode is None:
                    proc.send_signal(signum)


def merged_window(reports: list[dict[str, Any]]) -> tuple[float, float] | None:
    """From the first start to the last end over the children that ran requests."""
    windows = [r["window_monotonic_s"] for r in reports if r.get("window_monotonic_s")]
    if not windows:
        return None
    return min(w[0] for w in windows), max(w[1] for w in windows)


async def _lines(stream: trio.abc.ReceiveStream) -> AsyncIterator[str]:
    """Decoded lines (newline kept) until the stream ends."""
    pending = b""
    while chunk := await stream.receive_some(1 << 16):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace") + "\n"
    if pending:
        yield pending.decode("utf-8", "replace")
