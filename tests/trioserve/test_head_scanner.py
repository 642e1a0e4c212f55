"""The head scanner against h11 and against a whole-buffer reference, under every split of reads."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.trioserve.conftest import h11_head_length
from trioserve.head_scanner import (
    NEED_MORE,
    UNFINISHED_REQUEST_LINE,
    HeadComplete,
    HeadRejected,
    HeadScanner,
    ScanResult,
)

AB_HEAD = (
    b"GET / HTTP/1.0\r\nHost: 127.0.0.1:60000\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"
)
TCHARS = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
VCHARS = bytes(range(0x21, 0x7F))
FUZZ = settings(max_examples=400, deadline=None)


# -- the reference: whole buffer, one rule after another, as the module docstring states ------


def _is_request_line(line: bytes) -> bool:
    parts = line.split(b" ")
    if len(parts) != 3:
        return False
    method, target, version = parts
    return (
        bool(method)
        and all(byte in TCHARS for byte in method)
        and bool(target)
        and all(byte in VCHARS for byte in target)
        and version in {b"HTTP/1.%d" % minor for minor in range(10)}
    )


def reference(stream: bytes, max_head: int = 8192, max_request_line: int = 4096) -> ScanResult:
    """What the scanner must answer once ``stream`` has been fed, however it was split."""
    seen = stream[: max_head + 1]  # nothing past this may matter
    if not seen:
        return NEED_MORE
    rejected = _request_line_verdict(seen, max_request_line)
    if rejected is not None:
        return rejected
    lf = seen.find(b"\n")
    terminator = re.compile(rb"\n\r?\n").search(seen, lf) if lf >= 0 else None
    if terminator is not None and terminator.end() <= max_head:
        return HeadComplete(terminator.end())
    return HeadRejected(431) if len(seen) > max_head else NEED_MORE


def _request_line_verdict(seen: bytes, max_request_line: int) -> HeadRejected | None:
    """The first byte and the request line, as far as ``seen`` (not empty) shows them."""
    if seen[0] < 0x21:
        return HeadRejected(400)
    lf = seen.find(b"\n")
    line = seen if lf < 0 else seen[:lf]
    if len(line) - line.endswith(b"\r") > max_request_line:  # a CR before the LF is no content
        return HeadRejected(414)
    if lf >= 0 and not _is_request_line(line.removesuffix(b"\r")):
        return HeadRejected(400)
    return None


# -- helpers ----------------------------------------------------------------------------------


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any order, repeats give empty pieces)."""
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:stop] for start, stop in itertools.pairwise(bounds)]


def feed_all(scanner: HeadScanner, pieces: Sequence[bytes]) -> list[ScanResult]:
    return [scanner.feed(piece) for piece in pieces]


def final(
    pieces: Sequence[bytes], max_head: int = 8192, max_request_line: int = 4096
) -> ScanResult:
    return feed_all(HeadScanner(max_head, max_request_line), pieces)[-1]


@st.composite
def cuts_for(draw: st.DrawFn, data: bytes) -> list[int]:
    return draw(st.lists(st.integers(0, len(data)), max_size=12))


# -- properties -------------------------------------------------------------------------------

tokens = st.text(st.sampled_from(TCHARS.decode()), min_size=1, max_size=12).map(str.encode)
methods = st.one_of(st.sampled_from([b"GET", b"POST", b"HEAD", b"OPTIONS", b"get"]), tokens)
targets = st.one_of(
    st.sampled_from([b"/", b"*", b"http://127.0.0.1:60000/a?b=c", b"127.0.0.1:60000"]),
    st.text(st.sampled_from(VCHARS.decode()), min_size=1, max_size=40).map(str.encode),
)
field_words = st.binary(min_size=1, max_size=12).map(
    lambda word: bytes(byte for byte in word if byte > 0x20 and byte != 0x7F) or b"x"
)
field_values = st.lists(field_words, max_size=4).map(b" ".join)
field_names = tokens.filter(
    lambda name: name.lower() not in {b"host", b"content-length", b"transfer-encoding"}
)
line_ends = st.sampled_from([b"\r\n", b"\n"])


