"""Accepted connections as bare file descriptors: the few system calls the engine makes on them.

Why descriptors and not ``socket.socket`` objects: with a new connection per request, building
the object is a visible share of the request. CPython's ``accept()`` wraps the descriptor that
``accept4(2)`` returns in an object whose constructor asks the kernel for its address
(``getsockname``), and ``setblocking(False)`` makes one more call. The engine needs none of
that: ``os.read``, ``os.write`` and ``os.close`` work on the descriptor itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
import termios
from typing import Any, cast

#: FIONBIO's argument: non-blocking on.
_ON: bytes = struct.pack("i", 1)


def accept_descriptor(listener: socket.socket) -> tuple[int, Any]:
    """accept(2) on ``listener``: (descriptor, peer address), without a socket object.

    ``socket.socket._accept`` is the C half of ``socket.accept`` (CPython's own ``accept``
    is exactly it plus the wrapping object); it raises as ``accept`` does.
    """
    return cast(tuple[int, Any], listener._accept())  # type: ignore[attr-defined]


def set_nonblocking(fd: int) -> None:
    """One ioctl(FIONBIO); ``os.set_blocking`` would take two fcntl calls."""
    fcntl.ioctl(fd, termios.FIONBIO, _ON)


def half_close(fd: int) -> None:
    """shutdown(SHUT_WR): the client sees EOF after our response; we can still read.

    Only on the rare lingering path, so a throwaway socket object is fine here.
    """
    sock = socket.socket(fileno=fd)
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the client is gone already; the close that follows ends it
    finally:
        sock.detach()  # the descriptor stays the engine's to close


def try_write_once(fd: int, data: bytes) -> None:
    """Best effort (the 408 to a client that stalled): never wait, never fail."""
    with contextlib.suppress(OSError):
        os.write(fd, data)
