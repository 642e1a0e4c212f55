"""A plain blocking-socket client: the latency reference trioload's own overhead is judged by.

c threads, each: connect, send an HTTP/1.0 request, read to EOF, close; every request's time
is kept, so the percentiles are exact (sorted samples, nearest rank), not histogram buckets.
Prints a JSON report in the shape of ``trioload --json -``.
"""

from __future__ import annotations

import socket
import threading
import time

from .common import client_args, is_good_reply, print_report, request_bytes

SOCKET_TIMEOUT_S = 30.0


class Tally:
    """Requests handed out and their outcomes, shared by the threads under one lock."""

    def __init__(self, requests: int) -> None:
        self.lock = threading.Lock()
        self.remaining = requests
        self.completed = 0
        self.failed = 0
        self.expected_length: int | None = None
        self.samples_ns: list[int] = []

    def take(self) -> bool:
        with self.lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def record(self, reply: bytes, elapsed_ns: int) -> None:
        with self.lock:
            self.completed += 1
            if not is_good_reply(reply, self.expected_length):
                self.failed += 1
                return
            self.expected_length = len(reply)
            self.samples_ns.append(elapsed_ns)


def fetch(host: str, port: int, request: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=SOCKET_TIMEOUT_S) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def worker(host: str, port: int, request: bytes, tally: Tally) -> None:
    while tally.take():
        started = time.perf_counter_ns()
        try:
            reply = fetch(host, port, request)
        except OSError:
            reply = b""
        tally.record(reply, time.perf_counter_ns() - started)


def main() -> None:
    args = client_args(__doc__)
    tally = Tally(args.requests)
    request = request_bytes(args.host, args.port, "blocking-baseline")
    threads = [
        threading.Thread(target=worker, args=(args.host, args.port, request, tally))
        for _ in range(args.concurrency)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print_report(tally.completed, tally.failed, time.perf_counter() - started, tally.samples_ns)


if __name__ == "__main__":
    main()
