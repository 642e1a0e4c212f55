"""Look-ups on complete heads: body framing, persistence, the access-log line."""

from __future__ import annotations

import pytest

from trioserve.head_fields import body_length, declares_body, request_line, wants_keep_alive


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", False),
        (b"POST / HTTP/1.1\r\ncontent-LENGTH: 3\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nX-Content-Length: 3\r\n\r\n", False),
    ],
)
def test_declares_body_finds_framing_headers(head: bytes, expected: bool) -> None:
    assert declares_body(head) is expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\nContent-Length:  42 \r\n\r\n", 42),
        (b"POST / HTTP/1.1\nContent-Length: 7\n\n", 7),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 5),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", None),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", None),
        (b"POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", None),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", None),
    ],
)
def test_body_length_reads_content_length_or_gives_up(head: bytes, expected: int | None) -> None:
    assert body_length(head) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nConnection: Upgrade, Close\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", True),
        (b"GET / HTTP/1.0\nconnection: keep-alive\n\n", True),
    ],
)
def test_wants_keep_alive_follows_rfc9112(head: bytes, expected: bool) -> None:
    assert wants_keep_alive(head) is expected


def test_request_line_is_first_line_decoded() -> None:
    assert request_line(b"GET /\xe9 HTTP/1.1\r\nHost: x\r\n\r\n") == "GET /\xe9 HTTP/1.1"
