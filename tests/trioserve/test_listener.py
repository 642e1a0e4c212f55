"""``bind_listener``: the listening socket's options, read back from the kernel (Linux)."""

from __future__ import annotations

import errno
import os
import socket
import struct
from typing import Any

import pytest

from trioserve.config import ServerConfig
from trioserve.listener import bind_listener


def local(port: int = 0, **overrides: Any) -> ServerConfig:
    return ServerConfig(host="127.0.0.1", port=port, **overrides)


def accept_queue_limit(listener: socket.socket) -> int:
    """The backlog the kernel applies: for a listener, TCP_INFO's ``tcpi_sacked`` field."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    # struct tcp_info: 8 one-byte fields, then u32 rto, ato, snd_mss, rcv_mss, unacked, sacked.
    return int(struct.unpack_from("I", info, 8 + 5 * 4)[0])


def test_listener_bind_listener_listens_non_blocking_on_an_ephemeral_port() -> None:
    with bind_listener(local()) as listener:
        host, port = listener.getsockname()
        assert (host, port != 0) == ("127.0.0.1", True)
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
        assert not listener.getblocking()
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0


@pytest.mark.parametrize("backlog", [7, 300])
def test_listener_bind_listener_applies_the_backlog(backlog: int) -> None:
    with bind_listener(local(backlog=backlog)) as listener:
        assert accept_queue_limit(listener) == backlog


def test_listener_bind_listener_reuse_port_lets_listeners_share_a_port() -> None:
    with bind_listener(local(reuse_port=True)) as first:
        port = first.getsockname()[1]
        assert first.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        with bind_listener(local(port=port, reuse_port=True)) as second:
            assert second.getsockname()[1] == port


def test_listener_bind_listener_without_reuse_port_finds_the_port_taken() -> None:
    with bind_listener(local()) as first, pytest.raises(OSError) as taken:
        bind_listener(local(port=first.getsockname()[1])).close()
    assert taken.value.errno == errno.EADDRINUSE


def test_listener_bind_listener_defers_accept_by_default() -> None:
    with bind_listener(local()) as listener:
        # The kernel keeps it as retransmissions and rounds on the way back: on, not 1 exactly.
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0


def test_listener_bind_listener_without_defer_accept() -> None:
    with bind_listener(local(defer_accept=False)) as listener:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) == 0


def test_listener_bind_listener_failure_leaks_no_descriptor() -> None:
    with bind_listener(local()) as first:
        port = first.getsockname()[1]
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(5):
            with pytest.raises(OSError):
                bind_listener(local(port=port))
        assert len(os.listdir("/proc/self/fd")) == before
