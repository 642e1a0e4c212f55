"""The naive programs the issue measured, written into the bench as the baselines to beat.

``server``: the plainest trio server, ``trio.serve_tcp`` with a task per connection (the
servers part). The clients make n HTTP/1.0 requests over c connections at a time, each on a
new connection read to EOF, and print a JSON report in the shape of ``trioload --json -``:
``trio``, the plainest trio client (tasks and ``trio.open_tcp_stream``), the one trioload
must beat; ``blocking``, threads on blocking sockets, the latency reference trioload's own
overhead is judged by; ``epoll``, one bare epoll loop, the ceiling of a Python client here (no
trio, no parsing beyond ab's length check, no histograms, no timeouts: what trioload adds on
top of it is what the bench's ratio against it shows; what it costs itself is the kernel's).

    .venv/bin/python -m scripts.benchlib.baselines server --port 8080
    .venv/bin/python -m scripts.benchlib.baselines epoll -n 10000 -c 100 --port 8080
"""

from __future__ import annotations

import argparse
import errno
import functools
import json
import math
import select
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trio

REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Connection: close\r\n\r\nhello"
)
HEAD_END = b"\r\n\r\n"
MAX_HEAD = 65536
SOCKET_TIMEOUT_S = 30.0
_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK


def request_bytes(host: str, port: int, agent: str) -> bytes:
    """The request ab sends: HTTP/1.0, no keep-alive."""
    return (
        f"GET / HTTP/1.0\r\nHost: {host}:{port}\r\nUser-Agent: {agent}\r\nAccept: */*\r\n\r\n"
    ).encode("ascii")


def nearest_rank(sorted_ns: list[int], percent: float) -> float:
    """The exact nearest-rank percentile of sorted nanosecond samples, in milliseconds."""
    if not sorted_ns:
        return math.nan
    rank = max(1, math.ceil(percent / 100 * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


class Tally:
    """Requests handed out and their outcomes, under one lock (the blocking client's threads
    share it); every good request's time is kept, so percentiles are exact, not buckets."""

    def __init__(self, requests: int) -> None:
        self.lock = threading.Lock()
        self.remaining = requests
        self.completed = self.failed = 0
        self.expected_length: int | None = None
        self.samples_ns: list[int] = []
        self.started = time.perf_counter()

    def take(self) -> bool:
        with self.lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def record(self, reply: bytes, started_ns: int) -> None:
        """A 200 of the same length as the first good one is good (ab's notion of failure)."""
        elapsed_ns = time.perf_counter_ns() - started_ns
        good = reply.startswith((b"HTTP/1.1 200 ", b"HTTP/1.0 200 ")) and (
            self.expected_length in (None, len(reply))
        )
        with self.lock:
            self.completed += 1
            if not good:
                self.failed += 1
                return
            self.expected_length = len(reply)
            self.samples_ns.append(elapsed_ns)

    def print_report(self) -> None:
        """One JSON object on stdout, in the shape of ``trioload --json -``."""
        elapsed_s = time.perf_counter() - self.started
        samples = sorted(self.samples_ns)
        latency = {"p50": 50, "p99": 99, "max": 100}
        report = {
            "requests_per_second": self.completed / elapsed_s if elapsed_s > 0 else 0.0,
            "finished": self.completed,
            "succeeded": self.completed - self.failed,
            "failed": self.failed,
            "elapsed_s": elapsed_s,
            "latency_ms": {"total": {k: nearest_rank(samples, p) for k, p in latency.items()}},
        }
        print(json.dumps(report))


def blocking(host: str, port: int, requests: int, concurrency: int) -> Tally:
    """c threads, each: connect, send the request, read to EOF, close; again."""
    tally, request = Tally(requests), request_bytes(host, port, "blocking-baseline")

    def worker() -> None:
        while tally.take():
            started, chunks = time.perf_counter_ns(), []
            try:
                with socket.create_connection((host, port), timeout=SOCKET_TIMEOUT_S) as sock:
                    sock.sendall(request)
                    while chunk := sock.recv(65536):
                        chunks.append(chunk)
            except OSError:
                chunks = []
            tally.record(b"".join(chunks), started)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def trio_client(host: str, port: int, requests: int, concurrency: int) -> Tally:
    """c tasks, each: ``trio.open_tcp_stream``, send the request, read to EOF, close; again."""
    import trio  # noqa: PLC0415  (the other programs do without it, and without its start-up)

    tally, request = Tally(requests), request_bytes(host, port, "trio-baseline")

    async def worker() -> None:
        while tally.take():
            started, chunks = time.perf_counter_ns(), []
            try:
                async with await trio.open_tcp_stream(host, port) as stream:
                    await stream.send_all(request)
                    while chunk := await stream.receive_some(65536):
                        chunks.append(chunk)
            except (OSError, trio.BrokenResourceError):
                chunks = []
            tally.record(b"".join(chunks), started)

    async def run() -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(concurrency):
                nursery.start_soon(worker)

    trio.run(run)
    return tally


class EpollLoop:
    """c non-blocking connections over one epoll set until n requests are done: each sends
    its request as soon as ``connect_ex`` returns, reads to EOF when epoll says so, closes, and
    the next request starts at once."""

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

    def run(self, concurrency: int) -> Tally:
        for _ in range(concurrency):
            self.start()
        while self.open:
            for fd, _mask in self.poller.poll(-1, 1024):
                self.on_readable(fd)
            while not self.open and self.tally.remaining > 0:  # every start failed: start again
                self.start()
        return self.tally


def epoll(host: str, port: int, requests: int, concurrency: int) -> Tally:
    return EpollLoop(host, port, requests).run(concurrency)


def server(host: str, port: int) -> None:
    """``trio.serve_tcp``, a task per connection: read to the blank line, send the 88-byte
    reply, close."""
    import trio  # noqa: PLC0415  (as in trio_client)

    async def handle(stream: trio.SocketStream) -> None:
        received = b""
        try:
            while HEAD_END not in received:
                chunk = await stream.receive_some(4096)
                if not chunk or len(received) > MAX_HEAD:
                    return
                received += chunk
            await stream.send_all(REPLY)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the client went away; nothing to answer
        finally:
            await stream.aclose()

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            serve_tcp = functools.partial(trio.serve_tcp, handle, port, host=host)
            bound = (await nursery.start(serve_tcp))[0].socket.getsockname()
            print(f"trio baseline listening on http://{bound[0]}:{bound[1]}/", file=sys.stderr)

    trio.run(serve)


CLIENTS = {"trio": trio_client, "blocking": blocking, "epoll": epoll}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("program", choices=["server", *CLIENTS])
    parser.add_argument("-n", "--requests", type=int, default=1, help="a client's requests")
    parser.add_argument("-c", "--concurrency", type=int, default=1, help="a client's c")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.program == "server":
        server(args.host, args.port)
        return
    CLIENTS[args.program](args.host, args.port, args.requests, args.concurrency).print_report()


if __name__ == "__main__":
    main()
