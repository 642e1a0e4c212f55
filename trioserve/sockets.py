"""Non-blocking stdlib sockets driven by trio: the only places where the server waits.

Each helper first tries the system call and waits (``wait_readable``/``wait_writable``) only
when it would block, so a socket that is ready costs no trip through the scheduler.
"""

from __future__ import annotations

import contextlib
import socket

import trio

DRAIN_CHUNK = 65536


async def recv_some(conn: socket.socket, size: int) -> bytes:
    """Receive up to ``size`` bytes, waiting only when nothing is there yet."""
    while True:
        try:
            return conn.recv(size)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(conn)


async def send_all(conn: socket.socket, data: bytes) -> None:
    """Send every byte, waiting only when the socket's buffer is full."""
    view = memoryview(data)
    while view:
        try:
            view = view[conn.send(view) :]
        except BlockingIOError:
            await trio.lowlevel.wait_writable(conn)


def try_send_once(conn: socket.socket, data: bytes) -> None:
    """Best effort (the 408 to a client that stalled): never wait, never fail."""
    with contextlib.suppress(OSError):
        conn.send(data)


async def linger(conn: socket.socket, seconds: float, max_bytes: int) -> None:
    """Half-close, then read and discard until the client closes, within time and byte bounds."""
    try:
        conn.shutdown(socket.SHUT_WR)
        with trio.move_on_after(seconds):
            while max_bytes > 0:
                chunk = await recv_some(conn, min(DRAIN_CHUNK, max_bytes))
                if not chunk:
                    return
                max_bytes -= len(chunk)
    except OSError:
        pass  # the response is out; a reset now only ends the draining
