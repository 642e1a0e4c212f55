"""What one run does, frozen once the command line is parsed; plus URL and request encoding."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from trioload import __version__
from trioload.schedule import Schedule

DEFAULT_URL = "http://127.0.0.1:60000/"


class UsageError(ValueError):
    """A bad flag or URL: one line for the user, exit status 2."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go: what the URL names, split the way a socket needs it."""

    host: str
    port: int
    path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 80 else f"{host}:{self.port}"


def parse_url(url: str) -> Target:
    """``http://host[:port]/path?query``; anything else is a UsageError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    if parts.scheme != "http":
        what = "https is not supported" if parts.scheme == "https" else "it must start with http://"
        raise UsageError(f"invalid URL {url!r}: {what}")
    if not parts.hostname:
        raise UsageError(f"invalid URL {url!r}: no host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.hostname, port or 80, path)


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` shares that differ by at most one (-c and -n over workers, -c
    over shards)."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """Everything the engine and the report need; built by ``trioload.cli`` or by tests."""

    url: str = DEFAULT_URL
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
    #: this process is a ``-w`` worker (see ``trioload.worker_protocol``).
    as_worker: bool = False
    json_path: str | None = None
    workers: int = 1
    #: which engine moves the bytes: "shards" (epoll), "tasks", or "auto" (see
    #: ``trioload.engine``).
    engine: str = "auto"
    #: ``-R``: requests per second of the whole run (an open-model schedule); None: closed
    #: loop like ab, each slot sends its next request when the previous one ends.
    rate: float | None = None
    #: this process's (place, of) among ``-w`` workers sharing the schedule.
    schedule_part: tuple[int, int] = (0, 1)
    #: ``--start-at``: the Unix time at which the run (and its schedule) begins.
    start_at: float | None = None
    #: seconds per timeline entry and per ``--hdr-log`` interval.
    interval: float = 1.0
    hdr_log_path: str | None = None
    hgrm_path: str | None = None

    @property
    def schedule(self) -> Schedule | None:
        if self.rate is None:
            return None
        part, parts = self.schedule_part
        return Schedule(self.rate, part, parts)

    @property
    def target(self) -> Target:
        return parse_url(self.url)

    def encode_request(self) -> bytes:
        """The request bytes, encoded once: HTTP/1.0 like ab, so servers close after it."""
        target = self.target
        given = {name.lower() for name, _ in self.headers}
        lines = [f"{self.method} {target.path} HTTP/1.0"]
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
