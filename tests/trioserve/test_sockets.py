"""The descriptor helpers on real sockets: accept without an object, non-blocking, half-close."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from trioserve.sockets import accept_descriptor, half_close, set_nonblocking, try_write_once

Pair = tuple[int, socket.socket]


@pytest.fixture
def pair() -> Iterator[Pair]:
    """(the server side as a bare descriptor, the client side as a blocking socket)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        fd, _ = accept_descriptor(listener)
    with client:
        try:
            yield fd, client
        finally:
            os.close(fd)


def test_sockets_accept_descriptor_returns_a_connected_fd_and_the_peer() -> None:
    with (
        socket.create_server(("127.0.0.1", 0)) as listener,
        socket.create_connection(listener.getsockname()) as client,
    ):
        fd, peer = accept_descriptor(listener)
        try:
            assert peer == client.getsockname()
            client.sendall(b"ping")
            assert os.read(fd, 16) == b"ping"
        finally:
            os.close(fd)


def test_sockets_accept_descriptor_raises_blocking_when_none_waits() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            accept_descriptor(listener)


def test_sockets_set_nonblocking_read_raises_instead_of_waiting(pair: Pair) -> None:
    fd, _ = pair
    assert os.get_blocking(fd)
    set_nonblocking(fd)
    assert not os.get_blocking(fd)
    with pytest.raises(BlockingIOError):
        os.read(fd, 16)


def test_sockets_half_close_sends_eof_and_keeps_reading(pair: Pair) -> None:
    fd, client = pair
    os.write(fd, b"answer")
    half_close(fd)
    assert client.recv(16) == b"answer"
    assert client.recv(16) == b""  # EOF: the client knows the response is complete
    client.sendall(b"more")
    assert os.read(fd, 16) == b"more"  # and the server can still drain what comes


def test_sockets_half_close_after_the_client_reset_is_quiet(pair: Pair) -> None:
    fd, client = pair
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()  # RST
    half_close(fd)  # must not raise
    with pytest.raises(OSError):
        os.read(fd, 16)


def test_sockets_try_write_once_never_raises_on_a_dead_connection(pair: Pair) -> None:
    fd, client = pair
    client.close()
    for _ in range(3):  # the first write may succeed; a later one meets EPIPE or a reset
        try_write_once(fd, b"408")


def test_sockets_try_write_once_sends_when_it_can(pair: Pair) -> None:
    fd, client = pair
    try_write_once(fd, b"HTTP/1.1 408")
    assert client.recv(64) == b"HTTP/1.1 408"
