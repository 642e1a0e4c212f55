"""Fixtures for trioserve's tests: an in-process server on an ephemeral port, and raw clients.

``start_unix_server`` serves the same engine on a Unix socket, for tests that run on
``MockClock(autojump_threshold=0)``: a Unix socket's bytes are in the peer's queue by the time
``send`` returns, so whenever every task is blocked nothing is still in flight in the kernel,
and a clock jump only skips time that really would have passed waiting. (Loopback TCP gives
no such promise: under load its delivery can be deferred, and the clock would jump past it.)

``start_tls_server``/``start_tls_unix_server`` do the same with TLS on every connection
(the run's ``tls_files``), and ``tls_exchange`` is their client.
"""

from __future__ import annotations

import socket
import ssl
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import h11
import pytest
import trio

from tests.conftest import TlsFiles
from trioserve.config import ServerConfig
from trioserve.server import Server
from trioserve.tls_server import TlsServer

EXACT_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Connection: close\r\n\r\nhello"
)
AB_REQUEST = (
    b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"
)
CURL_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n"

StartServer = Callable[..., Awaitable[tuple[Server, int]]]
StartUnixServer = Callable[..., Awaitable[tuple[Server, str]]]


@pytest.fixture
def start_server(nursery: trio.Nursery) -> StartServer:
    """Start a Server in the test's nursery (cancelled when the test ends); (server, port)."""

    async def start(**overrides: Any) -> tuple[Server, int]:
        server = Server(ServerConfig(host="127.0.0.1", port=0, **overrides))
        port: int = await nursery.start(server.serve)
        return server, port

    return start


@pytest.fixture
def start_unix_server(nursery: trio.Nursery) -> StartUnixServer:
    """Like ``start_server``, listening on a Unix socket; (server, address)."""

    async def start(**overrides: Any) -> tuple[Server, str]:
        # Linux's abstract namespace (leading NUL): no file to clean up, no path length limit.
        address = f"\0trioserve-test-{uuid.uuid4().hex}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
        listener.listen()
        listener.setblocking(False)
        server = Server(ServerConfig(**overrides))
        await nursery.start(server.serve, listener)
        return server, address

    return start


def tls_config(tls_files: TlsFiles, **overrides: Any) -> ServerConfig:
    return ServerConfig(certfile=str(tls_files.cert), keyfile=str(tls_files.key), **overrides)


@pytest.fixture
def start_tls_server(nursery: trio.Nursery, tls_files: TlsFiles) -> StartServer:
    """``start_server`` with TLS on every connection."""

    async def start(**overrides: Any) -> tuple[Server, int]:
        server = TlsServer(tls_config(tls_files, host="127.0.0.1", port=0, **overrides))
        port: int = await nursery.start(server.serve)
        return server, port

    return start


@pytest.fixture
def start_tls_unix_server(nursery: trio.Nursery, tls_files: TlsFiles) -> StartUnixServer:
    """``start_unix_server`` with TLS on every connection (for the MockClock deadline tests)."""

    async def start(**overrides: Any) -> tuple[Server, str]:
        address = f"\0trioserve-test-{uuid.uuid4().hex}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
        listener.listen()
        listener.setblocking(False)
        server = TlsServer(tls_config(tls_files, **overrides))
        await nursery.start(server.serve, listener)
        return server, address

    return start


@pytest.fixture(scope="session")
def client_context(tls_files: TlsFiles) -> ssl.SSLContext:
    """A client that trusts the run's certificate authority, and only it."""
    return ssl.create_default_context(cafile=str(tls_files.ca))


async def tls_connect(address: int | str, context: ssl.SSLContext) -> trio.SSLStream[Any]:
    """A TLS client, handshake done (``connect``'s addresses; the certificate is checked)."""
    stream = trio.SSLStream(await connect(address), context, server_hostname="127.0.0.1")
    await stream.do_handshake()
    return stream


async def tls_exchange(address: int | str, context: ssl.SSLContext, *pieces: bytes) -> bytes:
    """``exchange`` over TLS: handshake, send ``pieces``, read to the server's close_notify."""
    stream = await tls_connect(address, context)
    async with stream:
        for piece in pieces:
            await stream.send_all(piece)
        return await read_to_eof(stream)


async def connect(address: int | str) -> trio.SocketStream:
    """A client: an int is a port on 127.0.0.1, a str a Unix socket address."""
    if isinstance(address, str):
        return await trio.open_unix_socket(address)
    return await trio.open_tcp_stream("127.0.0.1", address)


async def read_to_eof(stream: trio.abc.ReceiveStream) -> bytes:
    """Everything until the server closes; a reset raises trio.BrokenResourceError."""
    received = bytearray()
    while chunk := await stream.receive_some(65536):
        received += chunk
    return bytes(received)


async def exchange(address: int | str, *pieces: bytes, half_close: bool = False) -> bytes:
    """Connect, send ``pieces`` as separate writes, optionally half-close, read to EOF."""
    stream = await connect(address)
    async with stream:
        for piece in pieces:
            await stream.send_all(piece)
        if half_close:
            await stream.send_eof()
        return await read_to_eof(stream)


def h11_head_length(data: bytes) -> int | None:
    """Where h11, as a server, ends the request head in ``data``; None if it refuses it."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    try:
        event = conn.next_event()
    except h11.RemoteProtocolError:
        return None
    if not isinstance(event, h11.Request):
        return None
    return len(data) - len(conn.trailing_data[0])
