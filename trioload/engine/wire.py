"""What both engines share about one request on the wire: the socket kind, which errors mean
which failure column, and how a finished request is recorded.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from functools import partial

from trioload.engine.response import (
    BodyLengthError,
    IncompleteResponseError,
    ProtocolError,
    Response,
)
from trioload.results.tally import Failure, Tally

#: bytes asked of one ``recv``: a whole small response and its EOF in one call.
RECV_SIZE = 65536

#: The C socket type under ``socket.socket``: the Python subclass adds nothing used here but
#: interpreted calls on every request (its ``__init__`` and ``close`` wrappers). Created
#: non-blocking where the platform allows, which also spares a ``setblocking`` system call.
Socket = socket.SocketType
NONBLOCK: int = getattr(socket, "SOCK_NONBLOCK", 0)
STREAM_TYPE: int = socket.SOCK_STREAM | NONBLOCK

#: errors a first send reports when the connection itself failed.
_CONNECT_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH}
)

Address = tuple[str, int]


def new_socket(family: socket.AddressFamily) -> socket.SocketType:
    """A non-blocking TCP socket, ready for ``connect_ex``."""
    sock = Socket(family, STREAM_TYPE)
    if not NONBLOCK:
        sock.setblocking(False)
    return sock


def socket_factory(
    family: socket.AddressFamily, local_address: str | None, buffer_size: int | None
) -> Callable[[], socket.SocketType]:
    """What makes each connection's socket: ``new_socket``, plus ab's ``-B`` (local address)
    and ``-b`` (buffer sizes) where given."""
    if local_address is None and buffer_size is None:
        # The plain case makes a socket a request: straight from the C type where it can.
        return partial(Socket, family, STREAM_TYPE) if NONBLOCK else partial(new_socket, family)

    def make() -> socket.SocketType:
        sock = new_socket(family)
        try:
            if buffer_size is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer_size)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_size)
            if local_address is not None:
                # Let connect pick the port (per destination), not bind: otherwise every
                # connection from one address draws on one pool of ports for all servers.
                if _BIND_NO_PORT:
                    sock.setsockopt(socket.IPPROTO_IP, _BIND_NO_PORT, 1)
                sock.bind((local_address, 0))
        except OSError:
            sock.close()
            raise
        return sock

    return make


#: Linux only: 0 elsewhere, where a bound socket keeps its port for every destination.
_BIND_NO_PORT: int = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 0)


#: what the response reader raises; ``failure_kind`` says which column each one is.
READ_ERRORS = (ProtocolError, IncompleteResponseError, BodyLengthError)


def failure_kind(exc: Exception, sock: socket.SocketType) -> Failure:
    """ab's column for a response the reader refused: Exceptions, Length or Receive (or
    Connect, for a socket that connected to itself)."""
    if isinstance(exc, ProtocolError):
        return Failure.CONNECT if connected_to_itself(sock) else Failure.EXCEPTIONS
    if isinstance(exc, BodyLengthError):
        return Failure.LENGTH
    return Failure.RECEIVE


def connected_to_itself(sock: socket.SocketType) -> bool:
    """Whether a connect to a closed port took that very port as its source address.

    A loopback port inside the ephemeral range (trioserve's 60000 is, on Linux) can be picked
    as a connection's source port while nothing listens on it: TCP's simultaneous open then
    joins the socket to itself, and it reads back its own request. That is a refused
    connection, not a server's bad answer. Checked on the failure path only: no cost per
    request.
    """
    try:
        return bool(sock.getsockname() == sock.getpeername())
    except OSError:
        return False


def first_send_failure(exc: OSError) -> Failure:
    """The column of a failed first send: Connect when the connection itself failed (the
    send is what reports a refused non-blocking connect), Write otherwise."""
    return Failure.CONNECT if exc.errno in _CONNECT_ERRNOS else Failure.WRITE


def record_response(  # noqa: PLR0917 -- positional: this runs once a request
    tally: Tally,
    response: Response,
    start: int,
    connected: int,
    sent: int,
    first_byte: int,
    done: int,
    kept: bool,
    due: int,
    read_lag: int,
) -> None:
    """Count a response that arrived whole.

    The times are ``perf_counter_ns`` readings: started, connected, request sent, first
    response byte, done. ab's phases: Connect = started→connected, Processing =
    connected→done, Waiting = sent→first byte, Total = started→done. ``kept``: the connection
    stays open for the next request. With a schedule, ``due`` is when the request was due
    (corrected latency = due→done); else 0. By the kernel's clock, ``read_lag`` is how long
    after its arrival the response's end was read (ns); else -1.
    """
    if response.server and not tally.server_software:
        tally.server_software = response.server.decode("latin-1")
    tally.record_response(
        (connected - start) // 1000,  # connect
        (done - connected) // 1000,  # processing
        (first_byte - sent) // 1000,  # waiting
        (done - start) // 1000,  # total
        response.status,
        response.wire_bytes,
        response.body_bytes,
        kept,  # ab counts every response that kept the connection
        (done - due) // 1000 if due else -1,
        read_lag // 1000 if read_lag >= 0 else -1,
    )
