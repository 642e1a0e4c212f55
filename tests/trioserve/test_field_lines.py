"""The line-by-line judge: named cases, and under hypothesis against the whole-head check.

The oracle is ``settled``: a head's bytes so far settle its 400 when every ending it tries (a
fixed set: see ``endings``) gets 400 from the whole-head check (the scanner, then
``check_fields``, which ``test_head_fields`` holds to h11). The judge must refuse only settled
heads, and every head the lines it has whole settle, under any split of the bytes into pieces.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trioserve.field_lines
import trioserve.head_scanner
from tests.trioserve.test_head_fields import generated_heads
from tests.trioserve.test_head_scanner import cuts_for, h11_requests, split_at
from trioserve.field_lines import FieldLines
from trioserve.head_fields import FIELD_LINES, Framing, check_fields
from trioserve.head_scanner import (
    NEED_MORE,
    UNFINISHED_REQUEST_LINE,
    HeadComplete,
    HeadRejected,
    HeadScanner,
)

BAD = HeadRejected(400)
FUZZ = settings(max_examples=300, deadline=None)
#: A request line, and a plain field line: the ends of these finish any unfinished line.
MODEL_LINES = (b"GET / HTTP/1.1", b"X: v")
#: What may follow a finished line before the head ends: nothing, or what the whole-head rules
#: may still miss (a Host, a final chunked).
TAILS = (
    b"",
    b"Host: x\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Host: x\r\nTransfer-Encoding: chunked\r\n",
)
DIGITS = re.compile(rb"[0-9]+")


def whole_head_status(stream: bytes) -> int:
    """The status the whole-head check gives ``stream``, which holds a whole head."""
    result = HeadScanner().feed(stream)
    assert result is not NEED_MORE
    if isinstance(result, HeadComplete):
        verdict = check_fields(stream[: result.end])
        return 200 if isinstance(verdict, Framing) else verdict.status
    assert isinstance(result, HeadRejected)
    return result.status


def endings(prefix: bytes) -> set[bytes]:
    """The ways ``settled`` tries to end the line ``prefix`` ends in: a fixed set, not every way.

    The tails of a model line (the request line's, or a field line's after the first LF): they
    end any line some bytes could end, but for a value begun. For a value begun, also ``0`` and
    the tails of every run of digits so far: they end any Content-Length value some bytes could
    end (each element goes on to the length given before it, if any). A Host value begun may
    need others (``[::1`` needs a ``]``).
    """
    model = MODEL_LINES[b"\n" in prefix]
    tried = {model[cut:] for cut in range(len(model) + 1)}
    if b":" in prefix[prefix.rfind(b"\n") + 1 :]:
        tried.add(b"0")
        tried.update(run[cut:] for run in DIGITS.findall(prefix) for cut in range(len(run)))
    return tried


def settled(prefix: bytes) -> bool:
    """Each ending ``endings`` tries, the line then ended and the head finished, gets 400.

    The endings tried are a fixed set, so a head with a valid ending outside it (a Host value
    begun) counts as settled here although it is not: ``left_to_its_lf`` names those.
    """
    return all(
        whole_head_status(prefix + ending + line_end + tail + b"\r\n") == 400
        for ending in endings(prefix)
        for line_end in (b"\n", b"\r\n")
        for tail in TAILS
    )


def feed_all(*pieces: bytes) -> list[HeadRejected | None]:
    """The judge's verdict after each piece, the head grown in one buffer as the exchange does."""
    lines, head = FieldLines(), bytearray()
    verdicts = []
    for piece in pieces:
        head += piece
        verdicts.append(lines.feed(head))
    return verdicts


def at_eof(head: bytes) -> HeadRejected | None:
    """The judge's verdict on ``head`` whole, quiet so far, then cut short by EOF."""
    judge = FieldLines()
    assert judge.feed(head) is None
    return judge.at_eof(head)


# -- named cases ------------------------------------------------------------------------------

REQUEST = b"GET / HTTP/1.1\r\n"
BAD_LINES = [
    pytest.param(b"Ho st: a", id="space-in-a-name"),
    pytest.param(b"Host : a", id="space-before-the-colon"),
    pytest.param(b"aaa", id="no-colon"),
    pytest.param(b"\x01\x02", id="dummy-characters"),
    pytest.param(b": a", id="empty-name"),
    pytest.param(b"X: a\x00b", id="nul-in-a-value"),
    pytest.param(b" folded", id="obs-fold"),
    pytest.param(b"Host: a b", id="host-not-a-host"),
    pytest.param(b"Host: b", id="second-host"),
    pytest.param(b"Content-Length: 5, 6", id="lengths-differ"),
    pytest.param(b"Transfer-Encoding: chunked, gzip", id="a-coding-after-chunked"),
    pytest.param(b"Transfer-Encoding: chunked\r\nContent-Length: 1", id="length-after-coding"),
]