@st.composite
def h11_requests(draw: st.DrawFn) -> bytes:
    """A request (head, maybe a body, maybe pipelined bytes) serialized by hand, CRLF or LF."""
    version = draw(st.sampled_from([b"1.0", b"1.1"]))
    lines = [draw(methods) + b" " + draw(targets) + b" HTTP/" + version]
    fields = [(b"Host", b"127.0.0.1:60000")] if version == b"1.1" or draw(st.booleans()) else []
    fields += draw(st.lists(st.tuples(field_names, field_values), max_size=6))
    body = draw(st.one_of(st.none(), st.binary(max_size=40)))
    if body is not None:
        fields.insert(draw(st.integers(0, len(fields))), (b"Content-Length", b"%d" % len(body)))
    for name, value in fields:
        spaces = draw(st.sampled_from([b"", b" ", b"\t ", b"  "]))
        lines.append(name + b":" + spaces + value + draw(st.sampled_from([b"", b" ", b"\t"])))
        if draw(st.integers(0, 9)) == 0:  # an obsolete folded continuation line
            lines.append(draw(st.sampled_from([b" ", b"\t"])) + draw(field_words))
    head = b"".join(line + draw(line_ends) for line in lines) + draw(line_ends)
    return head + (body or b"") + draw(st.binary(max_size=30))


@FUZZ
@given(request=h11_requests(), data=st.data())
def test_feed_ends_the_head_where_h11_does_under_any_split(
    request: bytes, data: st.DataObject
) -> None:
    expected_end = h11_head_length(request)
    assume(expected_end is not None)
    assert expected_end is not None
    pieces = split_at(request, data.draw(cuts_for(request)))

    results = feed_all(HeadScanner(), pieces)

    assert reference(request) == HeadComplete(expected_end)
    fed = 0
    for piece, result in zip(pieces, results, strict=True):
        fed += len(piece)
        assert result == (HeadComplete(expected_end) if fed >= expected_end else NEED_MORE)


crlf_heavy = st.lists(
    st.sampled_from(
        [
            *(
                b"\r",
                b"\n",
                b"\r\n",
                b" ",
                b"\t",
                b"G",
                b"a",
                b"/",
                b":",
                b"\x00",
                b"\x7f",
                b"\xff",
            ),
            *(b"GET", b"get", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.", b"Host: x"),
        ]
    ),
    max_size=60,
).map(b"".join)
request_line_starts = st.sampled_from(
    [b"", b"GET / HTTP/1.1", b"GET / HTTP/1.0\r\n", b"POST /x HTTP/1.1\n", b"G", b"GET /"]
)


@st.composite
def damaged_requests(draw: st.DrawFn) -> bytes:
    """A request h11 would likely accept, with a few bytes replaced by line-end and blank bytes."""
    stream = bytearray(draw(h11_requests()))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(stream)))
        replacement = draw(st.sampled_from([b"\r", b"\n", b"\r\n", b" ", b"", b"\x00"]))
        stream[at : at + draw(st.integers(0, 2))] = replacement
    return bytes(stream)


long_lines = st.tuples(
    st.sampled_from([b"GET /", b"get *"]),
    st.integers(0, 150).map(lambda length: b"a" * length),
    st.sampled_from([b"", b" HTTP/1.1", b" HTTP/2.0", b" HTTP/1.0\r\nHost: a"]),
    crlf_heavy,
).map(b"".join)
streams = st.one_of(
    st.binary(max_size=200),
    crlf_heavy,
    long_lines,
    st.tuples(request_line_starts, crlf_heavy, st.binary(max_size=20)).map(b"".join),
    damaged_requests(),
)
limits = st.one_of(
    st.just((8192, 4096)),
    st.tuples(st.integers(1, 120), st.integers(1, 60)),
    st.tuples(st.integers(20, 400), st.integers(10, 100)),
)


@FUZZ
@given(stream=streams, limit=limits, data=st.data())
def test_feed_agrees_with_the_reference_on_arbitrary_bytes(
    stream: bytes, limit: tuple[int, int], data: st.DataObject
) -> None:
    max_head, max_request_line = limit
    scanner = HeadScanner(max_head, max_request_line)
    fed = 0
    for piece in split_at(stream, data.draw(cuts_for(stream))):
        result = scanner.feed(piece)
        fed += len(piece)
        assert result == reference(stream[:fed], max_head, max_request_line)
        if isinstance(result, HeadComplete):
            assert result.end <= min(fed, max_head)
        if isinstance(result, HeadRejected):
            assert result.status in {400, 414, 431}


# -- hand-written splits and edge cases -------------------------------------------------------


def test_feed_completes_a_whole_head_in_one_piece() -> None:
    assert HeadScanner().feed(AB_HEAD) == HeadComplete(len(AB_HEAD))


