"""What one run does, frozen once the command line is parsed; plus URL and request encoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from trioload import __version__
from trioload.engine.schedule import Schedule
from trioload.engine.shape import Shape

if TYPE_CHECKING:
    from trioload.segments import Segment

DEFAULT_URL = "http://127.0.0.1:60000/"
DEFAULT_PORTS = {"http": 80, "https": 443}


class UsageError(ValueError):
    """A bad flag or URL: one line for the user, exit status 2."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go: what the URL names, split the way a socket needs it."""

    host: str
    port: int
    path: str
    scheme: str = "http"

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def absolute_url(self) -> str:
        """The URL as a proxy wants it on the request line (``-X``)."""
        return f"{self.scheme}://{self.host_header}{self.path}"


def parse_url(url: str) -> Target:
    """``http[s]://host[:port]/path?query``; anything else is a UsageError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise UsageError(f"invalid URL {url!r}: it must start with http:// or https://")
    if not parts.hostname:
        raise UsageError(f"invalid URL {url!r}: no host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.hostname, port or DEFAULT_PORTS[parts.scheme], path, parts.scheme)


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` shares that differ by at most one (-c and -n over workers, -c
    over shards)."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """Everything the engine and the report need; built by ``trioload.cli`` or by tests."""

    url: str = DEFAULT_URL
    #: connections at once, and slots of the engine: never above ``requests`` (``configure``
    #: holds it there, so that the report's Concurrency Level is what ran).
    concurrency: int = 1
    #: None: no count limit (then ``time_limit`` ends the run).
    requests: int | None = 1
    time_limit: float | None = None
    #: per request, connect to last byte.
    timeout: float = 30.0
    keep_alive: bool = False
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str = "text/plain"
    progress: bool = True
    json_path: str | None = None
    workers: int = 1
    #: which engine moves the bytes: "shards" (epoll), "tasks", or "auto" (see
    #: ``trioload.engine.load``).
    engine: str = "auto"
    #: what takes each response's times: "kernel" (its receive timestamps), "read" (the
    #: engine's clock when it reads), or "auto": the kernel's where the engine can have them
    #: (see ``trioload.engine.kernel_clock``).
    clock: str = "auto"
    #: ``-R``: requests per second of the whole test (an open-model schedule); None: closed
    #: loop like ab, each slot sends its next request when the previous one ends.
    rate: float | None = None
    #: ``-R A:B`` or ``--stages``: the rate over time (then ``rate`` is its mean); None:
    #: a constant ``rate``.
    shape: Shape | None = None
    #: this process's (place, of) in the test's schedule: it takes every ``of``-th request
    #: from the ``place``-th (``-W`` workers, ``--segment`` segments, and both composed).
    schedule_part: tuple[int, int] = (0, 1)
    #: ``--segment``: the part of a larger test this process runs (``trioload.segments``).
    segment: Segment | None = None
    #: ``--start-at``: the Unix time at which the run (and its schedule) begins.
    start_at: float | None = None
    #: seconds per timeline entry and per ``--hdr-log`` interval.
    interval: float = 1.0
    hdr_log_path: str | None = None
    hgrm_path: str | None = None
    # -- ab's flags beyond the request itself ---------------------------------------------
    #: ``-l``: responses may differ in length (no Length failures).
    variable_length: bool = False
    #: ``-X``: (host, port) of an HTTP proxy; requests then name the absolute URL.
    proxy: tuple[str, int] | None = None
    #: ``-B``: the local address connections are made from.
    local_address: str | None = None
    #: ``-b``: the sockets' send and receive buffer size, in bytes.
    socket_buffer: int | None = None
    #: ``-v``: ab's verbosity (2: warnings and each response's head; 3: status codes; 4: ...).
    verbosity: int = 0
    #: ``-d`` turns off the "Percentage of the requests served" table.
    show_percentiles: bool = True
    #: ``-S`` turns off the sd and median columns ("confidence estimators") and the warnings.
    show_confidence: bool = True
    #: ``-w``: the report as ab's HTML tables, with ``-x``/``-y``/``-z`` attributes.
    html: bool = False
    table_attributes: str = ""
    row_attributes: str = ""
    cell_attributes: str = ""
    #: ``-e``: ab's CSV of the time within which each whole percentage was served.
    csv_path: str | None = None
    #: ``-g``: ab's gnuplot TSV, one line per request, written as the run goes.
    gnuplot_path: str | None = None
    # -- https ------------------------------------------------------------------------------
    #: ``-f``: the TLS protocol (ab's names: TLS1, TLS1.1, TLS1.2, TLS1.3, ALL).
    tls_protocol: str = "ALL"
    #: ``-Z``: OpenSSL cipher list (TLS 1.2 and below).
    ciphers: str | None = None
    #: ``-E``: client certificate chain and private key, one PEM file.
    client_cert: str | None = None
    #: ``-I`` turns off Server Name Indication.
    sni: bool = True
    #: ``--insecure``: do not verify the server's certificate (ab never does).
    insecure: bool = False
    #: ``--cacert``: trust the certificates in this PEM file instead of the system's.
    cacert: str | None = None

    @property
    def schedule(self) -> Schedule | None:
        if self.rate is None:
            return None
        part, parts = self.schedule_part
        return Schedule(self.rate, part, parts, self.shape)

    @property
    def stages(self) -> str | None:
        """The shape as ``--stages`` takes it (what the JSON records); None: no shape."""
        return self.shape.label() if self.shape is not None else None

    @property
    def rate_flags(self) -> str:
        """The schedule as flags: ``-R N``, or its shape as ``--stages``; "" without one."""
        if self.stages is not None:
            return f"--stages {self.stages}"
        return f"-R {self.rate:g}" if self.rate is not None else ""

    @property
    def own_rate(self) -> float | None:
        """The requests per second this process's part of the schedule asks for."""
        return None if self.rate is None else self.rate / self.schedule_part[1]

    @property
    def target(self) -> Target:
        return parse_url(self.url)

    @property
    def peer(self) -> Target:
        """Where the connections go: the ``-X`` proxy, or else the URL's host."""
        if self.proxy is None:
            return self.target
        return Target(self.proxy[0], self.proxy[1], "/")

    def encode_request(self) -> bytes:
        """The request bytes, encoded once: HTTP/1.0 like ab, so servers close after it."""
        target = self.target
        given = {name.lower() for name, _ in self.headers}
        path = target.absolute_url if self.proxy else target.path
        lines = [f"{self.method} {path} HTTP/1.0"]
        if "host" not in given:
            lines.append(f"Host: {target.host_header}")
        if "user-agent" not in given:
            lines.append(f"User-Agent: trioload/{__version__}")
        if "accept" not in given:
            lines.append("Accept: */*")
        if self.keep_alive and "connection" not in given:
            lines.append("Connection: Keep-Alive")
        if self.body is not None:
            if "content-type" not in given:
                lines.append(f"Content-Type: {self.content_type}")
            lines.append(f"Content-Length: {len(self.body)}")
        lines += [f"{name}: {value}" for name, value in self.headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + (self.body or b"")
