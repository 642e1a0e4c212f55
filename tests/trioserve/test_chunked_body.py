"""The chunked-body reader: where a body ends, against h11, under every split of reads."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trioserve.chunked_body import MALFORMED, BodyEnd, ChunkedBody, ChunkedResult
from trioserve.head_scanner import NEED_MORE

CHUNKED_HEAD = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
NEXT_REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
FUZZ = settings(max_examples=300, deadline=None)


def h11_body_end(stream: bytes) -> int | None:
    """Where h11, as a server, ends the chunked body at the start of ``stream``; None if bad."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(CHUNKED_HEAD + stream)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                return None
            if isinstance(event, h11.EndOfMessage):
                return len(stream) - len(conn.trailing_data[0])
    except h11.RemoteProtocolError:
        return None


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:stop] for start, stop in itertools.pairwise(bounds)]


def feed_all(pieces: Sequence[bytes], **limits: int) -> list[ChunkedResult]:
    body = ChunkedBody(**limits)
    return [body.feed(piece) for piece in pieces]


hex_sizes = st.integers(1, 300).flatmap(
    lambda size: st.sampled_from([b"%x" % size, b"%X" % size, b"00%x" % size])
)
extensions = st.lists(
    st.sampled_from([b";a", b";name=value", b';q="x, \\"y\\""', b"; b = c", b";c=1"]), max_size=2
).map(b"".join)
trailers = st.lists(st.sampled_from([b"Expires: 0\r\n", b"X-Sum: abc\r\n"]), max_size=2)


@st.composite
def chunked_streams(draw: st.DrawFn) -> tuple[bytes, int]:
    """A well-formed chunked body, then the bytes after it; and where the body ends."""
    body = b""
    for size in draw(st.lists(hex_sizes, max_size=4)):
        data = draw(st.binary(min_size=int(size, 16), max_size=int(size, 16)))
        body += size + draw(extensions) + b"\r\n" + data + b"\r\n"
    body += draw(st.sampled_from([b"0", b"000"])) + draw(extensions) + b"\r\n"
    body += b"".join(draw(trailers)) + b"\r\n"
    return body + draw(st.sampled_from([b"", NEXT_REQUEST, b"G"])), len(body)


@FUZZ
@given(stream_and_end=chunked_streams(), data=st.data())
def test_feed_ends_the_body_where_h11_does_under_any_split(
    stream_and_end: tuple[bytes, int], data: st.DataObject
) -> None:
    stream, end = stream_and_end
    assert h11_body_end(stream) == end
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    pieces = split_at(stream, cuts)

    results = feed_all(pieces)

    fed = 0
    for piece, result in zip(pieces, results, strict=True):
        fed += len(piece)
        if fed < end:
            assert result is NEED_MORE
        else:  # the piece that ends the body returns what followed it there, and it stays
            assert result == BodyEnd(stream[end:fed])
            assert results[-1] is result
            break


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(b"5\r\nhelloX\r\n0\r\n\r\n", id="no-crlf-after-data"),
        pytest.param(b"5\r\nhello\n0\r\n\r\n", id="bare-lf-after-data"),
        pytest.param(b"5\nhello\r\n0\r\n\r\n", id="bare-lf-chunk-line"),
        pytest.param(b"x\r\n", id="not-hex"),
        pytest.param(b"-5\r\n", id="negative"),
        pytest.param(b"+5\r\n", id="plus"),
        pytest.param(b" 5\r\n", id="leading-space"),
        pytest.param(b"5 \r\n", id="trailing-space"),
        pytest.param(b"0x5\r\n", id="0x-prefix"),
        pytest.param(b"\r\n", id="empty-size"),
        pytest.param(b"1" * 17 + b"\r\n", id="17-hex-digits"),
        pytest.param(b"5;\r\n", id="empty-extension"),
        pytest.param(b"5;a=\r\n", id="extension-without-value"),
        pytest.param(b'5;a="x\r\n', id="unclosed-quote"),
        pytest.param(b"5;a b\r\n", id="extension-with-space"),
        pytest.param(b"0\r\nFoo bar\r\n\r\n", id="trailer-not-a-field"),
        pytest.param(b"0\r\nFoo : bar\r\n\r\n", id="trailer-space-before-colon"),
        pytest.param(b"0\r\nFoo: a\x00b\r\n\r\n", id="trailer-nul"),
        pytest.param(b"0\r\n\n", id="bare-lf-last-line"),
        pytest.param(b"0\r\nFoo: bar\n\r\n", id="bare-lf-trailer"),
    ],
)
def test_feed_refuses_malformed_framing(stream: bytes) -> None:
    assert feed_all([stream])[-1] is MALFORMED
    assert feed_all([bytes([byte]) for byte in stream])[-1] is MALFORMED


def test_feed_refuses_a_chunk_line_over_the_limit_before_its_end() -> None:
    body = ChunkedBody(max_line=16)
    assert body.feed(b"5;" + b"a" * 13) is NEED_MORE  # 15 bytes: still within 16
    assert body.feed(b"aa") is MALFORMED  # 17 bytes and no LF: refused without waiting


def test_feed_refuses_a_trailer_section_over_the_limit() -> None:
    trailer = b"X-Pad: " + b"a" * 20 + b"\r\n"  # 29 bytes a line
    assert feed_all([b"0\r\n" + trailer * 2 + b"\r\n"], max_trailer=58)[-1] == BodyEnd(b"")
    assert feed_all([b"0\r\n" + trailer * 3 + b"\r\n"], max_trailer=58)[-1] is MALFORMED


def test_feed_skips_a_large_chunk_without_keeping_it() -> None:
    body = ChunkedBody()
    assert body.feed(b"100000\r\n") is NEED_MORE
    for _ in range(16):  # 1 MiB in 64 KiB pieces
        assert body.feed(b"\0" * 65536) is NEED_MORE
    assert body.feed(b"\r\n0\r\n\r\nnext") == BodyEnd(b"next")


def test_feed_keeps_its_final_verdict() -> None:
    body = ChunkedBody()
    assert body.feed(b"0\r\n\r\nrest") == BodyEnd(b"rest")
    assert body.feed(b"more") == BodyEnd(b"rest")
    bad = ChunkedBody()
    assert bad.feed(b"zz\r\n") is MALFORMED
    assert bad.feed(b"0\r\n\r\n") is MALFORMED
