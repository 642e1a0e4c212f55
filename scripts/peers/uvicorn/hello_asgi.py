"""A bare ASGI app for uvicorn: the 88-byte reply's headers and body, nothing else.

Run by the bench as ``uvicorn --app-dir scripts/peers/uvicorn hello_asgi:app`` with uvloop,
httptools and the server and date headers off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]

HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"5"), (b"connection", b"close")]


async def app(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return  # lifespan and anything else: nothing to set up
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b"hello"})
