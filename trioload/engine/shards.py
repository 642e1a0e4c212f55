"""The shard engine: one trio task per 1024 connections, each serving them from one epoll set.

Why it looks like this: a trio task parked in ``wait_readable`` per request costs a task switch
and two epoll registrations, more CPU than the Python work of the request itself. A shard
instead registers each of its sockets once in a private ``select.epoll`` set and waits on that
set's own descriptor with ``trio.lowlevel.wait_readable``: one wake-up serves every socket of
the shard that is ready, with no task switch and no trio registration per request. trio still
owns the run (the nursery, cancellation, the time limit, signals, progress): only the
per-request scheduling is batched.

Each shard holds a fixed number of *slots* (its share of ``-c``); a slot has at most one
request in flight, so exactly ``-c`` requests run at once across the shards. A request moves
through connect → send → receive as a small state machine driven by readiness events. Its start
times are ``perf_counter_ns`` readings taken right around the system calls, as in
``trioload.engine.tasks``; its response times are the kernel's receive timestamps where the
platform has them (``trioload.engine.kernel_clock``, ``--clock``), converted to that clock, so
that a response read late in a long batch is not counted late.

Timeouts: every request of a run has the same ``-s``, so no request needs a timer of its own. A
shard sweeps its slots every ``-s``/16 and fails the requests that have run for ``-s``, and
wakes for the next sweep (``move_on_at`` around the wait) while any is in flight: no heap, no
queue, no cancel scope, nothing at all per request. A hung request ends between ``-s`` and
17/16 of it after it started.

The response: nearly every read is a whole response seen before (a benchmark's responses
repeat), found by its bytes in the shard's ``KnownResponses`` (``trioload.engine.response``);
only the others get a ``ResponseReader``, which shares that object.

With a schedule (``-R``), a slot that takes a request not yet due waits for it in another FIFO
queue: requests are taken in schedule order, so the queue's head is always the next one due.
The shard then wakes in ticks (``trioload.engine.schedule.TICK_NS``): each wake sends what is due
before the next. While the slots already hold every request the next wake will send, that wake
is at most a tick away and no slot is connecting or writing, responses do not wake the shard:
they are read at that wake, timed by the kernel's clock. Reading them sooner would start no
request sooner (``tick_wake``). The run's only shard sleeps till then without trio's scheduler
(``trioload.engine.doze``).

A subclass changes how connections are made through a few override points of ``Shard``:
``connect`` (open one and send the request), ``finish_connect`` (a connecting socket is
ready), ``disconnect`` (close one), ``WOULD_BLOCK`` (what its sockets raise when a call
would block) and ``KERNEL_STAMPS`` (whether its sockets can hand over the kernel's receive
timestamps). The rest of the loop is shared.
"""

from __future__ import annotations

import errno
import math
import select
import socket
from collections import deque
from enum import IntEnum
from time import perf_counter_ns
from typing import ClassVar

import trio

from trioload.config import split
from trioload.engine import kernel_clock
from trioload.engine.doze import doze_until
from trioload.engine.kernel_clock import ANCILLARY_SIZE, timespec
from trioload.engine.response import KnownResponses, Response, ResponseReader
from trioload.engine.schedule import EARLY_NS, tick_wake
from trioload.engine.state import EngineState
from trioload.engine.wire import (
    READ_ERRORS,
    RECV_SIZE,
    Address,
    Socket,
    failure_kind,
    first_send_failure,
    record_response,
    socket_factory,
)
from trioload.results.tally import KERNEL_CLOCK, READ_CLOCK, Failure

#: slots per shard: c=1000 runs in one shard. Shards share one thread, so more of them buy no
#: parallelism: each costs its own trio wake-up per batch, and one shard's long batch delays
#: the others' (split into several, the same load ran no faster and with a worse p99). Past
#: 1024 connections a run gets a shard per 1024.
SLOTS_PER_SHARD = 1024
#: a shard looks for requests past ``-s`` every ``-s`` / SWEEPS_PER_TIMEOUT, and not more
#: often than every MIN_SWEEP_NS.
SWEEPS_PER_TIMEOUT = 16
MIN_SWEEP_NS = 1_000_000
#: events taken from the epoll set per poll.
MAX_EVENTS = 512
#: while sockets keep being ready, a shard polls again at once and yields to trio (a scheduler
#: pass: its own epoll_wait, the other tasks) only after this many events: a busy poll finds
#: only a few ready sockets, and a scheduler pass for each few showed in every request's CPU.
YIELD_EVERY = 256

