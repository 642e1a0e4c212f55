"""``-w N``: N trioload processes share -c and -n; their JSON reports are merged.

One trio process saturates one core long before a fast server does. Each child runs the same
command line with its share of the concurrency and requests, quietly, writing JSON to a pipe;
the parent merges the HDR histograms (exact: same bucket layout) and the counters. Children
run in their own sessions, so a terminal's Ctrl-C reaches the parent, which forwards it.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import trio
from hdrh.histogram import HdrHistogram

from trioload.config import LoadConfig
from trioload.report import RunResult
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


async def run_workers(config: LoadConfig, argv: list[str]) -> RunResult:
    """Run ``config.workers`` children and merge what they measured."""
    shares_c = split(config.concurrency, config.workers)
    shares_n = split(config.requests, config.workers) if config.requests else None
    commands = []
    for i, c in enumerate(shares_c):
        extra = ["-c", str(c), "-w", "1", "-q", "--json", "-"]
        if shares_n is not None:
            extra += ["-n", str(shares_n[i])]
        commands.append([sys.executable, "-m", "trioload", *argv, *extra])
    merged = RunStats()
    interrupted = False
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()

    processes = [
        await trio.lowlevel.open_process(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
        )
        for command in commands
    ]

    async def collect(proc: trio.Process) -> None:
        nonlocal interrupted
        assert proc.stdout is not None
        output = bytearray()
        async with proc.stdout:
            while chunk := await proc.stdout.receive_some(1 << 16):
                output += chunk
        status = await proc.wait()
        if status not in (0, 1, 130):
            raise RuntimeError(f"worker process {proc.pid} failed with status {status}")
        report = json.loads(output)
        interrupted = interrupted or report["interrupted"]
        merged.merge(stats_from_json(report))

    async def forward(signals: AsyncIterator[int]) -> None:
        async for signum in signals:
            for proc in processes:
                if proc.returncode is None:
                    proc.send_signal(signum)

    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(forward, signals)
            async with trio.open_nursery() as children:
                for proc in processes:
                    children.start_soon(collect, proc)
            nursery.cancel_scope.cancel()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return RunResult(
        config=config,
        stats=merged,
        elapsed_s=elapsed,
        cpu_user_s=after.ru_utime - before.ru_utime,
        cpu_sys_s=after.ru_stime - before.ru_stime,
        interrupted=interrupted,
    )
