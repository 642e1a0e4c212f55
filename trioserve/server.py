"""The trio engine: one accept loop that answers ready requests inline, a task for the rest.

Why the design looks like this: in trio every socket call is a trip through the scheduler, and
a task per connection costs more than the whole request. A keep-alive-off client (ab, wrk with
``Connection: close``) sends its request the moment it connects, so by the time we accept, the
whole head is usually already in the kernel. The accept loop therefore tries one non-blocking
``recv`` right after ``accept``: when the head is complete it sends the pre-encoded response
and closes, all without a checkpoint. Only a connection that would block (a slow client, a
body to drain, a keep-alive connection) gets a task, and every such task lives in the server's
nursery, bounded by deadlines. Sockets are plain non-blocking stdlib sockets; trio's
``wait_readable``/``wait_writable`` are the only places that wait.
"""

from __future__ import annotations

import errno
import socket
from collections import Counter
from dataclasses import dataclass, field

import trio

from trioserve.chunked_body import MALFORMED, BodyEnd, ChunkedBody
from trioserve.config import ServerConfig
from trioserve.head_fields import NO_BODY, Framing, check_fields, wants_keep_alive
from trioserve.head_scanner import NEED_MORE, HeadComplete, HeadRejected, HeadScanner
from trioserve.listener import bind_listener
from trioserve.log import access_log, log
from trioserve.responses import Responses
from trioserve.sockets import DRAIN_CHUNK, linger, recv_some, send_all, try_send_once

#: First read size: a typical head is under 200 bytes; longer ones continue in a task.
RECV_SIZE = 8192
#: Accept at most this many connections before letting other tasks run.
ACCEPT_BATCH = 64
#: accept(2) failures that mean "out of a resource": back off, keep serving.
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
RESOURCE_BACKOFF_S = 0.05


@dataclass
class ServerStats:
    """Counters for the shutdown line; a per-connection failure is counted, never raised."""

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
    #: connections that needed a task of their own (the rest were answered inline).
    tasks: int = 0

    def summary(self) -> str:
        rejected = ", ".join(f"{s}: {n}" for s, n in sorted(self.rejected.items())) or "none"
        return (
            f"accepted {self.accepted}, responses {self.responses}, rejected ({rejected}), "
            f"timeouts {self.timeouts}, closed early {self.closed_early}, "
            f"socket errors {self.socket_errors}, internal errors {self.internal_errors}, "
            f"malformed chunked bodies {self.malformed_bodies}, "
            f"accept back-offs {self.accept_backoffs}, needed a task {self.tasks}"
        )


