"""The plainest trio load client, the baseline trioload must beat.

c tasks; each repeatedly opens a connection with ``trio.open_tcp_stream``, sends an HTTP/1.0
request, reads to EOF and closes, until n requests are done. Prints a JSON report.
"""

from __future__ import annotations

import time

import trio

from .common import Tally, client_args, request_bytes


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
        tally.record(reply, started)


async def run(host: str, port: int, requests: int, concurrency: int) -> None:
    tally = Tally(requests)
    request = request_bytes(host, port, "trio-baseline")
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker, host, port, request, tally)
    tally.print_report()


def main() -> None:
    args = client_args(__doc__)
    trio.run(run, args.host, args.port, args.requests, args.concurrency)


if __name__ == "__main__":
    main()
