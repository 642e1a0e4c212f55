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

from .common import client_args, is_good_reply, print_report, request_bytes

_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK


class Loop:
    """c connections in flight over one epoll set until n requests are done."""

    def __init__(self, host: str, port: int, requests: int) -> None:
        self.address = (host, port)
        self.request = request_bytes(host, port, "epoll-baseline")
        self.remaining = requests
        self.completed = self.failed = 0
        self.expected_length: int | None = None
        self.samples_ns: list[int] = []
        self.poller = select.epoll()
        #: fd -> (socket, start time, bytes so far)
        self.open: dict[int, tuple[socket.socket, int, list[bytes]]] = {}

    def start(self) -> None:
        """Start the next request, if any is left."""
        if self.remaining <= 0:
            return
        self.remaining -= 1
        started = time.perf_counter_ns()
        sock = socket.socket(socket.AF_INET, _STREAM)
        try:
            if sock.connect_ex(self.address) not in (0, errno.EINPROGRESS):
                raise ConnectionRefusedError
            sock.send(self.request)  # loopback: connected by now
        except OSError:
            sock.close()
            self.completed += 1
            self.failed += 1
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
            self.finish(b"".join(chunks), started)
            return

    def finish(self, reply: bytes, started: int) -> None:
        self.completed += 1
        if not is_good_reply(reply, self.expected_length):
            self.failed += 1
        else:
            self.expected_length = len(reply)
            self.samples_ns.append(time.perf_counter_ns() - started)
        self.start()

    def run(self, concurrency: int) -> None:
        for _ in range(concurrency):
            self.start()
        while self.open:
            for fd, _mask in self.poller.poll(-1, 1024):
                self.on_readable(fd)
            while not self.open and self.remaining > 0:  # every start failed: start again
                self.start()


def main() -> None:
    args = client_args(__doc__)
    loop = Loop(args.host, args.port, args.requests)
    started = time.perf_counter()
    loop.run(args.concurrency)
    print_report(loop.completed, loop.failed, time.perf_counter() - started, loop.samples_ns)


if __name__ == "__main__":
    main()