AVAILABLE = hasattr(select, "epoll")

#: what a slot waits for in the epoll set: to read, to write.
IN = select.EPOLLIN if AVAILABLE else 1
OUT = select.EPOLLOUT if AVAILABLE else 4


class Phase(IntEnum):
    """Where a slot's request is: what its socket waits for next."""

    #: no request (finished, or waiting to start its next one).
    IDLE = 0
    #: the connection is not up yet: the connect, and whatever set-up a subclass adds before
    #: the request, is under way. A request timed out here counts as a Connect failure.
    CONNECTING = 1
    #: connected; the rest of the request waits for room in the send buffer.
    SENDING = 2
    #: the request is sent; reading the response.
    RECEIVING = 3


# Module constants, as plain ints: the per-request path reads a global, not a global and an
# attribute, and CPython compares ints faster than IntEnum members.
_IDLE, _CONNECTING, _SENDING, _RECEIVING = (int(phase) for phase in Phase)


async def run_shards(
    state: EngineState,
    family: socket.AddressFamily,
    address: Address,
    request: bytes,
    slots: int,
    *,
    shard: type[Shard] | None = None,
) -> None:
    """Run ``slots`` concurrent requests over as few shards as ``SLOTS_PER_SHARD`` allows
    (``shard``: the class of shard, plain TCP unless given)."""
    shard = Shard if shard is None else shard
    stamps = shard.KERNEL_STAMPS and state.config.clock != READ_CLOCK
    keeper = kernel_clock.keep_on() if stamps else None  # stamping on for the whole run
    state.clock = KERNEL_CLOCK if keeper is not None else READ_CLOCK
    try:
        async with trio.open_nursery() as nursery:
            shares = split(slots, math.ceil(slots / SLOTS_PER_SHARD))
            for share in shares:
                one = shard(state, family, address, request, share)
                one.alone = len(shares) == 1
                nursery.start_soon(one.run)
    finally:
        if keeper is not None:
            keeper.close()


class Slot:
    """One connection's worth of the shard: its socket and the request in flight on it."""

    __slots__ = (
        "arrived",
        "connected",
        "due",
        "fd",
        "first_byte",
        "first_data",
        "phase",
        "read_lag",
        "reader",
        "response",
        "sent",
        "sock",
        "start",
        "unsent",
    )

    def __init__(self) -> None:
        self.phase = _IDLE
        self.sock: Socket | None = None
        self.fd = -1
        #: the response in flight, once its first bytes are in: a known whole one, or else a
        #: reader that parses it.
        self.response: Response | None = None
        self.reader: ResponseReader | None = None
        self.unsent = memoryview(b"")
        # perf_counter_ns readings of the request in flight.
        self.start = self.connected = self.sent = self.first_byte = 0
        #: when the response's last bytes read so far arrived (by the kernel's clock, or else
        #: when they were read): its end, once it is whole.
        self.arrived = 0
        #: by the kernel's clock, how long after its arrival that read was made (ns); else -1.
        self.read_lag = -1
        #: the first read of the response: its head for ``-v``, and what a reader is fed first
        #: when bytes follow a known whole response.
        self.first_data = b""
        #: with a schedule, when the request in flight (or waiting) was due; else 0.
        self.due = 0

    def received(self) -> int:
        """Bytes of the response in flight received so far (a failure counts them)."""
        if self.reader is not None:
            return self.reader.wire_bytes
        return self.response.wire_bytes if self.response is not None else 0