class Server:
    """One listening socket and the connections it accepted."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.stats = ServerStats()
        self._responses = Responses.build(config.body, config.content_type)
        self._open = 0
        #: set when a connection closes, while someone (accept loop, shutdown) waits for that.
        self._closed_one: trio.Event | None = None
        self._accepting = trio.CancelScope()
        self._everything = trio.CancelScope()
        self._backing_off = False
        self.stopping = False

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
        with self._everything, listener:
            async with trio.open_nursery() as nursery:
                task_status.started(listener.getsockname()[1])
                with self._accepting:
                    await self._accept_loop(listener, nursery)
                listener.close()  # new clients get refused at once, not queued
                with trio.move_on_after(self.config.grace):
                    await self._wait_until_open_below(1)
                nursery.cancel_scope.cancel()

    def stop(self) -> None:
        """Graceful shutdown: stop accepting; open connections get ``grace`` seconds."""
        self.stopping = True
        self._accepting.cancel()

    def abort(self) -> None:
        """Immediate shutdown: cancel every connection now."""
        self._everything.cancel()

    @property
    def open_connections(self) -> int:
        return self._open

    async def _wait_until_open_below(self, limit: int) -> None:
        while self._open >= limit:
            self._closed_one = trio.Event()
            await self._closed_one.wait()
        self._closed_one = None

    def _release(self, conn: socket.socket) -> None:
        conn.close()
        self._open -= 1
        if self._closed_one is not None:
            self._closed_one.set()

    # -- accepting -------------------------------------------------------------------------

    async def _accept_loop(self, listener: socket.socket, nursery: trio.Nursery) -> None:
        limit = self.config.max_connections
        while True:
            if self._open >= limit:
                await self._wait_until_open_below(limit)  # backpressure: the backlog holds them
            batch = min(ACCEPT_BATCH, limit - self._open)
            for _ in range(batch):
                try:
                    conn, peer = listener.accept()
                except BlockingIOError:
                    if self._backing_off:  # the queue is drained: the episode is over
                        self._backing_off = False
                        log(f"accept recovered ({self.stats.accept_backoffs} back-offs so far)")
                    break
                except OSError as exc:
                    if exc.errno in RESOURCE_ERRNOS:
                        await self._back_off(exc)
                        break
                    continue  # ECONNABORTED and friends: that client is gone, the next one isn't
                self._open += 1
                self.stats.accepted += 1
                self._answer_or_spawn(conn, peer, nursery)
            else:
                await trio.lowlevel.checkpoint()  # a full batch: let connection tasks run too
                continue
            await trio.lowlevel.wait_readable(listener)

    async def _back_off(self, exc: OSError) -> None:
        """Out of descriptors or memory: wait a little (or for a close) and try again."""
        self.stats.accept_backoffs += 1
        if not self._backing_off:
            self._backing_off = True
            log(f"accept failed: {exc.strerror}; backing off until resources free up")
        with trio.move_on_after(RESOURCE_BACKOFF_S):
            await self._wait_until_open_below(self._open)

    def _answer_or_spawn(self, conn: socket.socket, peer: object, nursery: trio.Nursery) -> None:
        """The fast path: answer a complete, valid, bodiless request inline; else start a task."""
        conn.setblocking(False)
        try:
            data = conn.recv(RECV_SIZE)
        except BlockingIOError:
            self.stats.tasks += 1
            nursery.start_soon(self._connection, conn, peer, b"")
            return
        except OSError:
            self.stats.socket_errors += 1
            self._release(conn)
            return
        if not data:
            self.stats.closed_early += 1
            self._release(conn)
            return
        if not self.config.keep_alive:
            result = HeadScanner(self.config.max_head, self.config.max_request_line).feed(data)
            if (
                type(result) is HeadComplete
                and result.end == len(data)
                and check_fields(data) is NO_BODY
            ):
                self._respond_and_close(conn, data, nursery)
                return
        self.stats.tasks += 1
        nursery.start_soon(self._connection, conn, peer, data)

    def _respond_and_close(self, conn: socket.socket, head: bytes, nursery: trio.Nursery) -> None:
        """Send the response in one non-blocking write and close; a task finishes a short write."""
        response = self._responses.ok(head, keep_alive=False)
        try:
            sent = conn.send(response)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.stats.socket_errors += 1
            self._release(conn)
            return
        if sent < len(response):  # practically never with a fresh socket's empty buffer
            nursery.start_soon(self._finish_response, conn, head, response[sent:])
            return
        self._responded(conn, head, 200, sent)
        self._release(conn)

    async def _finish_response(self, conn: socket.socket, head: bytes, rest: bytes) -> None:
        try:
            with trio.fail_after(self.config.head_timeout):
                await send_all(conn, rest)
            self._responded(conn, head, 200, len(self._responses.ok(head, keep_alive=False)))
        except (OSError, trio.TooSlowError):
            self.stats.socket_errors += 1
        finally:
            self._release(conn)

    def _responded(self, conn: socket.socket, head: bytes, status: int, size: int) -> None:
        if status == 200:
            self.stats.responses += 1
        if self.config.access_log:
            access_log(conn, head, status, size)

    # -- the slow path: one task per connection that would block ------------------------------

    async def _connection(self, conn: socket.socket, peer: object, data: bytes) -> None:
        """Serve one connection to the end; every failure is counted, none escapes."""
        try:
            await self._converse(conn, data)
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            self.stats.socket_errors += 1
        except trio.TooSlowError:
            self.stats.timeouts += 1
        except Exception as exc:  # a bug must cost one connection, never the server
            self.stats.internal_errors += 1
            log(f"internal error on a connection from {peer}: {exc!r}")
        finally:
            self._release(conn)

    async def _converse(self, conn: socket.socket, data: bytes) -> None:
        """Read heads, answer them, and (with keep-alive) skip bodies between requests."""
        while True:
            request = await self._read_head(conn, data)
            if request is None:
                return
            head, rest, framing = request
            if not (self.config.keep_alive and wants_keep_alive(head)):
                unread = bool(rest) or framing.has_body
                await self._send_and_linger(conn, head, 200, unread=unread)
                return
            response = self._responses.ok(head, keep_alive=True)
            with trio.fail_after(self.config.head_timeout):
                await send_all(conn, response)
            self._responded(conn, head, 200, len(response))
            next_data = await self._next_request(conn, rest, framing)
            if next_data is None:
                return
            data = next_data

    async def _read_head(
        self, conn: socket.socket, data: bytes
    ) -> tuple[bytes, bytes, Framing] | None:
        """Read until a head is complete and judged: (head, bytes after it, framing).

        None means the connection is done: the client left or stalled (408), or its head was
        refused and has had its error response.
        """
        cfg = self.config
        scanner = HeadScanner(cfg.max_head, cfg.max_request_line)
        result = scanner.feed(data)
        with trio.move_on_after(cfg.head_timeout):
            while result is NEED_MORE:
                chunk = await recv_some(conn, RECV_SIZE)
                if not chunk:
                    self.stats.closed_early += 1
                    return None
                data += chunk
                result = scanner.feed(chunk)
        if result is NEED_MORE:
            self.stats.timeouts += 1
            try_send_once(conn, self._responses.errors[408])
            return None
        if isinstance(result, HeadComplete):
            head, rest = data[: result.end], data[result.end :]
            framing = check_fields(head)
            if isinstance(framing, Framing):
                return head, rest, framing
            result = framing
        assert isinstance(result, HeadRejected)
        self.stats.rejected[result.status] += 1
        await self._send_and_linger(conn, data, result.status, unread=True)
        return None

    async def _next_request(
        self, conn: socket.socket, rest: bytes, framing: Framing
    ) -> bytes | None:
        """Skip the body, then wait (up to the keep-alive timeout) for the next request's bytes.

        None ends the connection: the client closed or idled, or its body broke the framing.
        """
        next_data = await self._skip_body(conn, rest, framing)
        if next_data is None or next_data:
            return next_data
        with trio.move_on_after(self.config.keep_alive_timeout):
            next_data = await recv_some(conn, RECV_SIZE)
        return next_data or None  # idle too long, or the client closed: both end it

    async def _send_and_linger(
        self, conn: socket.socket, head: bytes, status: int, *, unread: bool
    ) -> None:
        """Send a final response, then close without destroying it (see ``linger``)."""
        if status == 200:
            response = self._responses.ok(head, keep_alive=False)
        else:
            response = self._responses.errors[status]
        with trio.fail_after(self.config.head_timeout):
            await send_all(conn, response)
        self._responded(conn, head, status, len(response))
        # Bytes still unread (a body, a pipelined request) make close() send RST, which
        # makes the client's kernel discard our response: drain them first, within bounds.
        if unread:
            await linger(conn, self.config.linger_time, self.config.linger_bytes)

    async def _skip_body(self, conn: socket.socket, rest: bytes, framing: Framing) -> bytes | None:
        """Consume a keep-alive request's body; return the bytes after it, None to close.

        None means the client closed, or its chunked body was malformed: then nothing after it
        can be framed, and reading on would let one request bleed into the next.
        """
        with trio.fail_after(self.config.head_timeout):
            if framing.chunked:
                return await self._skip_chunked(conn, rest)
            if len(rest) >= framing.content_length:
                return rest[framing.content_length :]
            remaining = framing.content_length - len(rest)
            while remaining:
                chunk = await recv_some(conn, min(DRAIN_CHUNK, remaining))
                if not chunk:
                    return None
                remaining -= len(chunk)
        return b""

    async def _skip_chunked(self, conn: socket.socket, rest: bytes) -> bytes | None:
        body = ChunkedBody(self.config.max_request_line, self.config.max_head)
        result = body.feed(rest)
        while not isinstance(result, BodyEnd):
            if result is MALFORMED:
                self.stats.malformed_bodies += 1
                return None
            chunk = await recv_some(conn, DRAIN_CHUNK)
            if not chunk:
                return None
            result = body.feed(chunk)
        return result.rest
