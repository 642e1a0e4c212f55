"""The kernel's receive timestamps: when a response's bytes arrived, whatever trioload was busy
with when it read them.

A userspace stamp is taken when the engine gets round to a read. Responses that arrive together
are read one after another, so the last of a batch is stamped after the Python work of all
those before it, and the server looks slower than it is. Linux stamps every packet as it is
queued for a socket; with ``SO_TIMESTAMPNS`` set, ``recvmsg`` hands back the stamp of the data
it returns (of the last segment read with it, since the kernel merges queued segments) as a
``CLOCK_REALTIME`` timespec in an ancillary message.

The engine's own stamps are ``perf_counter_ns`` (``CLOCK_MONOTONIC`` on Linux). The kernel
slews both clocks alike, so their difference moves only when the wall clock is stepped: one
offset, measured again at every timeout sweep, converts a stamp exactly. An engine still keeps
each converted stamp between the request's send (or its response's last stamp) and the read: a
step between two sweeps then costs a few stamps their exactness, never their order.

Linux stamps packets only while some socket asks, and switches that on and off in a background
job: the first data after the first socket asks, or after the last one closed, can come
unstamped (it is then timed when read). A run holds one socket that asks (``keep_on``), so
that its connections' stamps never stop between them.
"""

from __future__ import annotations

import platform
import socket
import struct
import sys
from collections.abc import Callable
from time import perf_counter_ns, time_ns

#: ``SO_TIMESTAMPNS`` (and its ancillary message, ``SCM_TIMESTAMPNS``) in Linux's generic
#: socket numbering, which these machines use (alpha, parisc, sparc and mips differ). Python's
#: socket module does not name it.
SO_TIMESTAMPNS = 35
_GENERIC_NUMBERING = {"x86_64", "amd64", "aarch64", "arm64", "riscv64", "ppc64le", "s390x"}

#: whether this platform stamps received data for the asking.
AVAILABLE = sys.platform == "linux" and platform.machine().lower() in _GENERIC_NUMBERING

#: room for one ancillary message holding a timespec (two longs): a socket that asked for
#: nothing else gets that one message, and ``timespec`` reads its data as (seconds, ns).
ANCILLARY_SIZE = socket.CMSG_SPACE(struct.calcsize("@ll"))
timespec: Callable[[bytes], tuple[int, int]] = struct.Struct("@ll").unpack


def enable(sock: socket.SocketType) -> None:
    """Ask the kernel to stamp what ``sock`` receives."""
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


def keep_on() -> socket.socket | None:
    """A socket that asks for stamps and does nothing else: while it is open, the kernel keeps
    stamping. None where the kernel refuses to stamp."""
    keeper = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        enable(keeper)
    except OSError:
        keeper.close()
        return None
    return keeper


def offset_ns(samples: int = 5) -> int:
    """What to add to a ``CLOCK_REALTIME`` stamp to put it on ``perf_counter_ns``'s clock:
    the wall-clock reading bracketed by two monotonic ones, from the narrowest bracket of
    ``samples`` (one preempted between its readings would be off by half the preemption)."""
    narrowest, offset = None, 0
    for _ in range(samples):
        before = perf_counter_ns()
        wall = time_ns()
        after = perf_counter_ns()
        if narrowest is None or after - before < narrowest:
            narrowest, offset = after - before, (before + after) // 2 - wall
    return offset
