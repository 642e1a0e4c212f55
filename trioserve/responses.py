"""Every response the server can send, encoded once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

_REASONS = {
    200: "OK",
    400: "Bad Request",
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
}


def encode_response(status: int, body: bytes, content_type: str, connection: str) -> bytes:
    """Build one complete HTTP/1.1 response with a Content-Length and a Connection header."""
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: {connection}\r\n\r\n"
    )
    return head.encode("latin-1") + body


@dataclass(frozen=True, slots=True)
class Responses:
    """The pre-encoded bytes: one write each, no per-request formatting."""

    close: bytes
    keep_alive: bytes
    errors: dict[int, bytes]
    #: the same 200 responses without their body, for HEAD requests (RFC 9110 section 9.3.2).
    close_for_head: bytes = b""
    keep_alive_for_head: bytes = b""

    def ok(self, head: bytes, *, keep_alive: bool) -> bytes:
        """The 200 response for this request head: bodiless for HEAD."""
        if head[:5] == b"HEAD ":
            return self.keep_alive_for_head if keep_alive else self.close_for_head
        return self.keep_alive if keep_alive else self.close

    @classmethod
    def build(cls, body: bytes, content_type: str) -> Responses:
        errors = {
            status: encode_response(
                status, _REASONS[status].encode() + b"\n", "text/plain", "close"
            )
            for status in (400, 408, 414, 431, 501)
        }
        close = encode_response(200, body, content_type, "close")
        keep_alive = encode_response(200, body, content_type, "keep-alive")
        return cls(
            close=close,
            keep_alive=keep_alive,
            errors=errors,
            close_for_head=close[: len(close) - len(body)],
            keep_alive_for_head=keep_alive[: len(keep_alive) - len(body)],
        )
