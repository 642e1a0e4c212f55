"""The trio engine: one task, one epoll set, and every open connection a small record in it.

Why it looks like this: in trio every wait is a trip through the scheduler, and a task per
connection costs more than the whole request. So the server keeps its own ``select.epoll`` set
holding the listening socket and every connection that waits for something (its request, the
rest of a head, a body to skip, the next keep-alive request, its client's EOF), and one trio
task waits on that set's descriptor with ``trio.lowlevel.wait_readable``: one wake-up serves
every connection that is ready. trio still owns the run: the nursery, cancellation, signals,
and the deadlines, which come from trio's clock (``move_on_at`` around the wait).

A keep-alive-off client (ab, wrk with ``Connection: close``) usually has its whole request in
the kernel by the time it is accepted, so each accepted connection is read at once and, when
the read holds a whole request, answered and closed right there: accept, read, write, close,
with no record and no registration. Connections are bare descriptors (``trioserve.sockets``),
and what to answer is ``trioserve.exchange``'s business, which is plain code.

Deadlines: each waiting connection has one deadline (its phase's, see ``exchange``) and at most
one live entry in a heap of timers. A deadline that moves later keeps its entry, which re-arms
itself when it comes due; so a busy keep-alive connection costs no heap operation a request.

As a calibration target for load generators, the server can also be slow on purpose, still in
this one task. ``--delay``: each response is held in a FIFO of (due, connection, bytes) and
written when due; its connection leaves the epoll set meanwhile, so its next request waits in
the kernel and responses keep their order. ``--stall-every``/``--stall-for``: the loop sleeps
through each stall of the schedule (``trioserve.pacing``), accepting, reading and writing
nothing; whatever arrives meanwhile queues in the kernel, and deadlines that fall inside a
stall are handled after it. Without either, the loop does what it did before: one flag and one
float comparison tell it so.
"""

from __future__ import annotations

import errno
import heapq
import itertools
import math
import os
import select
import socket
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Protocol

import trio

from trioserve.config import ServerConfig
from trioserve.exchange import CLOSED, LINGER, AnswerLog, Exchange, Phase, Rules
from trioserve.listener import bind_listener
from trioserve.log import access_log, client_host, log
from trioserve.pacing import StallSchedule
from trioserve.sockets import accept_descriptor, half_close, set_nonblocking, try_write_once
from trioserve.stats import ServerStats

#: One read: a typical head is under 200 bytes, a burst of pipelined ones a few KiB.
RECV_SIZE = 8192
#: While lingering, bytes are read only to be discarded: take them in big pieces.
DRAIN_SIZE = 65536
#: Accept at most this many connections per readiness event of the listener.
ACCEPT_BATCH = 64
#: Events taken from the epoll set per poll.
MAX_EVENTS = 512
#: While connections keep being ready, poll again at once, and yield to trio (its own
#: epoll_wait, signals, other tasks, cancellation) only after this many events.
YIELD_EVERY = 256
#: accept(2) failures that mean "out of a resource": back off, keep serving.
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
RESOURCE_BACKOFF_S = 0.05

_READ = select.EPOLLIN
_WRITE = select.EPOLLOUT
#: ``watching`` of a connection whose --delay response is held: out of the epoll set, yet open.
_HELD = -1


class Conversation(Protocol):
    """What the engine asks of a connection's exchange: ``Exchange``, or ``TlsExchange``."""

    @property
    def phase(self) -> Phase: ...
    def received(self, data: bytes) -> bytes: ...
    def timed_out(self) -> bytes: ...
    def client_closed(self) -> bytes: ...


#: Makes each accepted connection's exchange from (rules, stats, access log).
ExchangeFactory = Callable[[Rules, ServerStats, AnswerLog | None], Conversation]


class _Connection:
    """The engine's record of one open connection: its descriptor and what it waits for."""

    __slots__ = ("armed", "client", "deadline", "exchange", "fd", "pending", "watching")

    def __init__(self, fd: int, exchange: Conversation) -> None:
        self.fd = fd
        self.exchange = exchange
        #: when its current phase (or a stalled write) runs out of time.
        self.deadline = math.inf
        #: the time of its live entry in the timer heap; inf when it has none.
        self.armed = math.inf
        #: response bytes the socket did not take yet; while any, it waits to write, not read.
        self.pending = b""
        #: the epoll events it is registered for (0: not in the set; _HELD: see ``_hold``).
        self.watching = 0


