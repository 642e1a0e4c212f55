"""``-W N``: runs N trioload worker processes side by side and merges what they measured.

One trio process saturates one core long before a fast server does. The parent starts the
workers (``trioload.run.worker_protocol`` says what each runs, and what it says back), shows one
progress display for all, and merges their JSON reports (``trioload.results.result``). Workers
run in their own sessions, so a terminal's Ctrl-C reaches the parent alone, which forwards it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import trio

from trioload.config import LoadConfig
from trioload.output.outputs import write_stderr
from trioload.results.result import RunResult, merge_reports
from trioload.run.preflight import knock
from trioload.run.process import PROGRESS_INTERVAL_S
from trioload.run.progress import Progress
from trioload.run.worker_protocol import (
    REPORTING_STATUSES,
    WORKER_COMMAND,
    encode_config,
    parse_progress_line,
    worker_configs,
)

#: with -R, workers begin together this long after the parent starts them: enough for an
#: interpreter to start and import trioload on a busy machine (a late one still keeps to the
#: schedule, counting its lateness).
WORKER_START_S = 1.0


async def run_workers(config: LoadConfig) -> RunResult:
    """Run the worker processes, show their combined progress, merge their reports."""
    await knock(config)  # once here, not once per worker
    pool = _Workers(config)
    start = time.perf_counter()
    start_at = config.start_at
    if config.rate is not None and start_at is None:
        # One schedule for all: each worker's requests are due from the same epoch.
        start_at = time.time() + WORKER_START_S
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        for worker_config in worker_configs(config, start_at):
            pool.processes.append(await _start(worker_config))
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(pool.forward, signals)
                if config.progress:
                    nursery.start_soon(pool.tick, start)
                async with trio.open_nursery() as processes:
                    for index, proc in enumerate(pool.processes):
                        processes.start_soon(pool.collect, proc)
                        processes.start_soon(pool.listen, index, proc)
                nursery.cancel_scope.cancel()
        finally:
            pool.kill_survivors()
    wall_s = time.perf_counter() - start
    result = merge_reports(config, pool.reports, wall_s)
    if config.progress:
        pool.show_progress(wall_s)
        write_stderr(pool.progress.finish(result.tally.finished))
    return result


async def _start(config: LoadConfig) -> trio.Process:
    """One worker process, its configuration already on its stdin."""
    # A file rather than a pipe: written through a pipe, each worker's bytes would wait for its
    # interpreter to start and read them before the next worker could start.
    with tempfile.TemporaryFile() as stdin:
        stdin.write(encode_config(config))
        stdin.seek(0)
        return await trio.lowlevel.open_process(
            list(WORKER_COMMAND),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )


class _Workers:
    """The running workers: their reports, their latest counters, one progress display."""

    def __init__(self, config: LoadConfig) -> None:
        self.processes: list[trio.Process] = []
        self.reports: list[dict[str, Any]] = []
        #: each worker's latest (finished, failed), by index.
        self.counters: dict[int, tuple[int, int]] = {}
        self.progress = Progress(config.requests, config.time_limit, live=sys.stderr.isatty())

    async def collect(self, proc: trio.Process) -> None:
        """Read a worker's JSON report to the end of its stdout."""
        assert proc.stdout is not None
        output = bytearray()
        async with proc.stdout:
            while chunk := await proc.stdout.receive_some(1 << 16):
                output += chunk
        status = await proc.wait()
        if status not in REPORTING_STATUSES:
            raise RuntimeError(f"worker process {proc.pid} failed with status {status}")
        self.reports.append(json.loads(output))

    async def listen(self, index: int, proc: trio.Process) -> None:
        """Progress records update the counters; anything else a worker says is passed on."""
        assert proc.stderr is not None
        async with proc.stderr:
            async for line in _lines(proc.stderr):
                record = parse_progress_line(line)
                if record is not None:
                    self.counters[index] = record
                elif line.strip():
                    write_stderr(f"trioload worker {index + 1}: {line}")

    def show_progress(self, elapsed_s: float) -> None:
        finished = sum(done for done, _ in self.counters.values())
        failed = sum(bad for _, bad in self.counters.values())
        write_stderr(self.progress.tick(finished, failed, elapsed_s))

    async def tick(self, start: float) -> None:
        while True:
            await trio.sleep(PROGRESS_INTERVAL_S)
            self.show_progress(time.perf_counter() - start)

    def kill_survivors(self) -> None:
        """After a failure, take down the workers still running (they have their own sessions,
        so nothing else would)."""
        for proc in self.processes:
            if proc.returncode is None:
                proc.kill()

    async def forward(self, signals: AsyncIterator[int]) -> None:
        """Ctrl-C reaches only the parent (workers have their own sessions): pass it on."""
        async for signum in signals:
            for proc in self.processes:
                if proc.returncode is None:
                    proc.send_signal(signum)


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
