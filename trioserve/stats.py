"""What the server counts for its shutdown line: a connection's failure is counted, never raised."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ServerStats:
    """Counters for the shutdown line, shared by the engine and every connection's exchange."""

    accepted: int = 0
    responses: int = 0
    rejected: Counter[int] = field(default_factory=Counter)
    timeouts: int = 0
    #: connections closed by the client before a complete head (scanners, health checks).
    closed_early: int = 0
    #: resets, broken pipes and other socket errors on a connection.
    socket_errors: int = 0
    #: anything else that went wrong on one connection (a bug, but never a crash).
    internal_errors: int = 0
    #: keep-alive connections closed because a chunked body broke the framing rules.
    malformed_bodies: int = 0
    accept_backoffs: int = 0
    #: connections accepted before their first bytes arrived: they waited in the epoll set
    #: (the rest were answered the moment they were accepted).
    waited: int = 0
    #: TLS connections that ended in a TLS error: garbage or plain HTTP instead of a
    #: ClientHello, a failed handshake, a broken record.
    tls_errors: int = 0

    def summary(self) -> str:
        rejected = ", ".join(f"{s}: {n}" for s, n in sorted(self.rejected.items())) or "none"
        # Only a TLS server has any: a plain server's line stays as it was.
        tls = f", TLS errors {self.tls_errors}" if self.tls_errors else ""
        return (
            f"accepted {self.accepted}, responses {self.responses}, rejected ({rejected}), "
            f"timeouts {self.timeouts}, closed early {self.closed_early}, "
            f"socket errors {self.socket_errors}, internal errors {self.internal_errors}, "
            f"malformed chunked bodies {self.malformed_bodies}, "
            f"accept back-offs {self.accept_backoffs}, waited for their request {self.waited}{tls}"
        )
