"""The task engine: one trio task per connection slot, parked in ``wait_readable`` per request.

The fallback for platforms without ``epoll`` (see ``trioload.engine.shards`` for the fast
engine, and ``--engine`` to pick one). Each request uses a plain non-blocking stdlib socket:
``connect_ex``, one ``send``, ``recv`` until the response ends, and trio's
``wait_writable``/``wait_readable`` only when a call would block.
"""

from __future__ import annotations

import errno
import math
import socket
from time import perf_counter_ns

import trio

from trioload.engine.response import KnownResponses, ResponseReader
from trioload.engine.schedule import EARLY_NS
from trioload.engine.state import EngineState
from trioload.engine.wire import (
    READ_ERRORS,
    RECV_SIZE,
    Address,
    Socket,
    failure_kind,
    first_send_failure,
    new_socket,
    record_response,
)
from trioload.results.tally import Failure


async def run_tasks(
    state: EngineState, family: socket.AddressFamily, address: Address, request: bytes, slots: int
) -> None:
    """Run ``slots`` connection tasks until the run wants no more requests (they share what
    responses they have read before)."""
    known = KnownResponses(state.head_request)
    async with trio.open_nursery() as nursery:
        for _ in range(slots):
            nursery.start_soon(_slot, state, (family, address, request), known)


#: where to connect and what to send: (family, address, encoded request).
_Target = tuple[socket.AddressFamily, Address, bytes]


class _Attempt:
    """How far the current request got: a timeout before connecting is a Connect failure."""

    __slots__ = ("connected", "due", "first_data", "start")

    def __init__(self) -> None:
        self.start = 0
        #: with a schedule, when the request was due; else 0.
        self.due = 0
        self.connected = False
        #: with ``-v``, the response's first bytes (its head, for the log).
        self.first_data = b""


async def _slot(state: EngineState, target: _Target, known: KnownResponses) -> None:
    """Run requests until the run is over; a timeout costs that request, not the slot."""
    attempt = _Attempt()
    while True:
        # One cancel scope for many requests: moving its deadline per request is much
        # cheaper than entering a new scope each time. Only a timeout gets us past the with.
        with trio.CancelScope() as scope:
            await _run_requests(state, target, known, attempt, scope)
            return
        state.tally.record_failure(Failure.RECEIVE if attempt.connected else Failure.CONNECT)


class RequestFailedError(Exception):
    """One request failed; ``kind`` is its column in the report."""

    def __init__(self, kind: Failure, wire_bytes: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.wire_bytes = wire_bytes


async def _run_requests(
    state: EngineState,
    target: _Target,
    known: KnownResponses,
    attempt: _Attempt,
    scope: trio.CancelScope,
) -> None:
    tally = state.tally
    timeout = state.config.timeout
    # Moving a deadline is not cheap (trio keeps them in a heap) next to a request's own
    # CPU. So the deadline may run up to ``slack`` past a request's own: it moves only when
    # it would fall outside [start + timeout, start + timeout + slack]. It never falls before,
    # so whatever request it cancels had run for at least ``timeout``.
    slack = timeout / 10
    deadline = scope.deadline
    kept: Socket | None = None  # a keep-alive connection carried to the next request
    try:
        while state.take():
            due = 0
            held = False  # the task held the request before it was due
            if state.schedule is not None:
                due = state.due_ns()
                if not due:  # due after -t is up
                    break
                # Due before -t is up (or not taken): sent even by a wake that came after.
                wait_s = (due - EARLY_NS - perf_counter_ns()) / 1e9
                held = wait_s > 0
                if held:
                    deadline = scope.deadline = math.inf  # waiting is not the request's time
                    await trio.sleep(wait_s)
                    if kept is not None and _closed_by_peer(kept):
                        kept.close()  # the server closed it while it idled: reconnect
                        kept = None
            attempt.start = perf_counter_ns()
            attempt.due = due = min(due, attempt.start) if due else 0
            if due:
                tally.record_lag((attempt.start - due) // 1000, held)
            attempt.connected = False
            earliest = trio.current_time() + timeout
            if not earliest <= deadline <= earliest + slack:
                deadline = scope.deadline = earliest + slack
            try:
                kept = await _one_request(state, target, known, kept, attempt)
            except RequestFailedError as failure:
                tally.record_failure(failure.kind, failure.wire_bytes)
                kept = None
    finally:
        if kept is not None:
            kept.close()


def _closed_by_peer(sock: Socket) -> bool:
    """Whether an idle kept-alive connection was closed (or sent something unasked)."""
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True  # EOF, or bytes no request asked for: either way not reusable


async def _one_request(
    state: EngineState,
    target: _Target,
    known: KnownResponses,
    kept: Socket | None,
    attempt: _Attempt,
) -> Socket | None:
    """One request on ``kept`` or a new connection; the connection to keep, if any."""
    family, address, request = target
    reused = kept is not None
    sock = kept if kept is not None else new_socket(family)
    close = True
    try:
        if reused:
            connected = perf_counter_ns()
            attempt.connected = True
            await _send(sock, memoryview(request))
        else:
            connected = await _connect_and_send(sock, address, request, attempt)
        sent = perf_counter_ns()
        reader = ResponseReader(known=known)
        first_byte = await _receive(sock, reader, attempt, state)
        done = perf_counter_ns()
        close = not (state.keep_alive and reader.keep_alive)
    finally:
        if close:
            sock.close()
    response = reader.response()
    start, due = attempt.start, attempt.due
    record_response(
        state.tally, response, start, connected, sent, first_byte, done, not close, due, -1
    )
    if state.log is not None:
        state.log.response(response, (start, connected, sent, first_byte, done), attempt.first_data)
    return None if close else sock


async def _connect_and_send(
    sock: Socket, address: Address, request: bytes, attempt: _Attempt
) -> int:
    """Connect and send the request; the time the connection was up."""
    err = sock.connect_ex(address)
    if err not in (0, errno.EINPROGRESS):
        raise RequestFailedError(Failure.CONNECT)
    connected = perf_counter_ns()
    # On loopback the handshake is over by the time connect returns EINPROGRESS: send at
    # once, and wait for writability (then check the outcome) only if the kernel says so.
    view = memoryview(request)
    try:
        view = view[sock.send(view) :]
    except BlockingIOError:
        await trio.lowlevel.wait_writable(sock)
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            raise RequestFailedError(Failure.CONNECT) from None
        connected = perf_counter_ns()
    except OSError as exc:
        raise RequestFailedError(first_send_failure(exc)) from None
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
            raise RequestFailedError(Failure.WRITE) from None


async def _receive(
    sock: Socket, reader: ResponseReader, attempt: _Attempt, state: EngineState
) -> int:
    """Read the response (to EOF, or to its framed end with keep-alive); first-byte time."""
    keep_alive = state.keep_alive
    keep_first_data = state.log is not None and state.log.wants_heads
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
            raise RequestFailedError(Failure.RECEIVE, reader.wire_bytes) from None
        if not first_byte:
            first_byte = perf_counter_ns()
            if keep_first_data:
                attempt.first_data = data
        try:
            if not data:
                reader.feed_eof()
                return first_byte
            if reader.feed(data) and keep_alive and reader.keep_alive:
                return first_byte
        except READ_ERRORS as exc:
            raise RequestFailedError(failure_kind(exc, sock), reader.wire_bytes) from None
