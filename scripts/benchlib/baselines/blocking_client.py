"""A plain blocking-socket client: the latency reference trioload's own overhead is judged by.

c threads, each: connect, send an HTTP/1.0 request, read to EOF, close. Prints a JSON report
in the shape of ``trioload --json -``.
"""

from __future__ import annotations

import socket
import threading
import time

from .common import Tally, client_args, request_bytes

SOCKET_TIMEOUT_S = 30.0


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
        tally.record(reply, started)


def main() -> None:
    args = client_args(__doc__)
    tally = Tally(args.requests)
    request = request_bytes(args.host, args.port, "blocking-baseline")
    threads = [
        threading.Thread(target=worker, args=(args.host, args.port, request, tally))
        for _ in range(args.concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.print_report()


if __name__ == "__main__":
    main()
