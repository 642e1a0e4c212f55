"""The server's settings, frozen once the command line is parsed."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 60000


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything the engine needs to know; built by ``trioserve.cli`` or directly by tests."""

    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    #: listen(2) queue; small queues overflow under c=1000 and turn into 1 s / 3 s SYN retries.
    backlog: int = 4096
    #: 1 = serve in this process; N > 1 = N processes with SO_REUSEPORT listeners.
    workers: int = 1
    #: bind with SO_REUSEPORT (set for workers, so each has its own accept queue).
    reuse_port: bool = False
    #: TCP_DEFER_ACCEPT: accept a connection only once its first bytes are in (Linux). A
    #: connection accepted before its request must wait in the epoll set and costs a second
    #: wake-up; under ab that is nearly every one (docs/design.md has the cost).
    defer_accept: bool = True
    #: beyond this many open connections, stop accepting until one closes (backpressure).
    max_connections: int = 10_000
    #: the whole request head must arrive within this many seconds (slowloris defence).
    head_timeout: float = 10.0
    keep_alive: bool = False
    #: with keep-alive, how long an idle connection may wait for its next request.
    keep_alive_timeout: float = 5.0
    #: on SIGINT/SIGTERM, how long in-flight connections get to finish.
    grace: float = 3.0
    max_head: int = 8192
    max_request_line: int = 4096
    #: after the response, how long and how much we read and discard before closing,
    #: so unread request bytes don't make the kernel reset the connection (lingering close).
    linger_time: float = 2.0
    linger_bytes: int = 1 << 20
    body: bytes = b"hello"
    content_type: str = "text/plain"
    access_log: bool = False
    #: seconds from a request head's arrival to its response (0: at once). A known service
    #: time, to check that a load generator reports what the server did (a calibration target).
    response_delay: float = 0.0
    #: the whole server (accept, read, write) pauses for ``stall_for`` seconds at the end of
    #: every ``stall_every`` seconds from when it started listening (0: never). A known outage:
    #: a load generator whose latencies hide it suffers from coordinated omission.
    stall_every: float = 0.0
    stall_for: float = 0.0
    #: PEM certificate chain: when set, every connection is TLS (``trioserve.tls_server``).
    certfile: str | None = None
    #: PEM private key; None when ``certfile`` holds it too.
    keyfile: str | None = None