@pytest.mark.parametrize("cut", range(len(AB_HEAD) + 1))
def test_feed_finds_the_end_whatever_the_single_cut(cut: int) -> None:
    scanner = HeadScanner()
    first = scanner.feed(AB_HEAD[:cut])
    second = scanner.feed(AB_HEAD[cut:])
    assert first == (HeadComplete(len(AB_HEAD)) if cut == len(AB_HEAD) else NEED_MORE)
    assert second == HeadComplete(len(AB_HEAD))


@pytest.mark.parametrize(
    "head",
    [
        AB_HEAD,
        b"GET / HTTP/1.1\nHost: a\n\n",
        b"GET / HTTP/1.1\r\nHost: a\n\r\n",
        b"GET / HTTP/1.0\n\n",
    ],
)
def test_feed_one_byte_at_a_time_with_empty_reads_between(head: bytes) -> None:
    scanner = HeadScanner()
    for offset, byte in enumerate(head[:-1]):
        assert scanner.feed(bytes([byte])) is NEED_MORE, offset
        assert scanner.feed(b"") is NEED_MORE, offset
    assert scanner.feed(head[-1:]) == HeadComplete(len(head))


def test_feed_joins_cr_lf_cr_then_lf() -> None:
    scanner = HeadScanner()
    assert scanner.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r") is NEED_MORE
    assert scanner.feed(b"\nnext request") == HeadComplete(27)


@pytest.mark.parametrize(
    ("head", "end"),
    [
        (b"GET / HTTP/1.1\nHost: a\n\nbody", 24),
        (b"GET / HTTP/1.0\n\n", 16),  # the request line's own LF starts the terminator
        (b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n", 18),  # pipelined: the first head only
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: \r\n \r\n\r\n",
            35,
        ),  # a folded line of blanks is not the end
    ],
)
def test_feed_ends_lf_only_and_mixed_heads_where_h11_does(head: bytes, end: int) -> None:
    assert h11_head_length(head) == end
    assert HeadScanner().feed(head) == HeadComplete(end)


@pytest.mark.parametrize("line_end", [b"\r\n", b"\n"])
def test_feed_accepts_a_request_line_of_exactly_the_limit(line_end: bytes) -> None:
    line = b"GET /" + b"a" * 25 + b" HTTP/1.1"
    head = line + line_end + b"Host: a" + line_end + line_end
    assert final([head], max_request_line=len(line)) == HeadComplete(len(head))
    byte_by_byte = [head[offset : offset + 1] for offset in range(len(head))]
    assert final(byte_by_byte, max_request_line=len(line)) == HeadComplete(len(head))


@pytest.mark.parametrize("line_end", [b"\r\n", b"\n"])
def test_feed_rejects_a_request_line_one_byte_over_the_limit(line_end: bytes) -> None:
    line = b"GET /" + b"a" * 25 + b" HTTP/1.1"
    head = line + line_end + b"Host: a" + line_end + line_end
    assert final([head], max_request_line=len(line) - 1) == HeadRejected(414)


def test_feed_rejects_a_long_request_line_before_its_end_arrives() -> None:
    scanner = HeadScanner(max_request_line=10)
    assert scanner.feed(b"GET /aaaaa") is NEED_MORE  # 10 bytes: still fits
    assert scanner.feed(b"\r") is NEED_MORE  # an LF next would end a 10-byte line
    assert scanner.feed(b"a") == HeadRejected(414)


def test_feed_accepts_a_head_of_exactly_max_head() -> None:
    head = b"GET / HTTP/1.1\r\nX: " + b"v" * 50 + b"\r\n\r\n"
    assert final([head], max_head=len(head)) == HeadComplete(len(head))
    assert final([head[:-1], head[-1:]], max_head=len(head)) == HeadComplete(len(head))


def test_feed_rejects_a_head_one_byte_over_max_head_on_the_crossing_feed() -> None:
    head = b"GET / HTTP/1.1\r\nX: " + b"v" * 50 + b"\r\n\r\n"
    scanner = HeadScanner(max_head=len(head) - 1)
    assert scanner.feed(head[:-1]) is NEED_MORE  # max_head bytes in, no terminator yet
    assert scanner.feed(head[-1:]) == HeadRejected(431)
    assert final([head + b"more"], max_head=len(head) - 1) == HeadRejected(431)


def test_feed_rejects_a_terminator_that_ends_past_max_head_in_a_later_piece() -> None:
    scanner = HeadScanner(max_head=30)
    assert scanner.feed(b"GET / HTTP/1.1\r\n") is NEED_MORE
    assert scanner.feed(b"Host: aaaaaaaaaa\r\n\r\nGET / HTTP/1.1\r\n\r\n") == HeadRejected(431)


