"""The waiting helpers on socket pairs: reads, writes to a slow reader, best-effort sends, linger.

The linger tests run on ``MockClock(autojump_threshold=0)``: a socketpair's bytes are in the
peer's queue by the time ``send`` returns, so when every task blocks nothing is in flight and a
clock jump skips only time that really would have passed.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
import trio
import trio.testing

from trioserve.sockets import linger, recv_some, send_all, try_send_once

Pair = tuple[socket.socket, socket.socket]


@pytest.fixture
def pair() -> Iterator[Pair]:
    """(server side, non-blocking as the server's are; client side, blocking)."""
    conn, peer = socket.socketpair()
    conn.setblocking(False)
    with conn, peer:
        yield conn, peer


def fill(conn: socket.socket) -> int:
    """Send until the socket's buffers are full; the bytes that fitted."""
    sent = 0
    try:
        while True:
            sent += conn.send(b"f" * 65536)
    except BlockingIOError:
        return sent


async def test_sockets_recv_some_returns_what_is_there(pair: Pair) -> None:
    conn, peer = pair
    peer.sendall(b"abcdef")
    assert await recv_some(conn, 4) == b"abcd"
    assert await recv_some(conn, 100) == b"ef"


async def test_sockets_recv_some_waits_for_data(pair: Pair) -> None:
    conn, peer = pair
    got: list[bytes] = []

    async def reader() -> None:
        got.append(await recv_some(conn, 100))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []  # nothing there: it waits instead of failing or returning b""
        peer.sendall(b"late")
    assert got == [b"late"]


async def test_sockets_recv_some_returns_empty_at_eof(pair: Pair) -> None:
    conn, peer = pair
    peer.shutdown(socket.SHUT_WR)
    assert await recv_some(conn, 100) == b""


async def test_sockets_send_all_to_a_slow_reader_delivers_every_byte(pair: Pair) -> None:
    conn, peer = pair
    payload = bytes(range(256)) * 8192  # 2 MiB: far more than the buffers hold
    done = trio.Event()

    async def sender() -> None:
        await send_all(conn, payload)
        done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender)
        await trio.testing.wait_all_tasks_blocked()
        assert not done.is_set()  # the buffers are full and the reader hasn't read: it waits
        received = bytearray()
        peer.setblocking(False)
        while len(received) < len(payload):
            received += await recv_some(peer, 65536)
    assert done.is_set()
    assert received == payload


async def test_sockets_try_send_once_sends_what_fits(pair: Pair) -> None:
    conn, peer = pair
    try_send_once(conn, b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert peer.recv(100) == b"HTTP/1.1 408 Request Timeout\r\n\r\n"


def test_sockets_try_send_once_never_waits_never_raises(pair: Pair) -> None:
    conn, peer = pair
    sent = fill(conn)
    try_send_once(conn, b"x")  # full buffers: would block; returns at once instead
    peer.setblocking(False)
    drained = 0
    try:
        while chunk := peer.recv(65536):
            drained += len(chunk)
    except BlockingIOError:
        pass
    assert drained == sent  # and nothing of it was sent
    peer.close()
    try_send_once(conn, b"x")  # EPIPE: the peer is gone
    conn.close()
    try_send_once(conn, b"x")  # EBADF: so is the socket


async def test_sockets_linger_half_closes_and_returns_once_the_client_closes(
    pair: Pair, autojump_clock: trio.testing.MockClock
) -> None:
    conn, peer = pair
    conn.send(b"response")
    peer.sendall(b"an unread body")
    peer.shutdown(socket.SHUT_WR)
    start = trio.current_time()
    await linger(conn, 600, 1 << 20)
    assert trio.current_time() == start  # EOF ended it, not the 600 s
    assert peer.recv(100) == b"response"
    assert peer.recv(100) == b""  # the half-close: the client sees our end of the response


async def test_sockets_linger_bounded_by_its_seconds(
    pair: Pair, autojump_clock: trio.testing.MockClock
) -> None:
    conn, _ = pair  # a client that neither sends nor closes
    start = trio.current_time()
    with trio.fail_after(3600):  # virtual seconds: without a bound it would wait forever
        await linger(conn, 2.5, 1 << 20)
    assert trio.current_time() - start == pytest.approx(2.5)


async def test_sockets_linger_bounded_by_max_bytes(
    pair: Pair, autojump_clock: trio.testing.MockClock
) -> None:
    conn, peer = pair
    peer.sendall(b"b" * 5000)  # and more to come, as far as linger knows: no EOF
    start = trio.current_time()
    await linger(conn, 600, 1000)
    assert trio.current_time() == start  # the byte bound ended it, not the 600 s
    assert len(conn.recv(65536)) == 4000  # read exactly 1000 and left the rest


async def test_sockets_linger_client_reset_ends_it_quietly() -> None:
    # A reset needs TCP: abortive close (SO_LINGER 0 s) of the client's end.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        conn, _ = listener.accept()
    with conn:
        conn.setblocking(False)
        client.sendall(b"unread")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        with trio.fail_after(60):  # against a hang only: the reset ends it at once
            await linger(conn, 600, 1 << 20)
