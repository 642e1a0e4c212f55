"""The guards and checks in ``benchlib.machine``: loopback only, listening sockets, replies."""

from __future__ import annotations

import socket

import pytest

from scripts.benchlib.machine import (
    REPLY,
    describe_reply,
    free_port,
    is_listening,
    require_loopback,
)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3"])
def test_require_loopback_accepts_ipv4_loopback(host: str) -> None:
    assert require_loopback(host) == host


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "::1", "localhost", "example.com"])
def test_require_loopback_refuses_anything_else(host: str) -> None:
    with pytest.raises(SystemExit, match="refusing"):
        require_loopback(host)


def test_is_listening_sees_a_listening_socket_and_not_a_closed_one() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        assert not is_listening("127.0.0.1", port)  # bound, not listening
        server.listen()
        assert is_listening("127.0.0.1", port)
    assert not is_listening("127.0.0.1", port)


def test_free_port_is_bindable() -> None:
    port = free_port("127.0.0.1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
        assert probe.getsockname()[1] == port


def test_describe_reply_exact() -> None:
    assert len(REPLY) == 88
    assert describe_reply(REPLY) == "exact 88 B"


def test_describe_reply_empty() -> None:
    assert describe_reply(b"") == "no reply"


def test_describe_reply_names_extra_and_missing_headers() -> None:
    reply = REPLY.replace(b"Connection: close\r\n", b"Server: nginx\r\n")
    assert describe_reply(reply) == f"{len(reply)} B, +server, -connection"


def test_describe_reply_header_order_and_case() -> None:
    reordered = (
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Type: text/plain\r\n"
        b"Connection: close\r\n\r\nhello"
    )
    assert describe_reply(reordered) == "88 B, header order differs, header case differs"


def test_describe_reply_status_and_body() -> None:
    reply = REPLY.replace(b"200 OK", b"404 Not Found").replace(b"hello", b"nope!")
    assert (
        describe_reply(reply) == f"{len(reply)} B, status 'HTTP/1.1 404 Not Found', body b'nope!'"
    )


def test_describe_reply_long_body_by_its_length() -> None:
    page = b"<!DOCTYPE html>" + b"x" * 10_000
    reply = REPLY.replace(b"Content-Length: 5", f"Content-Length: {len(page)}".encode())
    reply = reply.replace(b"hello", page)
    assert describe_reply(reply) == f"{len(reply)} B, header values differ, body {len(page)} B"


def test_describe_reply_header_values() -> None:
    reply = REPLY.replace(b"Connection: close", b"Connection: keep-alive")
    assert describe_reply(reply) == f"{len(reply)} B, header values differ"
