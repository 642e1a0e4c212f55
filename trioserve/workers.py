"""``--workers N``: N server processes, each with its own SO_REUSEPORT listener.

The kernel spreads new connections across the listeners, so the processes share nothing.
The parent only supervises: it reserves the port (so ``--port 0`` means one port for all),
starts the workers in their own sessions (a terminal's Ctrl-C reaches the parent alone),
waits until each listens, forwards SIGINT/SIGTERM, and exits when they have.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import trio

from trioserve.config import ServerConfig
from trioserve.lifecycle import READY_LINE, SHUTDOWN_SIGNALS, describe
from trioserve.listener import bound_socket
from trioserve.log import log

STARTUP_TIMEOUT_S = 20.0


def reserve_port(config: ServerConfig) -> socket.socket:
    """Bind (without listening) with SO_REUSEPORT: fixes the port the workers then share."""
    return bound_socket(config, reuse_port=True)


async def supervise(config: ServerConfig, argv: list[str]) -> int:
    """Run ``config.workers`` children of ``argv`` (the original command line); their status."""
    with reserve_port(config) as reserved:
        port = reserved.getsockname()[1]
        command = [sys.executable, "-m", "trioserve", *argv]
        command += ["--port", str(port), "--workers", "1", "--worker-process"]
        return await _run_workers(config, command, port)


async def _run_workers(config: ServerConfig, command: list[str], port: int) -> int:
    failed = False
    stopping = False
    with trio.open_signal_receiver(*SHUTDOWN_SIGNALS) as signals:
        async with trio.open_nursery() as nursery:
            workers = [
                await trio.lowlevel.open_process(
                    command,
                    stdin=subprocess.PIPE,  # its EOF tells a worker that we are gone
                    stdout=subprocess.PIPE,
                    start_new_session=True,
                )
                for _ in range(config.workers)
            ]

            def signal_all(signum: int) -> None:
                for proc in workers:
                    if proc.returncode is None:
                        proc.send_signal(signum)

            async def forward(signal_stream: AsyncIterator[int]) -> None:
                nonlocal stopping
                async for signum in signal_stream:
                    stopping = True
                    signal_all(signum)

            async def watch(proc: trio.Process) -> None:
                nonlocal failed, stopping
                status = await proc.wait()
                failed = failed or status != 0
                if not stopping:  # a worker died on its own: don't limp on with fewer
                    log(f"worker {proc.pid} exited with status {status}; stopping the others")
                    failed = stopping = True
                    signal_all(signal.SIGTERM)

            nursery.start_soon(forward, signals)
            problem = await _wait_until_listening(workers)
            if problem is None:
                print(describe(config, port), file=sys.stderr, flush=True)
            else:
                log(f"workers did not start: {problem}")
                stopping = failed = True
                signal_all(signal.SIGTERM)
            async with trio.open_nursery() as waiting:
                for proc in workers:
                    waiting.start_soon(watch, proc)
            for proc in workers:
                for pipe in (proc.stdin, proc.stdout):
                    if pipe is not None:
                        await pipe.aclose()
            nursery.cancel_scope.cancel()
    return 1 if failed else 0


async def _wait_until_listening(workers: list[trio.Process]) -> str | None:
    """Read each worker's ready line; the reason if one fails or takes too long."""
    with trio.move_on_after(STARTUP_TIMEOUT_S):
        for proc in workers:
            assert proc.stdout is not None
            if await proc.stdout.receive_some(len(READY_LINE)) != READY_LINE:
                return f"worker {proc.pid} exited before listening"
        return None
    return f"not all listening after {STARTUP_TIMEOUT_S:.0f} s"