@pytest.mark.parametrize("line", BAD_LINES)
@pytest.mark.parametrize("line_end", [b"\r\n", b"\n"])
def test_field_lines_refuse_a_bad_line_once_its_lf_has_come(line: bytes, line_end: bytes) -> None:
    before = REQUEST + b"Host: a\r\n"
    assert settled(before + line + line_end)
    assert feed_all(before, line, line_end) == [None, None, BAD]
    assert feed_all(before + line + line_end) == [BAD]


def test_field_lines_refuse_a_bare_cr_as_soon_as_the_next_byte_shows_it() -> None:
    before = REQUEST + b"Host: a\r\n"
    assert feed_all(before + b"\r", b"Z") == [None, BAD]  # llhttp's "dummy characters"
    assert feed_all(before + b"X: 1\r", b"B", b"ar: 2\r\n") == [None, BAD, BAD]
    assert feed_all(before + b"X: 1\r", b"\n") == [None, None]  # a CRLF split: no fault


def test_field_lines_refuse_transfer_encoding_in_http10_at_its_line() -> None:
    assert feed_all(b"GET / HTTP/1.0\r\n", b"Transfer-Encoding: chunked\n") == [None, BAD]


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        (b"GET / HTTP/1.1\r", b"X"),
        (b"GET /", b"\r"),
        (b"GET /", b"\x01abc"),
        (b"GET ", b" /"),
        (b"GE", b"/T / HTTP/1.1"),
        (b"GET / HTTP/", b"2"),
        (b"GET / HTTP/1.1", b"x"),
        (b"GET / HTTP/1.1", b" "),
    ],
    ids=[
        "bare-cr",
        "cr-in-the-target",
        "ctl-in-the-target",
        "two-spaces",
        "separator-in-the-method",
        "http2",
        "after-the-version",
        "third-space",
    ],
)
def test_field_lines_refuse_a_request_line_as_soon_as_no_bytes_could_finish_it(
    good: bytes, bad: bytes
) -> None:
    assert not settled(good)
    assert settled(good + bad)
    assert feed_all(good, bad) == [None, BAD]
    assert feed_all(good + bad) == [BAD]
    assert feed_all(*(bytes([byte]) for byte in good + bad))[-len(bad)] == BAD


@pytest.mark.parametrize(
    "lines",
    [
        b"User-Agent: x\r\n",  # no Host yet: one may come
        b"Host: a\r\nTransfer-Encoding: gzip\r\n",  # a chunked may come last
        b"Host: a\r\nTransfer-Encoding:\r\n",
        b"Host: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n",
    ],
    ids=["no-host-yet", "gzip-so-far", "no-coding-yet", "equal-lengths"],
)
def test_field_lines_leave_the_whole_head_rules_to_its_end(lines: bytes) -> None:
    assert at_eof(REQUEST + lines) is None
    assert not settled(REQUEST + lines)


@pytest.mark.parametrize(
    "unfinished",
    [
        REQUEST + b"Host: a\r\nX-Dummy: a\r\n\x01\x02",
        REQUEST + b"Ho st",
        REQUEST + b"X: a\x00",
        REQUEST + b" folded",
    ],
    ids=["dummy-characters", "space-in-a-name", "nul", "obs-fold"],
)
def test_field_lines_at_eof_refuse_a_line_no_bytes_could_finish(unfinished: bytes) -> None:
    assert at_eof(unfinished) == BAD
    assert settled(unfinished)


HOST = b"Host: a\r\n"
HTTP10 = b"GET / HTTP/1.0\r\n"


@pytest.mark.parametrize(
    "unfinished",
    [
        REQUEST + HOST + b"Host:",
        REQUEST + HOST + b"host: a",
        HTTP10 + HOST + b"Host:",
        HTTP10 + b"Transfer-Encoding:",
        REQUEST + HOST + b"Transfer-Encoding: chunked\r\nContent-Length:",
        REQUEST + HOST + b"Content-Length: 5\r\nTransfer-Encoding: chunked",
        REQUEST + HOST + b"Content-Length: x",
        REQUEST + HOST + b"Content-Length: 1 2",
        REQUEST + HOST + b"Content-Length: 5, 6",
        REQUEST + HOST + b"Content-Length: ,",
        REQUEST + HOST + b"Content-Length: 12\r\nContent-Length: 13",
        REQUEST + HOST + b"Content-Length: 12\r\nContent-Length: 123",
        REQUEST + HOST + b"Content-Length: " + b"1" * 21,
        REQUEST + HOST + b"Transfer-Encoding: chunked, g",
        REQUEST + HOST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
    ],
    ids=[
        "second-host",
        "second-host-with-a-value",
        "second-host-http10",
        "coding-in-http10",
        "length-after-coding",
        "coding-after-length",
        "length-not-digits",
        "length-with-a-space",
        "lengths-differ",
        "empty-length",
        "length-not-the-earlier-one",
        "length-longer-than-the-earlier-one",
        "length-too-long",
        "a-coding-after-chunked",
        "chunked-twice",
    ],
)
def test_field_lines_at_eof_refuse_a_framing_field_no_bytes_could_mend(unfinished: bytes) -> None:
    assert at_eof(unfinished) == BAD
    assert at_eof(unfinished + b"\r") == BAD  # its CRLF half come
    assert settled(unfinished)


