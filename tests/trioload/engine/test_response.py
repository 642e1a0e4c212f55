"""The sans-IO response reader, checked case by case and against h11 on generated responses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trioload.engine.response import (
    BodyLengthError,
    IncompleteResponseError,
    KnownResponses,
    ProtocolError,
    ResponseReader,
)

OK_88 = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Connection: close\r\n\r\nhello"
)


def read_all(data: bytes, *, head_request: bool = False, split: int = 0) -> ResponseReader:
    reader = ResponseReader(head_request=head_request)
    pieces = [data[i : i + split] for i in range(0, len(data), split)] if split else [data]
    for piece in pieces:
        reader.feed(piece)
    reader.feed_eof()
    return reader


def test_reader_reads_the_reference_response() -> None:
    reader = read_all(OK_88)
    assert (reader.status, reader.body_bytes, reader.content_length) == (200, 5, 5)
    assert reader.head_bytes == len(OK_88) - 5
    assert reader.wire_bytes == 88
    assert reader.complete
    assert not reader.keep_alive


@pytest.mark.parametrize("split", [1, 2, 3, 7, 50])
def test_reader_reads_the_reference_response_split_into_reads(split: int) -> None:
    reader = read_all(OK_88, split=split)
    assert (reader.status, reader.body_bytes, reader.wire_bytes) == (200, 5, 88)


def test_reader_completes_on_content_length_without_eof() -> None:
    reader = ResponseReader()
    assert not reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")
    assert reader.feed(b"lo")
    assert reader.keep_alive


def test_reader_reads_a_chunked_body() -> None:
    reader = ResponseReader()
    done = reader.feed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    assert done
    assert reader.body_bytes == 11
    assert reader.chunked


def test_reader_body_until_close_completes_only_at_eof() -> None:
    reader = ResponseReader()
    assert not reader.feed(b"HTTP/1.0 200 OK\r\nServer: test/1\r\n\r\nabc")
    assert not reader.feed(b"def")
    reader.feed_eof()
    assert reader.complete
    assert reader.body_bytes == 6
    assert reader.server == b"test/1"
    assert not reader.keep_alive


def test_reader_head_request_has_no_body() -> None:
    reader = ResponseReader(head_request=True)
    assert reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n")
    assert reader.body_bytes == 0


def test_reader_skips_interim_responses() -> None:
    reader = read_all(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 2\r\n\r\nno"
    )
    assert (reader.status, reader.body_bytes) == (503, 2)


@pytest.mark.parametrize(
    ("version", "connection", "expected"),
    [
        (b"1.1", b"", True),
        (b"1.1", b"Connection: close\r\n", False),
        (b"1.1", b"Connection: Upgrade, Close\r\n", False),
        (b"1.0", b"", False),
        (b"1.0", b"Connection: Keep-Alive\r\n", True),
    ],
)
def test_reader_keep_alive_follows_version_and_connection(
    version: bytes, connection: bytes, expected: bool
) -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/" + version + b" 200 OK\r\n" + connection + b"Content-Length: 0\r\n\r\n")
    assert reader.keep_alive is expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
    ],
)
def test_reader_eof_before_the_end_is_incomplete(data: bytes) -> None:
    with pytest.raises(IncompleteResponseError):
        read_all(data)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, world",
    ],
)
def test_reader_body_not_matching_content_length_is_a_length_error(data: bytes) -> None:
    with pytest.raises(BodyLengthError):
        read_all(data)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"\r\nHTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded: at start\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ],
)
def test_reader_malformed_response_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        read_all(data)


def test_reader_refuses_an_endless_head() -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProtocolError):
        for _ in range(10_000):
            reader.feed(b"X-Filler: " + b"a" * 100 + b"\r\n")


# -- against h11 ---------------------------------------------------------------------------

TOKEN = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~",
    min_size=1,
    max_size=12,
)
FIELD_TEXT = st.text(
    'abcdefghijklmnopqrstuvwxyz0123456789 \t,;=/.:-"()', min_size=0, max_size=20
).map(str.strip)


@dataclass(frozen=True)
class Generated:
    """One generated exchange: the response bytes, how they arrive, and how it ends."""

    data: bytes
    cuts: tuple[int, ...]
    head_request: bool


@st.composite
def responses(draw: st.DrawFn) -> Generated:
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    version = draw(st.sampled_from([b"1.0", b"1.1"]))
    status = draw(st.sampled_from([200, 201, 204, 301, 304, 404, 500, 503]) | st.integers(200, 599))
    reason = draw(st.sampled_from([b"", b" ", b" OK", b" Some Reason", b" \xe9t\xe9"]))
    head_request = draw(st.booleans())
    body = draw(st.binary(max_size=300))
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    headers: list[tuple[bytes, bytes]] = [
        (draw(TOKEN).encode(), draw(FIELD_TEXT).encode()) for _ in range(draw(st.integers(0, 4)))
    ]
    headers = [(n, v) for n, v in headers if n.lower() not in _FRAMING_NAMES]
    if draw(st.booleans()):
        headers.append((b"Connection", draw(st.sampled_from([b"close", b"keep-alive", b"Close"]))))
    if draw(st.booleans()):
        headers.append((b"Server", b"gen/1.0"))
    no_body = head_request or status in (204, 304)
    if framing == "length":
        declared = len(body)
        headers.append(
            (draw(st.sampled_from([b"Content-Length", b"content-length"])), b"%d" % declared)
        )
        payload = b"" if no_body else body
    elif framing == "chunked":
        headers.append((b"Transfer-Encoding", draw(st.sampled_from([b"chunked", b"Chunked"]))))
        payload = b"" if no_body else _chunk(body, draw(st.lists(st.integers(1, 80), max_size=5)))
    else:
        payload = b"" if no_body else body
    interim = b"HTTP/1.1 100 Continue" + eol + eol if draw(st.booleans()) else b""
    head = b"HTTP/" + version + b" %d" % status + reason + eol
    head += b"".join(
        n + b":" + draw(st.sampled_from([b"", b" ", b"\t "])) + v + eol for n, v in headers
    )
    data = interim + head + eol + payload
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    cuts = tuple(sorted(draw(st.sets(st.integers(1, max(1, len(data) - 1)), max_size=6))))
    return Generated(data, cuts, head_request)


_FRAMING_NAMES = {b"content-length", b"transfer-encoding", b"connection", b"server"}


def _chunk(body: bytes, sizes: list[int]) -> bytes:
    out = b""
    rest = body
    for size in sizes:
        if not rest:
            break
        piece, rest = rest[:size], rest[size:]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    if rest:
        out += b"%X\r\n" % len(rest) + rest + b"\r\n"
    return out + b"0\r\n\r\n"


def _pieces(generated: Generated) -> list[bytes]:
    edges = [0, *(c for c in generated.cuts if c < len(generated.data)), len(generated.data)]
    # An empty read would mean EOF to h11, so pieces are never empty.
    return [generated.data[a:b] for a, b in itertools.pairwise(edges) if b > a]


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "complete", "protocol", "incomplete"
    status: int = 0
    body: int = 0


def _ours(generated: Generated) -> Verdict:
    reader = ResponseReader(head_request=generated.head_request)
    try:
        for piece in _pieces(generated):
            reader.feed(piece)
    except ProtocolError:
        return Verdict("protocol")
    try:
        reader.feed_eof()
    except (IncompleteResponseError, BodyLengthError):
        return Verdict("incomplete")
    return Verdict("complete", reader.status, reader.body_bytes)


def _h11(generated: Generated) -> Verdict:
    conn = h11.Connection(h11.CLIENT)
    method = b"HEAD" if generated.head_request else b"GET"
    conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    status, body, complete = 0, 0, False

    def drain() -> None:
        nonlocal status, body, complete
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += len(event.data)
            elif isinstance(event, h11.EndOfMessage):
                complete = True
            if event in (h11.NEED_DATA, h11.PAUSED) or isinstance(
                event, h11.ConnectionClosed | h11.EndOfMessage
            ):
                return

    try:
        for piece in _pieces(generated):
            conn.receive_data(piece)
            drain()
    except h11.RemoteProtocolError:
        return Verdict("protocol")
    if not complete:
        try:
            conn.receive_data(b"")
            drain()
        except h11.RemoteProtocolError:
            return Verdict("incomplete")
    return Verdict("complete", status, body) if complete else Verdict("incomplete")


@settings(max_examples=500, deadline=None)
@given(responses())
def test_reader_agrees_with_h11(generated: Generated) -> None:
    assert _ours(generated) == _h11(generated)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200), st.sets(st.integers(1, 199), max_size=5))
def test_reader_agrees_with_h11_on_arbitrary_bytes(data: bytes, cuts: set[int]) -> None:
    generated = Generated(b"HTTP/1.1 200 OK\r\n" + data, tuple(sorted(cuts)), False)
    ours, theirs = _ours(generated), _h11(generated)
    # h11 caps a head at 16 KiB and checks some things earlier; on bytes both call valid,
    # the verdicts must match exactly.
    if theirs.outcome == "complete":
        assert ours == theirs
    else:
        assert ours.outcome != "complete"


def _fields(reader: ResponseReader) -> tuple[object, ...]:
    return (
        reader.status,
        reader.version,
        reader.server,
        reader.content_length,
        reader.keep_alive,
        reader.chunked,
        reader.head_bytes,
        reader.body_bytes,
        reader.wire_bytes,
        reader.complete,
    )


@settings(max_examples=300, deadline=None)
@given(responses())
def test_reader_second_sight_of_a_whole_response_reads_as_the_first(
    generated: Generated,
) -> None:
    # A response that arrives whole in one read is remembered; reading it again must give
    # exactly the fields (and errors) a fresh parse gives.
    data = b"".join(_pieces(generated))
    known = KnownResponses(generated.head_request)

    def once() -> tuple[object, ...] | str:
        reader = ResponseReader(generated.head_request, known)
        try:
            reader.feed(data)
        except ProtocolError:
            return "protocol"
        return _fields(reader)

    first, second = once(), once()
    assert first == second
    # What an engine finds by the bytes alone, without a reader: the same response, and only
    # for bytes that were one whole response with nothing after it.
    found = known.find(data)
    reader = ResponseReader(head_request=generated.head_request)
    whole = first != "protocol" and reader.feed(data) and not reader.excess_bytes
    assert found == (reader.response() if whole else None)


@settings(max_examples=300, deadline=None)
@given(responses())
def test_reader_second_sight_of_a_head_reads_as_the_first(generated: Generated) -> None:
    # A final head is remembered by its bytes, whatever reads it came in (a byte a read here:
    # never a whole response); a reader that meets it again must end as the fresh parse did.
    known = KnownResponses(generated.head_request)
    bytewise = [generated.data[i : i + 1] for i in range(len(generated.data))]
    first = _read_fields(bytewise, known)  # parses the head, and remembers it
    assert _read_fields(bytewise, known) == first  # takes the remembered head


def _read_fields(pieces: list[bytes], known: KnownResponses) -> tuple[object, ...] | str:
    reader = ResponseReader(known.head_request, known)
    try:
        for piece in pieces:
            reader.feed(piece)
        reader.feed_eof()
    except ProtocolError:
        return "protocol"
    except (IncompleteResponseError, BodyLengthError):
        return "incomplete"
    return _fields(reader)


def test_reader_remembers_a_response_apart_for_head_requests() -> None:
    with_body = ResponseReader()
    assert with_body.feed(OK_88)
    headless = ResponseReader(head_request=True)
    assert headless.feed(OK_88)  # the 5 body bytes are excess after a HEAD response
    assert (with_body.body_bytes, headless.body_bytes) == (5, 0)
    assert headless.excess_bytes == 5
