"""The engine serving HTTPS: ``trioserve.server``'s, with a ``TlsExchange`` on every connection.

Chosen once, at start (``server_for``): the plain engine runs no TLS code and makes no TLS
check. Everything else is the same engine: one epoll set, bare descriptors, the connection
cap, the accept back-off, deadlines, the graceful stop, ``--delay`` and ``--stall-every``.

One rule differs. The plain engine restarts a connection's deadline whenever bytes go out,
since those are responses; here handshake records go out too, and restarting on them would
give a client a fresh ``head_timeout`` after its ClientHello. So only a response restarts it,
and the handshake and the head share one ``head_timeout`` from the accept. For the same
reason ``--delay`` holds responses only, never the handshake.
"""

from __future__ import annotations

from functools import partial
from typing import cast

from trioserve.config import ServerConfig
from trioserve.server import Server, _Connection
from trioserve.tls_context import server_context
from trioserve.tls_exchange import TlsExchange


def server_for(config: ServerConfig) -> Server:
    """The engine ``config`` asks for: TLS on every connection when it names a certificate."""
    return TlsServer(config) if config.certfile else Server(config)


class TlsServer(Server):
    """One listening socket whose connections all speak TLS (the context built here, once)."""

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config)
        if config.certfile is None:
            raise ValueError("TlsServer needs config.certfile")
        context = server_context(config.certfile, config.keyfile)
        self._new_exchange = partial(TlsExchange, context)

    def _received(self, conn: _Connection, data: bytes, now: float, *, restart: bool) -> None:
        """As the plain engine's, but handshake records neither restart a deadline nor wait.

        A copy, not a hook in the plain ``_received``: that one answers every plain request
        inline, and a hook there would be one more call a request for what only TLS needs
        (the A/B is in docs/benchmarks.md)."""
        exchange = cast(TlsExchange, conn.exchange)
        phase = exchange.phase
        out = exchange.received(data) if data else exchange.client_closed()
        answered = exchange.answered
        if out:
            if answered and self._delaying:
                self._hold(conn, out)
                return
            if not self._write(conn, out, now):
                return
        restart = restart or answered or exchange.phase is not phase
        self._follow(conn, now, restart=restart, answered=answered)