@pytest.mark.parametrize(
    "line",
    [
        b"GET /" + b"a" * 40 + b" HTTP/1.1",  # fine, but longer than the whole head may be
        b"GET /" + b"a" * 40 + b" HTTP/2.0",  # malformed only past max_head + 1 bytes
        b"GET /" + b"a" * 200,  # too long only past max_head + 1 bytes
    ],
)
def test_feed_looks_no_further_than_max_head_plus_one_byte(line: bytes) -> None:
    assert final([line + b"\r\n\r\n"], max_head=20, max_request_line=100) == HeadRejected(431)


def test_feed_rejects_an_endless_request_line_past_max_head_with_431() -> None:
    scanner = HeadScanner(max_head=20, max_request_line=100)
    assert scanner.feed(b"GET /" + b"a" * 15) is NEED_MORE
    assert scanner.feed(b"a") == HeadRejected(431)


@pytest.mark.parametrize(
    "stream",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
        b"hello world\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / http/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b"GET /\x80 HTTP/1.1\r\n\r\n",
    ],
)
def test_feed_rejects_garbage_with_400(stream: bytes) -> None:
    assert final([stream]) == HeadRejected(400)
    assert h11_head_length(stream) is None


@pytest.mark.parametrize("empty_line", [b"\r\n", b"\n"])
def test_feed_rejects_a_leading_empty_line_like_h11(empty_line: bytes) -> None:
    stream = empty_line + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    assert h11_head_length(stream) is None
    assert HeadScanner().feed(stream) == HeadRejected(400)
    assert HeadScanner().feed(empty_line[:1]) == HeadRejected(400)  # known from the first byte


@pytest.mark.parametrize(
    "line", [b"GET / HTTP/2.0", b"PRI * HTTP/2.0", b"GET / HTTP/0.9", b"GET / HTTP/1.10"]
)
def test_feed_rejects_other_http_versions_with_400(line: bytes) -> None:
    assert final([line + b"\r\n\r\n"]) == HeadRejected(400)


@pytest.mark.parametrize("version", [b"1.0", b"1.1"])
def test_feed_accepts_http_1_0_and_1_1(version: bytes) -> None:
    head = b"GET / HTTP/" + version + b"\r\nHost: a\r\n\r\n"
    assert final([head]) == HeadComplete(len(head))


def test_feed_accepts_a_lower_case_method_like_h11() -> None:
    head = b"get / HTTP/1.1\r\nHost: a\r\n\r\n"
    assert h11_head_length(head) == len(head)
    assert final([head]) == HeadComplete(len(head))


def test_feed_rejects_a_target_with_a_space() -> None:
    assert final([b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"]) == HeadRejected(400)
    assert final([b"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"]) == HeadRejected(400)


@pytest.mark.parametrize(
    ("stream", "verdict"),
    [(AB_HEAD, HeadComplete(len(AB_HEAD))), (b" GET", HeadRejected(400))],
)
def test_feed_keeps_its_final_verdict(stream: bytes, verdict: ScanResult) -> None:
    scanner = HeadScanner()
    assert scanner.feed(stream) == verdict
    assert scanner.feed(b"\r\n\r\n") == verdict
    assert scanner.feed(b"") == verdict


@pytest.mark.parametrize(("max_head", "max_request_line"), [(0, 10), (10, 0), (-1, -1)])
def test_head_scanner_refuses_limits_below_one(max_head: int, max_request_line: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        HeadScanner(max_head, max_request_line)


# -- the request line before its LF -----------------------------------------------------------


@FUZZ
@given(
    request=h11_requests(),
    junk=st.binary(max_size=6).map(lambda junk: junk.replace(b"\n", b"")),
    data=st.data(),
)
def test_unfinished_request_line_matches_exactly_what_bytes_could_finish(
    request: bytes, junk: bytes, data: st.DataObject
) -> None:
    line = request[: request.index(b"\n")]
    prefix = line[: data.draw(st.integers(0, len(line)))]
    assert UNFINISHED_REQUEST_LINE.fullmatch(prefix) is not None
    unfinished = prefix + junk
    # A suffix of this one finishes any line that can be finished (the method, the target
    # and the version each have one of its parts to end with).
    model = b"GET / HTTP/1.1"
    finishable = any(
        _is_request_line((unfinished + model[cut:]).removesuffix(b"\r"))
        for cut in range(len(model) + 1)
    )
    assert (UNFINISHED_REQUEST_LINE.fullmatch(unfinished) is not None) == finishable
