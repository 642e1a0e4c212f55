"""The trio engine: c workers in one nursery, each running requests until the run is over.

Why it looks like this: in trio every socket call through ``trio.socket`` or a stream is a trip
through the scheduler, and that costs more than the kernel's work for a short request. So each
request uses a plain non-blocking stdlib socket: ``connect_ex``, one ``send``, ``recv`` until
the response ends, and trio's ``wait_writable``/``wait_readable`` only when a call would block.
Times are ``perf_counter_ns`` taken right around those calls.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass, field
from time import perf_counter_ns

import trio

from trioload.config import LoadConfig
from trioload.response import (
    BodyLengthError,
    IncompleteResponseError,
    ProtocolError,
    ResponseReader,
)
from trioload.stats import RunStats

RECV_SIZE = 65536

#: The C socket type under ``socket.socket``: the Python subclass adds nothing used here but
#: ~1 µs a request (its ``__init__`` and ``close`` wrappers). Created non-blocking where the
#: platform allows, which also spares a ``setblocking`` system call.
Socket = socket.SocketType
_NONBLOCK: int = getattr(socket, "SOCK_NONBLOCK", 0)
_STREAM_TYPE: int = socket.SOCK_STREAM | _NONBLOCK


@dataclass
class RunState:
    """Shared by the workers: who takes the next request, and when the run ends."""

    config: LoadConfig
    stats: RunStats = field(default_factory=RunStats)
    started: int = 0
    #: set by a time limit or a signal: workers take no new request.
    stopping: bool = False
    start_ns: int = 0
    end_ns: int = 0
    #: copied out of ``config`` for the per-request path (one attribute look-up, not two).
    head_request: bool = field(init=False)
    keep_alive: bool = field(init=False)

    def __post_init__(self) -> None:
        self.head_request = self.config.method == "HEAD"
        self.keep_alive = self.config.keep_alive

    def take(self) -> bool:
        """Claim the next request, if the run still wants one."""
        limit = self.config.requests
        if self.stopping or (limit is not None and self.started >= limit):
            return False
        self.started += 1
        return True

    @property
    def elapsed_s(self) -> float:
        end = self.end_ns or perf_counter_ns()
        return (end - self.start_ns) / 1e9


class _RequestFailedError(Exception):
    """One request failed; ``kind`` is its column in the report."""

    def __init__(self, kind: str, wire_bytes: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.wire_bytes = wire_bytes


def resolve(config: LoadConfig) -> tuple[socket.AddressFamily, tuple[str, int]]:
    """Look the host up once, before the run (a lookup per request would measure DNS)."""
    target = config.target
    family, _, _, _, address = socket.getaddrinfo(
        target.host, target.port, type=socket.SOCK_STREAM
    )[0]
    return family, (str(address[0]), int(address[1]))


async def run_load(state: RunState, family: socket.AddressFamily, address: tuple[str, int]) -> None:
    """Run the whole load; returns when every worker is done or the run was stopped."""
    config = state.config
    request = config.encode_request()
    state.start_ns = perf_counter_ns()
    try:
        async with trio.open_nursery() as nursery:
            if config.time_limit is not None:
                nursery.start_soon(_stop_after, state, config.time_limit)
            async with trio.open_nursery() as workers:
                workers_needed = config.concurrency
                if config.requests is not None:
                    workers_needed = min(workers_needed, config.requests)
                for _ in range(workers_needed):
                    workers.start_soon(_worker, state, family, address, request)
            nursery.cancel_scope.cancel()
    finally:
        state.end_ns = perf_counter_ns()


async def _stop_after(state: RunState, seconds: float) -> None:
    await trio.sleep(seconds)
    state.stopping = True


Dial = tuple[socket.AddressFamily, tuple[str, int], bytes]


class _Attempt:
    """How far the current request got: a timeout before connecting is a Connect failure."""

    __slots__ = ("connected", "start")

    def __init__(self) -> None:
        self.start = 0
        self.connected = False


async def _worker(
    state: RunState, family: socket.AddressFamily, address: tuple[str, int], request: bytes
) -> None:
    """Run requests until the run is over; a timeout costs that request, not the worker."""
    attempt = _Attempt()
    while True:
        # One cancel scope for many requests: moving its deadline per request is much
        # cheaper than entering a new scope each time. Only a timeout gets us past the with.
        with trio.CancelScope() as scope:
            await _run_requests(state, (family, address, request), attempt, scope)
            return
        state.stats.record_failure("receive" if attempt.connected else "connect")


async def _run_requests(
    state: RunState, dial: Dial, attempt: _Attempt, scope: trio.CancelScope
) -> None:
    stats = state.stats
    timeout = state.config.timeout
    # Moving a deadline costs ~3 µs (trio keeps them in a heap), a twentieth of a request's
    # CPU. So the deadline may run up to ``slack`` past a request's own: it moves only when
    # it would fall outside [start + timeout, start + timeout + slack]. It never falls before,
    # so whatever request it cancels had run for at least ``timeout``.
    slack = timeout / 10
    deadline = scope.deadline
    kept: Socket | None = None  # a keep-alive connection carried to the next request
    try:
        while state.take():
            attempt.start = perf_counter_ns()
            attempt.connected = False
            earliest = trio.current_time() + timeout
            if not earliest <= deadline <= earliest + slack:
                deadline = scope.deadline = earliest + slack
            try:
                kept = await _one_request(state, dial, kept, attempt)
            except _RequestFailedError as failure:
                stats.record_failure(failure.kind, failure.wire_bytes)
                kept = None
    finally:
        if kept is not None:
            kept.close()


async def _one_request(
    state: RunState, dial: Dial, kept: Socket | None, attempt: _Attempt
) -> Socket | None:
    """One request on ``kept`` or a new connection; the connection to keep, if any."""
    family, address, request = dial
    start = attempt.start
    reused = kept is not None
    sock = kept if kept is not None else Socket(family, _STREAM_TYPE)
    close = True
    try:
        if reused:
            connected = perf_counter_ns()
            attempt.connected = True
            await _send(sock, memoryview(request))
        else:
            connected = await _connect_and_send(sock, address, request, attempt)
        sent = perf_counter_ns()
        reader = ResponseReader(head_request=state.head_request)
        first_byte = await _receive(sock, reader, keep_alive=state.keep_alive)
        done = perf_counter_ns()
        close = not (state.keep_alive and reader.keep_alive)
    finally:
        if close:
            sock.close()
    stats = state.stats
    if reader.server and not stats.server_software:
        stats.server_software = reader.server.decode("latin-1")
    stats.record_response(
        connect_us=(connected - start) // 1000,
        processing_us=(done - connected) // 1000,
        waiting_us=(first_byte - sent) // 1000,
        total_us=(done - start) // 1000,
        status=reader.status,
        wire_bytes=reader.wire_bytes,
        body_bytes=reader.body_bytes,
        keep_alive=not close,  # ab counts every response that kept the connection
    )
    return None if close else sock


#: errors a first send reports when the connection itself failed.
CONNECT_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH}
)


async def _connect_and_send(
    sock: Socket, address: tuple[str, int], request: bytes, attempt: _Attempt
) -> int:
    """Connect and send the request; the time the connection was up."""
    if not _STREAM_TYPE & _NONBLOCK:
        sock.setblocking(False)
    err = sock.connect_ex(address)
    if err not in (0, errno.EINPROGRESS):
        raise _RequestFailedError("connect")
    connected = perf_counter_ns()
    # On loopback the handshake is over by the time connect returns EINPROGRESS: send at
    # once, and wait for writability (then check the outcome) only if the kernel says so.
    # That saves a scheduler trip and two epoll calls per request.
    view = memoryview(request)
    try:
        view = view[sock.send(view) :]
    except BlockingIOError:
        await trio.lowlevel.wait_writable(sock)
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            raise _RequestFailedError("connect") from None
        connected = perf_counter_ns()
    except OSError as exc:
        raise _RequestFailedError("connect" if exc.errno in CONNECT_ERRNOS else "write") from None
    attempt.connected = True
    if view:  # the rest of a request too big for one send
        await _send(sock, view)
    return connected


async def _send(sock: Socket, view: memoryview) -> None:
    while view:
        try:
            view = view[sock.send(view) :]
        except BlockingIOError:
            await trio.lowlevel.wait_writable(sock)
        except OSError:
            raise _RequestFailedError("write") from None


async def _receive(sock: Socket, reader: ResponseReader, *, keep_alive: bool) -> int:
    """Read the response (to EOF, or to its framed end with keep-alive); first-byte time."""
    first_byte = 0
    # The request has only just left: a recv now would nearly always fail with EAGAIN, so
    # wait for readability first and spare that system call and its exception.
    await trio.lowlevel.wait_readable(sock)
    while True:
        try:
            data = sock.recv(RECV_SIZE)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(sock)
            continue
        except OSError:
            raise _RequestFailedError("receive", reader.wire_bytes) from None
        if not first_byte:
            first_byte = perf_counter_ns()
        try:
            if not data:
                reader.feed_eof()
                return first_byte
            if reader.feed(data) and keep_alive and reader.keep_alive:
                return first_byte
        except (IncompleteResponseError, BodyLengthError) as exc:
            kind = "length" if isinstance(exc, BodyLengthError) else "receive"
            raise _RequestFailedError(kind, reader.wire_bytes) from None
        except ProtocolError:
            raise _RequestFailedError("exceptions", reader.wire_bytes) from None
