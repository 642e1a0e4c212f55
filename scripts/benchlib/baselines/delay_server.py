"""A server that answers every request after a fixed delay: the yardstick for client overhead.

Against it, a client's p50 minus the delay is that client's own overhead. asyncio protocols
(callbacks, no task per connection) keep the server's share of each request small, and
``--workers`` processes share the port (SO_REUSEPORT): c clients with a fixed delay arrive in
waves, and a wave served one request at a time would add its own queueing to every p50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys

from .common import HEAD_END, REPLY

MAX_HEAD = 65536
BACKLOG = 4096


class DelayedReply(asyncio.Protocol):
    """Per connection: wait for the blank line, then answer ``delay_s`` later and close."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.received = b""
        self.transport: asyncio.Transport | None = None
        self.answered = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.answered or self.transport is None:
            return
        self.received += data
        if HEAD_END in self.received:
            self.answered = True
            asyncio.get_running_loop().call_later(self.delay_s, self._answer)
        elif len(self.received) > MAX_HEAD:
            self.transport.close()

    def _answer(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(REPLY)
            self.transport.close()


async def serve(host: str, port: int, delay_s: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: DelayedReply(delay_s), host, port, backlog=BACKLOG, reuse_port=True
    )
    for sock in server.sockets:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"delay server ({delay_s * 1000:g} ms) listening on {host}:{port}", file=sys.stderr)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the port")
    args = parser.parse_args()
    for _ in range(args.workers - 1):
        if os.fork() == 0:
            break  # a worker: serve like the parent (all stop with the process group)
    asyncio.run(serve(args.host, args.port, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