@pytest.mark.parametrize(
    "unfinished",
    [
        REQUEST + HOST + b"X-Du",
        REQUEST + HOST + b"X: a\r",
        REQUEST + HOST + b"\r",
        REQUEST,
        b"GET / HTT",
        b"GET / HTTP/1.1\r",
        b"",
        REQUEST + b"Host:",
        REQUEST + b"Host: 127.0.0.1:6",
        HTTP10 + b"Host: a\r\nContent-Length:",
        REQUEST + HOST + b"Content-Length: 1",
        REQUEST + HOST + b"Content-Length: 5, ",
        REQUEST + HOST + b"Content-Length: 12\r\nContent-Length: 1",
        REQUEST + HOST + b"Content-Length: 12\r\nContent-Length: 12 ",
        REQUEST + HOST + b"Transfer-Encoding: chun",
        REQUEST + HOST + b"Transfer-Encoding: chunked,",
    ],
    ids=[
        "name",
        "value-cr",
        "empty-line-cr",
        "request-line",
        "version",
        "version-cr",
        "nothing",
        "host-name",
        "host-value",
        "length-in-http10",
        "length",
        "length-list",
        "beginning-of-the-earlier-length",
        "the-earlier-length",
        "coding",
        "coding-list",
    ],
)
def test_field_lines_at_eof_let_a_head_valid_so_far_close_quietly(unfinished: bytes) -> None:
    assert at_eof(unfinished) is None
    assert not settled(unfinished)


@pytest.mark.parametrize(
    ("line", "verdict"),
    [
        (b"Content-Length:  \r", BAD),
        (b"Content-Length:\r", BAD),
        (b"Host: a b\r", BAD),
        (b"Content-Length: 5\r", None),
        (b"X-Empty:\r", None),
    ],
    ids=["blank-length", "empty-length", "host-not-a-host", "length", "empty-value"],
)
def test_field_lines_at_eof_judge_a_line_at_its_cr_as_a_whole_one(
    line: bytes, verdict: HeadRejected | None
) -> None:
    # Only its LF could follow the CR: what the line breaks then, no bytes could mend.
    assert at_eof(REQUEST + line) == verdict
    assert settled(REQUEST + line) == (verdict is not None)


@pytest.mark.parametrize("value", [b"a b", b"[::1", b"%4"], ids=["space", "ip-literal", "percent"])
def test_field_lines_at_eof_leave_a_host_value_to_its_lf(value: bytes) -> None:
    # Its grammar holds for no beginning but whole hosts: "a b" will never be one, "[::1" can.
    assert at_eof(REQUEST + b"Host: " + value) is None


def test_field_lines_read_the_callers_buffer_and_keep_no_copy() -> None:
    ended = REQUEST + b"Host: a\r\n"
    head = bytearray(ended + b"X: ")
    judge = FieldLines()
    assert judge.feed(head) is None
    head[: len(ended)] = b"\x00" * len(ended)  # lines ended are judged: never read again
    head += b"1\r\nY: "
    assert judge.feed(head) is None
    head[-3:] = b"Y :"  # the line not ended yet is read where it lies, once it ends
    head += b"1\r\n"
    assert judge.feed(head) == BAD


def test_field_lines_keep_their_verdict() -> None:
    judge = FieldLines()
    head = REQUEST + b"Ho st: a\r\n"
    assert judge.feed(head) == BAD
    assert judge.feed(head + b"Host: a\r\n") == BAD
    assert judge.at_eof(head + b"Host: a\r\n") == BAD


