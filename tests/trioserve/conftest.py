"""Fixtures for trioserve's tests: an in-process server on an ephemeral port, and raw clients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

from trioserve.config import ServerConfig
from trioserve.server import Server

EXACT_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Connection: close\r\n\r\nhello"
)
AB_REQUEST = (
    b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"
)
CURL_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n"

StartServer = Callable[..., Awaitable[tuple[Server, int]]]


@pytest.fixture
def start_server(nursery: trio.Nursery) -> StartServer:
    """Start a Server in the test's nursery (cancelled when the test ends); (server, port)."""

    async def start(**overrides: Any) -> tuple[Server, int]:
        server = Server(ServerConfig(host="127.0.0.1", port=0, **overrides))
        port: int = await nursery.start(server.serve)
        return server, port

    return start


async def read_to_eof(stream: trio.SocketStream) -> bytes:
    """Everything until the server closes; a reset raises trio.BrokenResourceError."""
    received = bytearray()
    while chunk := await stream.receive_some(65536):
        received += chunk
    return bytes(received)


async def exchange(port: int, *pieces: bytes, half_close: bool = False) -> bytes:
    """Connect, send ``pieces`` as separate writes, optionally half-close, read to EOF."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        for piece in pieces:
            await stream.send_all(piece)
        if half_close:
            await stream.send_eof()
        return await read_to_eof(stream)
