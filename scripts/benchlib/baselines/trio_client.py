"""The plainest trio load client, the baseline trioload must beat.

c tasks; each repeatedly opens a connection with ``trio.open_tcp_stream``, sends an HTTP/1.0
request, reads to EOF and closes, until n requests are done. Prints a JSON report.
"""

from __future__ import annotations

import time

import trio

from .common import client_args, is_good_reply, print_report, request_bytes


class Tally:
    """Requests handed out and their outcomes, shared by the tasks (one thread, no locks)."""

    def __init__(self, requests: int) -> None:
        self.remaining = requests
        self.completed = 0
        self.failed = 0
        self.expected_length: int | None = None
        self.samples_ns: list[int] = []

    def take(self) -> bool:
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


async def fetch(host: str, port: int, request: bytes) -> bytes:
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(request)
        chunks = []
        while chunk := await stream.receive_some(65536):
            chunks.append(chunk)
    return b"".join(chunks)


async def worker(host: str, port: int, request: bytes, tally: Tally) -> None:
    while tally.take():
        started = time.perf_counter_ns()
        try:
            reply = await fetch(host, port, request)
        except (OSError, trio.BrokenResourceError):
            reply = b""
        tally.completed += 1
        if not is_good_reply(reply, tally.expected_length):
            tally.failed += 1
            continue
        tally.expected_length = len(reply)
        tally.samples_ns.append(time.perf_counter_ns() - started)


async def run(host: str, port: int, requests: int, concurrency: int) -> None:
    tally = Tally(requests)
    request = request_bytes(host, port, "trio-baseline")
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker, host, port, request, tally)
    print_report(tally.completed, tally.failed, time.perf_counter() - started, tally.samples_ns)


def main() -> None:
    args = client_args(__doc__)
    trio.run(run, args.host, args.port, args.requests, args.concurrency)


if __name__ == "__main__":
    main()
