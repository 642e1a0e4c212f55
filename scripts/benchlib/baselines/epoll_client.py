"""The ceiling of a Python load client on this machine: one bare epoll loop.

No trio, no response parsing beyond ab's length check, no histograms, no timeouts: c
non-blocking connections, each sends an HTTP/1.0 request as soon as ``connect_ex`` returns,
reads to EOF when epoll says so, closes, and the next request starts at once. What trioload
adds on top of this (structured concurrency, parsing, HDR, deadlines) is what the bench's
ratio against it shows; what this loop itself costs is the kernel's share.
"""

from __future__ import annotations

import errno
import select
import socket
import time

from .common import Tally, client_args, request_bytes

_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK


class Loop:
    """c connections in flight over one epoll set until n requests are done."""

    def __init__(self, host: str, port: int, requests: int) -> None:
        self.address = (host, port)
        self.request = request_bytes(host, port, "epoll-baseline")
        self.tally = Tally(requests)
        self.poller = select.epoll()
        #: fd -> (socket, start time, bytes so far)
        self.open: dict[int, tuple[socket.socket, int, list[bytes]]] = {}

    def start(self) -> None:
        """Start the next request, if any is left."""
        if not self.tally.take():
            return
        started = time.perf_counter_ns()
        sock = socket.socket(socket.AF_INET, _STREAM)
        try:
            if sock.connect_ex(self.address) not in (0, errno.EINPROGRESS):
                raise ConnectionRefusedError
            sock.send(self.request)  # loopback: connected by now
        except OSError:
            sock.close()
            self.tally.record(b"", started)
            return
        self.open[sock.fileno()] = (sock, started, [])
        self.poller.register(sock.fileno(), select.EPOLLIN)

    def on_readable(self, fd: int) -> None:
        sock, started, chunks = self.open[fd]
        while True:
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
                chunks.clear()
            if chunk:
                chunks.append(chunk)
                continue
            del self.open[fd]
            sock.close()
            self.tally.record(b"".join(chunks), started)
            self.start()
            return

    def run(self, concurrency: int) -> None:
        for _ in range(concurrency):
            self.start()
        while self.open:
            for fd, _mask in self.poller.poll(-1, 1024):
                self.on_readable(fd)
            while not self.open and self.tally.remaining > 0:  # every start failed: start again
                self.start()


def main() -> None:
    args = client_args(__doc__)
    loop = Loop(args.host, args.port, args.requests)
    loop.run(args.concurrency)
    loop.tally.print_report()


if __name__ == "__main__":
    main()
