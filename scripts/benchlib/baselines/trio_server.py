"""The plainest trio server, the baseline trioserve must beat.

``trio.serve_tcp``, one task per connection: read to the blank line, send the 88-byte reply,
close; the bench's servers part starts it (``peers.trio_baseline_server``).
"""

from __future__ import annotations

import argparse
import functools
import sys

import trio

from .common import HEAD_END, REPLY

MAX_HEAD = 65536


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


async def serve(host: str, port: int) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, handle, port, host=host))
        bound = listeners[0].socket.getsockname()
        print(f"trio baseline listening on http://{bound[0]}:{bound[1]}/", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    trio.run(serve, args.host, args.port)


if __name__ == "__main__":
    main()