class Shard:
    """A trio task multiplexing ``slots`` connections over one epoll set.

    Override points, for a shard whose connections are made differently: ``connect``,
    ``finish_connect``, ``disconnect`` and ``WOULD_BLOCK``. Such a subclass calls
    ``after_send`` once its connection is up and the request's first send is done, and
    ``fail`` when a request fails.
    """

    #: what the shard's sockets raise when a call would block (evaluated only when one raises:
    #: no cost to a request whose calls do not). A subclass whose sockets say so with other
    #: exceptions as well names them here.
    WOULD_BLOCK: ClassVar[tuple[type[OSError], ...]] = (BlockingIOError,)
    #: whether a response's times are the kernel's receive timestamps (where the platform
    #: has them): its sockets are asked for them, and a read that may end a response uses
    #: ``recvmsg``. A subclass whose sockets cannot hand them over (TLS) sets False: its
    #: responses are stamped when read.
    KERNEL_STAMPS: ClassVar[bool] = kernel_clock.AVAILABLE

    def __init__(
        self,
        state: EngineState,
        family: socket.AddressFamily,
        address: Address,
        request: bytes,
        slots: int,
    ) -> None:
        self.state = state
        self.tally = state.tally
        config = state.config
        self.new_socket = socket_factory(family, config.local_address, config.socket_buffer)
        self.log = state.log
        self.keep_alive = state.keep_alive
        #: what this shard's responses have been before, and the look-up of a whole one.
        self.known = KnownResponses(state.head_request)
        self.find_known = self.known.find
        self.address = address
        self.request = request
        self.timeout_ns = int(state.config.timeout * 1e9)
        self.slots = [Slot() for _ in range(slots)]
        #: slots that still take part in the run (in flight, or about to start a request).
        self.active = slots
        #: slots whose next request starts at the top of the loop (not inline: a request that
        #: fails at once, as on a refused port, would otherwise chain without a checkpoint).
        self.to_start: list[Slot] = list(self.slots)
        self.by_fd: dict[int, Slot] = {}
        self.sweep_ns = max(self.timeout_ns // SWEEPS_PER_TIMEOUT, MIN_SWEEP_NS)
        self.next_sweep_ns = 0
        self.schedule = state.schedule
        #: with a schedule: slots holding a request that is not due yet, in due order.
        self.waiting: deque[Slot] = deque()
        #: with a schedule: when the last pass over ``waiting`` ran, which sent every request
        #: due up to ``EARLY_NS`` after it.
        self.last_pass_ns = 0
        #: slots making a connection or writing a request (CONNECTING or SENDING): while any
        #: is, a ready socket always wakes the shard (``tick_wake``).
        self.writing = 0
        self.poller = select.epoll()
        self.stamped = state.clock == KERNEL_CLOCK
        #: converts a kernel stamp to ``perf_counter_ns``'s clock (``kernel_clock``).
        self.clock_offset = kernel_clock.offset_ns()
        #: whether this is the run's only shard: then, between ticks, it may sleep without
        #: trio's scheduler (``doze``), as no other shard's sockets wait on trio meanwhile.
        self.alone = False

    async def run(self) -> None:
        """Serve the slots until the run wants no more requests (or the task is cancelled)."""
        poller = self.poller
        served = 0  # events and starts handled since this task last let trio run the others
        try:
            while True:
                if self.to_start or self.waiting:
                    served += self._start_pending()
                if not self.active:
                    return
                events = poller.poll(0, MAX_EVENTS)
                if not events and not self.to_start:
                    served = 0
                    await self._wait()
                    events = poller.poll(0, MAX_EVENTS)
                elif served >= YIELD_EVERY:
                    # Always ready: still let the other tasks (progress, signals) run.
                    served = 0
                    await trio.lowlevel.checkpoint()
                served += len(events)
                self.serve(events)
                now = perf_counter_ns()
                if now >= self.next_sweep_ns:
                    self.sweep(now)
                    if self.stamped:  # cheap, and rare: catches a step of the wall clock
                        self.clock_offset = kernel_clock.offset_ns()
        finally:
            for slot in self.slots:
                if slot.sock is not None:
                    slot.sock.close()
            poller.close()

    def serve(self, events: list[tuple[int, int]]) -> None:
        """Move each ready connection's request on (``events``: one poll's (fd, mask) pairs;
        the tests slow it down to make a busy client)."""
        by_fd = self.by_fd
        for fd, _mask in events:
            slot = by_fd.get(fd)
            if slot is None:
                continue
            if slot.phase == _RECEIVING:  # nearly every event: straight to the read
                self._receive(slot)
            else:
                self._on_ready(slot)

    # -- starting requests -------------------------------------------------------------------

    def _start_pending(self) -> int:
        """Start the requests of the slots freed by a failure, and the scheduled ones whose
        time has come; how many slots that was."""
        starting, self.to_start = self.to_start, []
        for idle in starting:
            self._start_next(idle)
        return len(starting) + (self._start_due(perf_counter_ns()) if self.waiting else 0)

    def _start_next(self, slot: Slot) -> None:
        """Start the slot's next request, or retire the slot once the run wants no more."""
        state = self.state
        if not state.take():
            self._retire(slot)
            return
        start = perf_counter_ns()
        if self.schedule is not None:
            due = state.due_ns()
            if not due:  # due after -t is up
                self._retire(slot)
                return
            slot.due = due
            if due > start + EARLY_NS:
                self.waiting.append(slot)
                return
            self._begin_scheduled(slot, start)
            return
        self._begin(slot, start)

    def _start_due(self, now: int) -> int:
        """Begin the waiting requests whose time has come; how many. (Each was due before
        ``-t`` was up, or it would not have been taken: past the time limit, a late loop
        still sends them. A signal cancels the run instead.)"""
        waiting = self.waiting
        begun = 0
        self.last_pass_ns = now
        now += EARLY_NS
        while waiting and waiting[0].due <= now:
            begun += 1
            slot = waiting.popleft()
            self._begin_scheduled(slot, perf_counter_ns(), True)
        return begun

    def _begin_scheduled(self, slot: Slot, start: int, held: bool = False) -> None:
        """Begin a scheduled request (sent up to ``EARLY_NS`` early: its latency then counts
        from the send), recording how late it is (``held``: the slot held it while it was
        not due yet; else the slot was taken once it was due already)."""
        slot.due = min(slot.due, start)
        self.tally.record_lag((start - slot.due) // 1000, held)
        self._begin(slot, start)

    def _retire(self, slot: Slot) -> None:
        """The run wants no more requests from this slot."""
        if slot.sock is not None:  # a kept-alive connection with nothing left to do
            self.disconnect(slot)
        self.active -= 1

    def _begin(self, slot: Slot, start: int) -> None:
        """Send the slot's request: on its kept-alive connection, or on a new one."""
        slot.start = start
        slot.first_byte = 0
        slot.response = slot.reader = None
        # Let the last response's bytes go before the next read: each read is a 64 KiB block
        # shrunk to its bytes, and blocks held across the next read fragmented malloc's heap,
        # so that peak RSS grew with the run's length (see docs/benchmarks.md).
        slot.first_data = b""
        if slot.sock is not None:
            slot.connected = start
            self._send_again(slot)
        else:
            self.connect(slot)

    # -- override points -------------------------------------------------------------------

    def connect(self, slot: Slot) -> None:
        """Open a connection and send the request on it, as far as the kernel lets us now
        (an override point: the slot then waits in CONNECTING, or as ``after_send`` left it,
        or has failed)."""
        sock = self.new_socket()
        slot.sock = sock
        fd = slot.fd = sock.fileno()
        self.by_fd[fd] = slot
        if self.stamped:
            kernel_clock.enable(sock)
        err = sock.connect_ex(self.address)
        if err and err != errno.EINPROGRESS:
            self.fail(slot, Failure.CONNECT, later=True)
            return
        slot.connected = perf_counter_ns()
        # On loopback the connection is up by the time connect returns EINPROGRESS: send at
        # once, and wait for writability (then check the outcome) only if the kernel says so.
        request = self.request
        try:
            sent = sock.send(request)
        except BlockingIOError:
            self.enter_phase(slot, _CONNECTING)
            slot.unsent = memoryview(request)
            self.poller.register(fd, OUT)
            return
        except OSError as exc:
            self.fail(slot, first_send_failure(exc), later=True)
            return
        self.after_send(slot, sent, new=True)

    def finish_connect(self, slot: Slot) -> None:
        """The socket of a slot in CONNECTING is ready: see whether the connection is up, and
        send the rest of the request (an override point)."""
        sock = slot.sock
        assert sock is not None
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            self.fail(slot, Failure.CONNECT)
            return
        slot.connected = perf_counter_ns()
        self.enter_phase(slot, _SENDING)
        self._send_rest(slot)

    def disconnect(self, slot: Slot) -> None:
        """Close the slot's socket, which also takes it out of the epoll set (an override
        point)."""
        sock = slot.sock
        if sock is not None:
            del self.by_fd[slot.fd]
            sock.close()
            slot.sock = None
            slot.fd = -1

    def enter_phase(self, slot: Slot, phase: int) -> None:
        """Move a slot's request to ``phase``, keeping count of the slots that make a
        connection or write a request (for a subclass too, whatever phase it sets)."""
        self.writing += (_CONNECTING <= phase <= _SENDING) - (_CONNECTING <= slot.phase <= _SENDING)
        slot.phase = phase

    # -- sending -----------------------------------------------------------------------------

    def _send_again(self, slot: Slot) -> None:
        """Send the next request on a kept-alive connection (already in the epoll set)."""
        sock = slot.sock
        assert sock is not None
        request = self.request
        try:
            sent = sock.send(request)
        except self.WOULD_BLOCK:
            sent = 0
        except OSError:
            self.fail(slot, Failure.WRITE, later=True)
            return
        if sent == len(request):  # nearly always: as after_send does, without the call
            slot.sent = perf_counter_ns()
            slot.phase = _RECEIVING
            return
        self.after_send(slot, sent, new=False)

    def after_send(self, slot: Slot, sent: int, *, new: bool) -> None:
        """After the first send of ``sent`` bytes on a connection that is up: wait for room
        for the rest, or else for the response (``new``: the socket is not in the epoll set
        yet; else it is, waiting for whatever its last phase wanted: a kept connection stays
        there between requests, a TLS one since its handshake)."""
        request = self.request
        wait = self.poller.register if new else self.poller.modify
        if sent < len(request):
            self.enter_phase(slot, _SENDING)
            slot.unsent = memoryview(request)[sent:]
            wait(slot.fd, OUT)
            return
        slot.sent = perf_counter_ns()
        self.enter_phase(slot, _RECEIVING)
        wait(slot.fd, IN)

    def _send_rest(self, slot: Slot) -> None:
        sock = slot.sock
        assert sock is not None
        view = slot.unsent
        try:
            view = view[sock.send(view) :]
        except self.WOULD_BLOCK:
            return
        except OSError:
            self.fail(slot, Failure.WRITE)
            return
        slot.unsent = view
        if not view:
            slot.sent = perf_counter_ns()
            self.enter_phase(slot, _RECEIVING)
            self.poller.modify(slot.fd, IN)

    # -- readiness ---------------------------------------------------------------------------

    def _on_ready(self, slot: Slot) -> None:
        phase = slot.phase
        if phase == _RECEIVING:
            self._receive(slot)
        elif phase == _IDLE:
            # A kept-alive connection waiting for its next request's due time, and the
            # server closed it (or sent something unasked): the request will reconnect.
            self.disconnect(slot)
        elif phase == _CONNECTING:
            self.finish_connect(slot)
        elif phase == _SENDING:
            self._send_rest(slot)

    def _receive(self, slot: Slot) -> None:  # noqa: PLR0912 -- a branch per way a read ends
        """Read what is there: to EOF, or to the framed end of a kept-alive response.

        By the kernel's clock, a read that may end the response (its first, or any a reader
        is fed) is a ``recvmsg`` that brings the data's arrival time; the EOF after a whole
        response needs none: the response ended when its last bytes arrived. Its read lag is
        how long after that they were read."""
        sock = slot.sock
        assert sock is not None
        keep_alive = self.keep_alive
        stamped = self.stamped
        while True:
            try:
                if stamped and (not slot.first_byte or slot.reader is not None):
                    data, ancillary, _flags, _address = sock.recvmsg(RECV_SIZE, ANCILLARY_SIZE)
                else:
                    data, ancillary = sock.recv(RECV_SIZE), None
            except self.WOULD_BLOCK:
                return
            except OSError:
                self.fail(slot, Failure.RECEIVE, slot.received())
                return
            now = perf_counter_ns()
            if ancillary:  # the one message asked for: the timespec of the data's arrival
                seconds, nanoseconds = timespec(ancillary[0][2])
                arrived = seconds * 1_000_000_000 + nanoseconds + self.clock_offset
                # A wall-clock step since the offset was taken cannot move it out of the
                # request's own time, nor before the response's last stamp.
                if arrived > now:
                    arrived = now
                elif arrived < (floor := slot.arrived if slot.first_byte else slot.sent):
                    arrived = floor
                slot.read_lag = now - arrived
            elif not stamped:
                arrived = now
            elif data or not slot.first_byte:  # a read the kernel did not stamp
                arrived = now
                slot.read_lag = -1
            else:  # an EOF after the response's last bytes, which ended it
                arrived = slot.arrived
            slot.arrived = arrived
            if not slot.first_byte:
                slot.first_byte = arrived
                slot.first_data = data
                whole = self.find_known(data)
                if whole is not None:  # nearly every response: one seen before, whole
                    if keep_alive and whole.keep_alive:
                        self._done(slot, whole, arrived, kept=True)
                        return
                    slot.response = whole  # then its EOF
                    continue
                slot.reader = ResponseReader(known=self.known)
            elif slot.response is not None:
                if not data:
                    self._done(slot, slot.response, arrived, kept=False)
                    return
                # Bytes after a whole response: a reader counts them, as for any response.
                slot.reader = ResponseReader(known=self.known)
                slot.reader.feed(slot.first_data)
                slot.response = None
            if self._feed_reader(slot, sock, data, arrived):
                return

    def _feed_reader(self, slot: Slot, sock: Socket, data: bytes, arrived: int) -> bool:
        """Feed a read to the slot's reader (b"": the EOF); whether that ended the request
        (its response whole, or refused)."""
        reader = slot.reader
        assert reader is not None
        try:
            if not data:
                reader.feed_eof()
                self._done(slot, reader.response(), arrived, kept=False)
                return True
            if reader.feed(data) and self.keep_alive and reader.keep_alive:
                self._done(slot, reader.response(), arrived, kept=True)
                return True
        except READ_ERRORS as exc:
            self.fail(slot, failure_kind(exc, sock), reader.wire_bytes)
            return True
        return False

    # -- ending requests ---------------------------------------------------------------------

    def _done(self, slot: Slot, response: Response, end: int, *, kept: bool) -> None:
        start, connected, sent, first_byte = slot.start, slot.connected, slot.sent, slot.first_byte
        record_response(
            self.tally, response, start, connected, sent, first_byte, end, kept, slot.due,
            slot.read_lag,
        )  # fmt: skip
        if self.log is not None:
            self.log.response(response, (start, connected, sent, first_byte, end), slot.first_data)
        slot.phase = _IDLE
        if not kept:
            self.disconnect(slot)
        self._start_next(slot)

    def fail(self, slot: Slot, kind: Failure, wire_bytes: int = 0, *, later: bool = False) -> None:
        """Count the failure, drop the connection; the next request starts now or ``later``
        (at the top of the loop: for a failure met while starting a request)."""
        self.tally.record_failure(kind, wire_bytes)
        self.enter_phase(slot, _IDLE)
        self.disconnect(slot)
        if later:
            self.to_start.append(slot)
        else:
            self._start_next(slot)

    # -- timeouts --------------------------------------------------------------------------

    async def _wait(self) -> None:
        """Wait for a ready socket, the next sweep or the next tick (``_wake_at``)."""
        wake_at, on_ready = self._wake_at()
        if on_ready:
            with trio.move_on_at(wake_at):
                await trio.lowlevel.wait_readable(self.poller.fileno())
        elif self.alone:  # the next tick reads what arrives meanwhile
            await doze_until(wake_at)
        else:  # ... and another shard's sockets may be ready sooner
            await trio.sleep_until(wake_at)

    def _wake_at(self) -> tuple[float, bool]:
        """When the shard must wake without an event, on trio's clock (for the next sweep
        while requests are in flight, for the next tick with a request due, or never: inf),
        and whether a ready socket should wake it sooner."""
        now = perf_counter_ns()
        wake_ns = self.next_sweep_ns if self.active > len(self.waiting) else None
        on_ready = True
        waiting = self.waiting
        if waiting:
            due_ns, on_ready = tick_wake(
                waiting[0].due, waiting[-1].due, self.last_pass_ns, now,
                stop=self.state.stop_ns, stamped=self.stamped, writing=self.writing > 0,
            )  # fmt: skip
            wake_ns = due_ns if wake_ns is None else min(wake_ns, due_ns)
        if wake_ns is None:
            return math.inf, on_ready
        return trio.current_time() + (wake_ns - now) / 1e9, on_ready

    def sweep(self, now: int) -> None:
        """Fail every request that has run for ``-s``: Connect before the connection was up
        (CONNECTING), Receive after; schedule the next sweep."""
        self.next_sweep_ns = now + self.sweep_ns
        started_by = now - self.timeout_ns
        for slot in self.slots:
            if slot.phase != _IDLE and slot.start <= started_by:
                kind = Failure.CONNECT if slot.phase == _CONNECTING else Failure.RECEIVE
                self.fail(slot, kind, slot.received(), later=True)