class Server:
    """One listening socket and the connections it accepted."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.stats = ServerStats()
        self._rules = Rules.build(config)
        #: plain HTTP here; ``trioserve.tls_server`` puts TLS in its place, once, at start.
        self._new_exchange: ExchangeFactory = Exchange
        # the ones in the epoll set, and those holding a --delay response, by fd
        self._connections: dict[int, _Connection] = {}
        self._timers: list[tuple[float, int, _Connection]] = []  # a heap
        self._tiebreak = itertools.count()  # heap entries never compare connections
        self._poller: select.epoll | None = None
        self._listener: socket.socket | None = None
        self._accept_paused = False  # at max_connections: the listener is out of the set
        self._accept_resumes_at = math.inf  # after a resource error
        self._backing_off = False
        self._waiting = trio.CancelScope()  # the current wait; stop() cancels it
        self._everything = trio.CancelScope()
        self._grace_ends = math.inf
        self.stopping = False
        if not (math.isfinite(config.response_delay) and config.response_delay >= 0):
            raise ValueError(f"response_delay must be >= 0 s, got {config.response_delay}")
        self._delay = config.response_delay
        # Read once per response: without --delay, a response is written as it always was.
        self._delaying = config.response_delay > 0
        # Held responses, (due, connection, bytes) in arrival order: every delay is the same, so
        # arrival order is due order and a FIFO does what a heap would, in O(1).
        self._delayed: deque[tuple[float, _Connection, bytes]] = deque()
        self._stalls: StallSchedule | None = None
        if config.stall_every or config.stall_for:
            self._stalls = StallSchedule(config.stall_every, config.stall_for)  # checks them
        self._next_stall = math.inf  # the loop looks at the schedule only from this time on
        #: trio's time when ``serve`` began: the stall schedule counts from it.
        self.listening_since = math.nan

    # -- lifecycle -------------------------------------------------------------------------

    async def serve(
        self,
        listener: socket.socket | None = None,
        *,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept until ``stop()``, give open connections ``grace`` seconds, then return.

        ``listener`` is a socket from ``bind_listener`` (bound by the caller so that a bind
        error surfaces plainly); by default the server binds its own.
        """
        if listener is None:
            listener = bind_listener(self.config)
        with self._everything, listener, select.epoll() as poller:
            self._listener, self._poller = listener, poller
            poller.register(listener.fileno(), _READ)
            self.listening_since = start = trio.current_time()
            if self._stalls is not None:
                self._next_stall = self._stalls.next_stall(start, start)
            task_status.started(listener.getsockname()[1])
            try:
                await self._run(poller)
            finally:
                for conn in list(self._connections.values()):
                    self._close(conn)
                trio.lowlevel.notify_closing(poller)

    def stop(self) -> None:
        """Graceful shutdown: stop accepting; open connections get ``grace`` seconds."""
        if self.stopping:
            return
        self.stopping = True
        now = trio.current_time()
        self._grace_ends = now + self.config.grace
        if self._listener is not None:
            self._take_the_queue(now)
            self._listener.close()  # new clients get refused at once, not queued
        self._waiting.cancel()

    def _take_the_queue(self, now: float) -> None:
        """Accept what the kernel has queued before the listener closes: those clients have
        connected (and, deferring accepts, sent their request), and the close would reset them.

        At most a backlog's worth: under load the queue refills as fast as it is taken, and
        the listener must close in the end. A client whose handshake the kernel completes
        between the last accept and the close is still reset; the rest are refused.
        """
        listener = self._listener
        assert listener is not None
        for _ in range(self.config.backlog):
            try:
                fd, peer = accept_descriptor(listener)
            except OSError:  # drained (EAGAIN), or out of descriptors: the rest get reset
                return
            self._start(fd, peer, now)

    def abort(self) -> None:
        """Immediate shutdown: close every connection now."""
        self._everything.cancel()

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    # -- the loop --------------------------------------------------------------------------

    async def _run(self, poller: select.epoll) -> None:
        """Serve ready descriptors until stopped and drained (or the grace period is over)."""
        listen_fd = self._listener.fileno() if self._listener is not None else -1
        delaying = self._delaying
        delayed = self._delayed
        handled = 0
        while True:
            now = trio.current_time()
            if now >= self._next_stall:  # never without --stall-every: it stays inf
                stall_end = self._stall_end(now)
                if stall_end is not None:
                    # The check below, made here because the stall comes first: a stop still
                    # ends the run once nothing is open or the grace is over.
                    if self.stopping and (not self._connections or now >= self._grace_ends):
                        return
                    with trio.CancelScope() as self._waiting:  # stop() wakes it to check
                        await trio.sleep_until(min(stall_end, self._grace_ends))
                    continue
            if self._timers and self._timers[0][0] <= now:
                self._expire(now)
            if delaying and delayed and delayed[0][0] <= now:
                self._send_due(now)
            if self.stopping and (not self._connections or now >= self._grace_ends):
                return
            if now >= self._accept_resumes_at:
                self._resume_accepting()
            events = poller.poll(0, MAX_EVENTS)
            if events:
                self._handle(events, listen_fd, now)
                handled += len(events)
                if handled >= YIELD_EVERY:
                    handled = 0
                    await trio.lowlevel.checkpoint()
                continue
            handled = 0
            with trio.move_on_at(self._next_wake()) as self._waiting:
                await trio.lowlevel.wait_readable(poller)

    def _next_wake(self) -> float:
        wake = self._timers[0][0] if self._timers else math.inf
        if self._delayed:
            wake = min(wake, self._delayed[0][0])
        if self.stopping:
            wake = min(wake, self._grace_ends)
        # Never past the next stall's start: the loop must be there to begin it.
        return min(wake, self._accept_resumes_at, self._next_stall)

    def _stall_end(self, now: float) -> float | None:
        """The end of the stall ``now`` is in; else None, and the next stall's start noted."""
        stalls = self._stalls
        assert stalls is not None
        end = stalls.stall_end(self.listening_since, now)
        if end is None:
            self._next_stall = stalls.next_stall(self.listening_since, now)
        return end

    def _handle(self, events: list[tuple[int, int]], listen_fd: int, now: float) -> None:
        connections = self._connections
        for fd, _ in events:
            if fd == listen_fd:
                if not self.stopping:
                    self._accept_some(now)
                continue
            conn = connections.get(fd)
            if conn is None:
                continue  # closed earlier in this batch
            try:
                if conn.pending:
                    self._flush(conn, now)
                else:
                    self._read(conn, now)
            except Exception as exc:  # a bug must cost one connection, never the server
                self._internal_error(conn, exc)

    # -- accepting -------------------------------------------------------------------------

    def _accept_some(self, now: float) -> None:
        listener = self._listener
        assert listener is not None
        for _ in range(ACCEPT_BATCH):
            try:
                fd, peer = accept_descriptor(listener)
            except BlockingIOError:
                if self._backing_off:  # the queue is drained: the episode is over
                    self._backing_off = False
                    log(f"accept recovered ({self.stats.accept_backoffs} back-offs so far)")
                return
            except OSError as exc:
                if exc.errno in RESOURCE_ERRNOS:
                    self._back_off(exc, now)
                    return
                continue  # ECONNABORTED and friends: that client is gone, the next one isn't
            self._start(fd, peer, now)
            if len(self._connections) >= self.config.max_connections:
                self._pause_accepting()  # backpressure: the backlog holds the next ones
                return

    def _start(self, fd: int, peer: object, now: float) -> None:
        """A new connection: answer it at once if its request is in, else let it wait."""
        self.stats.accepted += 1
        log_answer = None
        if self.config.access_log:
            log_answer = partial(access_log, client_host(peer))
        conn = _Connection(fd, self._new_exchange(self._rules, self.stats, log_answer))
        try:
            set_nonblocking(fd)
            data = os.read(fd, RECV_SIZE)
        except BlockingIOError:
            self.stats.waited += 1
            self._arm(conn, now + self.config.head_timeout)
            self._watch(conn, _READ)
            return
        except OSError:
            self.stats.socket_errors += 1
            self._close(conn)
            return
        try:
            self._received(conn, data, now, restart=True)
        except Exception as exc:
            self._internal_error(conn, exc)

    def _back_off(self, exc: OSError, now: float) -> None:
        """Out of descriptors or memory: stop accepting a little while (or until a close)."""
        self.stats.accept_backoffs += 1
        if not self._backing_off:
            self._backing_off = True
            log(f"accept failed: {exc.strerror}; backing off until resources free up")
        self._pause_accepting()
        self._accept_resumes_at = now + RESOURCE_BACKOFF_S

    def _pause_accepting(self) -> None:
        if not self._accept_paused and self._listener is not None and self._poller is not None:
            self._poller.modify(self._listener, 0)
            self._accept_paused = True

    def _resume_accepting(self) -> None:
        self._accept_resumes_at = math.inf
        if self._accept_paused and not self.stopping and self._poller is not None:
            assert self._listener is not None
            self._poller.modify(self._listener, _READ)
            self._accept_paused = False

    # -- moving bytes ------------------------------------------------------------------------

    def _read(self, conn: _Connection, now: float) -> None:
        size = DRAIN_SIZE if conn.exchange.phase is LINGER else RECV_SIZE
        try:
            data = os.read(conn.fd, size)
        except BlockingIOError:
            return  # a stale event (the descriptor was reused within one batch)
        except OSError:
            self.stats.socket_errors += 1
            self._close(conn)
            return
        self._received(conn, data, now, restart=False)

    def _received(self, conn: _Connection, data: bytes, now: float, *, restart: bool) -> None:
        """Hand the bytes (or EOF) to the exchange, send its answer, and wait for what's next."""
        exchange = conn.exchange
        phase = exchange.phase
        out = exchange.received(data) if data else exchange.client_closed()
        if out:
            if self._delaying:
                self._hold(conn, out)
                return
            if not self._write(conn, out, now):
                return
            restart = True  # a response went out: the next phase starts its clock now
        self._follow(conn, now, restart=restart or exchange.phase is not phase, answered=bool(out))

    def _write(self, conn: _Connection, out: bytes, now: float) -> bool:
        """Send ``out``; True when it all went. A short write waits for room, under a deadline."""
        try:
            sent = os.write(conn.fd, out)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.stats.socket_errors += 1
            self._close(conn)
            return False
        if sent == len(out):
            return True
        conn.pending = out[sent:]
        self._arm(conn, now + self.config.head_timeout)
        self._watch(conn, _WRITE)
        return False

    def _flush(self, conn: _Connection, now: float) -> None:
        """The socket has room again: send the rest, then go on as ``_received`` would."""
        pending, conn.pending = conn.pending, b""
        if self._write(conn, pending, now):
            self._follow(conn, now, restart=True, answered=True)

    def _follow(self, conn: _Connection, now: float, *, restart: bool, answered: bool) -> None:
        """After a read or a write: close, or arm the phase's deadline and wait to read."""
        phase = conn.exchange.phase
        if phase is CLOSED:
            self._close(conn)
            return
        if phase is LINGER and answered:
            half_close(conn.fd)  # the final response is out: the client sees EOF
        if restart:
            self._arm(conn, now + self._rules.deadline_after(phase))
        if conn.watching != _READ:
            self._watch(conn, _READ)

    # -- --delay -----------------------------------------------------------------------------

    def _hold(self, conn: _Connection, out: bytes) -> None:
        """Keep ``out`` until it is due; the connection is neither read nor timed meanwhile."""
        # The clock now, not the loop's ``now`` (taken before this read): never early.
        due = trio.current_time() + self._delay
        if conn.watching:
            assert self._poller is not None
            # Out of the set: its next request waits in the kernel until this response is out,
            # so responses keep their order, and its events cannot wake the loop meanwhile.
            self._poller.unregister(conn.fd)
        conn.watching = _HELD
        conn.deadline = math.inf  # the wait is ours: its phase's deadline starts after the write
        # Still open: it counts for max_connections and the grace, and _close forgets it.
        self._connections[conn.fd] = conn
        self._delayed.append((due, conn, out))

    def _send_due(self, now: float) -> None:
        """Write the held responses that are due, oldest first, and go on as ``_received``."""
        delayed = self._delayed
        while delayed and delayed[0][0] <= now:
            _, conn, out = delayed.popleft()
            if conn.fd < 0:
                continue
            # Still _HELD: _write and _follow put it back in the set for what it waits for
            # next, or _close forgets it (and resumes accepting) as any open connection.
            try:
                if self._write(conn, out, now):
                    self._follow(conn, now, restart=True, answered=True)
            except Exception as exc:
                self._internal_error(conn, exc)

    def _watch(self, conn: _Connection, events: int) -> None:
        assert self._poller is not None
        if conn.watching > 0:
            self._poller.modify(conn.fd, events)
        else:
            self._poller.register(conn.fd, events)
            self._connections[conn.fd] = conn
        conn.watching = events

    def _close(self, conn: _Connection) -> None:
        """Close the descriptor (which also takes it out of the epoll set) and forget it."""
        if conn.fd < 0:
            return
        if conn.watching:  # in the set, or _HELD: either way in _connections
            del self._connections[conn.fd]
            if self._accept_paused:
                self._resume_accepting()  # below max_connections again, or a descriptor freed
        os.close(conn.fd)
        conn.fd = -1

    def _internal_error(self, conn: _Connection, exc: Exception) -> None:
        self.stats.internal_errors += 1
        log(f"internal error on a connection: {exc!r}")
        self._close(conn)

    # -- deadlines -------------------------------------------------------------------------

    def _arm(self, conn: _Connection, deadline: float) -> None:
        conn.deadline = deadline
        if deadline < conn.armed:  # later deadlines ride on the entry already there
            conn.armed = deadline
            heapq.heappush(self._timers, (deadline, next(self._tiebreak), conn))

    def _expire(self, now: float) -> None:
        """Every connection whose deadline has passed: its last word, if any, then close."""
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, _, conn = heapq.heappop(timers)
            if conn.armed != at or conn.fd < 0:
                continue  # superseded by an earlier entry, or closed
            conn.armed = math.inf
            if conn.deadline > now:
                self._arm(conn, conn.deadline)  # it moved later since: wait again
                continue
            if conn.pending:
                self.stats.timeouts += 1  # the client stopped reading our response
            else:
                last_word = conn.exchange.timed_out()
                if last_word:
                    try_write_once(conn.fd, last_word)
            self._close(conn)
