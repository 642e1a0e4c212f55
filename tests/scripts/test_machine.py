"""The guards and checks in ``benchlib.machine``: loopback only, listening sockets."""

from __future__ import annotations

import socket

import pytest

from scripts.benchlib.machine import (
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
