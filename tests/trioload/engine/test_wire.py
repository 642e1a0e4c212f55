"""The failure columns of one request on the wire: which error lands where."""

from __future__ import annotations

import socket

from trioload.engine.response import BodyLengthError, IncompleteResponseError, ProtocolError
from trioload.engine.wire import connected_to_itself, failure_kind, socket_factory
from trioload.results.tally import Failure


def self_connected_socket() -> socket.socket:
    """A socket joined to itself: bound to a port, then connected to that same port (what a
    connect to a closed ephemeral-range port can do by chance)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.connect(sock.getsockname())  # TCP simultaneous open with itself
    return sock


def test_connected_to_itself_only_for_a_self_connected_socket() -> None:
    with self_connected_socket() as joined:
        assert connected_to_itself(joined)
        joined.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert joined.recv(100) == b"GET / HTTP/1.0\r\n\r\n"  # its own request comes back
    with socket.socket() as listener, socket.socket() as client:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client.connect(listener.getsockname())
        assert not connected_to_itself(client)
    with socket.socket() as unconnected:
        assert not connected_to_itself(unconnected)


def test_failure_kind_counts_reading_its_own_request_as_connect() -> None:
    bad_status = ProtocolError("bad status line b'GET / HTTP/1.0'")
    with self_connected_socket() as joined:
        assert failure_kind(bad_status, joined) is Failure.CONNECT
    with socket.socket() as other:
        assert failure_kind(bad_status, other) is Failure.EXCEPTIONS
        assert failure_kind(BodyLengthError("short"), other) is Failure.LENGTH
        assert failure_kind(IncompleteResponseError("eof"), other) is Failure.RECEIVE


def test_socket_factory_sets_buffer_sizes_and_local_address() -> None:
    sock = socket_factory(socket.AF_INET, "127.0.0.2", 32768)()
    plain = socket_factory(socket.AF_INET, None, None)()
    try:
        # Linux doubles what it is given (bookkeeping); no platform gives less.
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 32768
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) >= 32768
        assert sock.getsockname()[0] == "127.0.0.2"
        assert plain.getsockname() == ("0.0.0.0", 0)
    finally:
        sock.close()
        plain.close()