class CountedPattern:
    """A compiled pattern that counts its matches and the bytes they may cover."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self.calls = 0
        self.covered = 0

    def match(self, string: bytearray, pos: int, endpos: int) -> re.Match[bytes] | None:
        self.calls += 1
        self.covered += endpos - pos
        return self.pattern.match(string, pos, endpos)

    def fullmatch(self, string: bytearray, pos: int = 0) -> re.Match[bytes] | None:
        self.calls += 1
        self.covered += len(string) - pos
        return self.pattern.fullmatch(string, pos)


def fed_byte_by_byte(stream: bytes) -> list[HeadRejected | None]:
    return feed_all(*(bytes([byte]) for byte in stream))


@pytest.mark.parametrize("length", [1_000, 8_000])
def test_field_lines_match_a_request_line_fed_byte_by_byte_whole_only_a_few_times(
    length: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = CountedPattern(UNFINISHED_REQUEST_LINE)
    monkeypatch.setattr(trioserve.head_scanner, "UNFINISHED_REQUEST_LINE", counted)
    line = b"GET /" + b"a" * length + b" HTTP/1.1\r"
    assert fed_byte_by_byte(line) == [None] * len(line)
    # At each space, then at each byte of the version: never at a byte of the target.
    assert counted.calls == 2 + len(b"HTTP/1.1\r")
    assert counted.covered < 12 * len(line)


@pytest.mark.parametrize("length", [1_000, 8_000])
def test_field_lines_match_each_field_line_fed_byte_by_byte_once(
    length: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = CountedPattern(FIELD_LINES)
    monkeypatch.setattr(trioserve.field_lines, "FIELD_LINES", counted)
    lines = b"Host: a\r\nX: " + b"a" * length + b"\r\n"
    assert fed_byte_by_byte(REQUEST + lines) == [None] * len(REQUEST + lines)
    assert (counted.calls, counted.covered) == (2, len(lines))


# -- under hypothesis: refused exactly when settled, whatever the split ----------------------


@st.composite
def unfinished_heads(draw: st.DrawFn) -> bytes:
    """A generated head without its empty line, maybe damaged past its request line, cut."""
    head = draw(generated_heads()).encode()
    stream = bytearray(head[: head.rindex(b"\n", 0, len(head) - 1) + 1])
    request_line_end = stream.index(b"\n") + 1
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(request_line_end, len(stream)))
        stream[at:at] = draw(st.sampled_from([b"\r", b"\x00", b" ", b":", b"\x01"]))
    return bytes(stream[: draw(st.integers(0, len(stream)))])


HOST_NAME = re.compile(rb"host:", re.IGNORECASE)


def left_to_its_lf(stream: bytes) -> bool:
    """The head cut short ``stream`` is in a line whose fault, if any, the judge leaves to its
    LF: the value of a first Host (its grammar holds for no beginning but whole hosts), or a
    lone CR (the empty line begun: the whole head's rules)."""
    lf = stream.rfind(b"\n")
    line = stream[lf + 1 :]
    if line == b"\r":
        return True
    first_line_end = stream.find(b"\n")
    earlier = stream[first_line_end + 1 : lf + 1].splitlines()
    return (
        HOST_NAME.match(line) is not None
        and first_line_end >= 0
        and not any(HOST_NAME.match(earlier_line) for earlier_line in earlier)
    )


@FUZZ
@given(stream=unfinished_heads(), data=st.data())
def test_field_lines_refuse_exactly_the_heads_their_lines_settle_under_any_split(
    stream: bytes, data: st.DataObject
) -> None:
    judge = FieldLines()
    head = bytearray()
    for piece in split_at(stream, data.draw(cuts_for(stream))):
        head += piece
        verdict = judge.feed(head)
        so_far = bytes(head)
        if verdict is not None:
            assert verdict == BAD
            assert settled(so_far)  # never early: no bytes could have mended it
            return
        last_lf = so_far.rfind(b"\n")
        assert not settled(so_far[: last_lf + 1])  # never late: each line judged at its LF
        if last_lf >= 0:
            assert b"\r" not in so_far[last_lf + 1 : -1]  # a bare CR, at the byte after it
    verdict = judge.at_eof(head)
    if verdict is not None:
        assert settled(stream)
    elif not left_to_its_lf(stream):
        assert not settled(stream)


@st.composite
def request_lines_cut_short(draw: st.DrawFn) -> bytes:
    """The beginning of a request line (no LF), maybe with bytes a request line may not hold."""
    request = draw(h11_requests())
    line = request[: request.index(b"\n")]
    stream = bytearray(line[: draw(st.integers(0, len(line)))])
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(stream)))
        stream[at:at] = draw(
            st.sampled_from([b"\r", b" ", b"\x01", b"\x80", b"/", b"x", b"HTTP/1.1", b"1"])
        )
    return bytes(stream)


@FUZZ
@given(stream=request_lines_cut_short(), data=st.data())
def test_field_lines_refuse_a_request_line_at_its_first_bad_byte_under_any_split(
    stream: bytes, data: st.DataObject
) -> None:
    judge = FieldLines()
    head = bytearray()
    for piece in split_at(stream, data.draw(cuts_for(stream))):
        head += piece
        # At once: never before no bytes could finish it, never after.
        assert (judge.feed(head) is None) == (UNFINISHED_REQUEST_LINE.fullmatch(head) is not None)
    assert (judge.at_eof(head) is None) == (not settled(stream))
