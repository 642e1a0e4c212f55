"""Run one server process until SIGINT/SIGTERM: start line, graceful stop, exit status.

The first signal stops accepting and gives open connections ``grace`` seconds; a second one
cancels everything at once. Both end through trio's cancellation, so every task unwinds.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator

import trio

from trioserve.config import ServerConfig
from trioserve.listener import bind_listener
from trioserve.log import log
from trioserve.server import Server
from trioserve.tls_server import server_for

SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: what a worker prints on stdout once it listens, for its supervisor to wait on.
READY_LINE = b"ready\n"


async def stop_when_orphaned(server: Server) -> None:
    """A worker's stdin is a pipe from its supervisor: EOF means the supervisor is gone."""
    async with trio.lowlevel.FdStream(os.dup(sys.stdin.fileno())) as parent:
        while await parent.receive_some(4096):
            pass
    server.stop()


def describe(config: ServerConfig, port: int) -> str:
    """The start line: where it listens and the settings that change its behaviour."""
    processes = "1 process" if config.workers == 1 else f"{config.workers} worker processes"
    keep_alive = "on" if config.keep_alive else "off"
    scheme = "https" if config.certfile else "http"
    return (
        f"trioserve listening on {scheme}://{config.host}:{port}/ "
        f"({processes}, keep-alive {keep_alive}, backlog {config.backlog}, "
        f"max connections {config.max_connections})"
    )


async def serve_until_signalled(config: ServerConfig, *, worker: bool = False) -> int:
    """Serve; return 0 after a graceful stop, 128 + signal number after a forced one."""
    listener = bind_listener(config)  # before any nursery: a bind error is one plain OSError
    server = server_for(config)
    exit_code = 0

    async def stop_on_signals(signals: AsyncIterator[int]) -> None:
        nonlocal exit_code
        async for signum in signals:
            if not server.stopping:
                log(
                    f"stopping: no new connections; open ones get {config.grace:g} s "
                    "(signal again to stop now)"
                )
                server.stop()
            else:
                exit_code = 128 + signum
                server.abort()

    with trio.open_signal_receiver(*SHUTDOWN_SIGNALS) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stop_on_signals, signals)
            if worker:
                nursery.start_soon(stop_when_orphaned, server)
            async with trio.open_nursery() as serving:
                port = await serving.start(server.serve, listener)
                if worker:  # its supervisor prints the start line for all the workers
                    sys.stdout.buffer.write(READY_LINE)
                    sys.stdout.flush()
                else:
                    print(describe(config, port), file=sys.stderr, flush=True)
            nursery.cancel_scope.cancel()
    log(f"stopped: {server.stats.summary()}")
    return exit_code
