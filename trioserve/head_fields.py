"""Sans-IO look-ups on a complete request head: the few facts the server acts on.

The server never parses headers into a dict: it answers every request the same way and only
needs to know whether a body follows (to drain it or skip it) and whether the client wants the
connection kept open. Each question is one precompiled, case-insensitive regex search.
"""

from __future__ import annotations

import re

_BODY_HEADER = re.compile(rb"\n(?:content-length|transfer-encoding)[ \t]*:", re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_TRANSFER_ENCODING = re.compile(rb"\ntransfer-encoding[ \t]*:", re.IGNORECASE)
_CONNECTION = re.compile(rb"\nconnection[ \t]*:([^\r\n]*)", re.IGNORECASE)


def declares_body(head: bytes) -> bool:
    """True when the head announces a body (Content-Length or Transfer-Encoding)."""
    return _BODY_HEADER.search(head) is not None


def body_length(head: bytes) -> int | None:
    """The body's length in bytes: 0 without one, None when it can't be known in advance.

    None covers chunked bodies and malformed or conflicting Content-Length values: the server
    then answers and closes, instead of guessing where the next request starts.
    """
    if _TRANSFER_ENCODING.search(head):
        return None
    values = {match.group(1).strip() for match in _CONTENT_LENGTH.finditer(head)}
    if not values:
        return 0
    if len(values) > 1:
        return None
    (value,) = values
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def wants_keep_alive(head: bytes) -> bool:
    """Persistence as RFC 9112 defines it: HTTP/1.1 unless ``close``, HTTP/1.0 only if asked."""
    line_end = head.find(b"\n")
    http11 = head[:line_end].rstrip(b"\r").endswith(b"HTTP/1.1")
    tokens: set[bytes] = set()
    for match in _CONNECTION.finditer(head):
        tokens.update(t.strip().lower() for t in match.group(1).split(b","))
    if b"close" in tokens:
        return False
    return http11 or b"keep-alive" in tokens


def request_line(head: bytes) -> str:
    """The first line, decoded for the access log (never fails: bytes map 1:1 to latin-1)."""
    line_end = head.find(b"\n")
    line = head if line_end < 0 else head[:line_end]
    return line.rstrip(b"\r").decode("latin-1")
