"""The line-by-line judge: named cases, and under hypothesis against the whole-head check.

The oracle is ``settled``: a head's bytes so far settle its 400 when every way to finish them
gets 400 from the whole-head check (the scanner, then ``check_fields``, which
``test_head_fields`` holds to h11). The judge must refuse only settled heads, and every head
the lines it has whole settle, under any split of the bytes into pieces.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trioserve.test_head_fields import generated_heads
from tests.trioserve.test_head_scanner import cuts_for, split_at
from trioserve.field_lines import FieldLines
from trioserve.head_fields import Framing, check_fields
from trioserve.head_scanner import NEED_MORE, HeadComplete, HeadRejected, HeadScanner

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
FRAMING_NAMES = {b"host", b"content-length", b"transfer-encoding"}


def whole_head_status(stream: bytes) -> int:
    """The status the whole-head check gives ``stream``, which holds a whole head."""
    result = HeadScanner().feed(stream)
    assert result is not NEED_MORE
    if isinstance(result, HeadComplete):
        verdict = check_fields(stream[: result.end])
        return 200 if isinstance(verdict, Framing) else verdict.status
    assert isinstance(result, HeadRejected)
    return result.status


def settled(prefix: bytes) -> bool:
    """Every way to finish ``prefix`` into a head gets 400: its bytes alone decide it."""
    model = MODEL_LINES[b"\n" in prefix]
    return all(
        whole_head_status(prefix + model[cut:] + line_end + tail + b"\r\n") == 400
        for cut in range(len(model) + 1)
        for line_end in (b"\n", b"\r\n")
        for tail in TAILS
    )


def feed_all(*pieces: bytes) -> list[HeadRejected | None]:
    lines = FieldLines()
    return [lines.feed(piece) for piece in pieces]


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
    assert feed_all(before + b"\r", b"\n") == [None, None]  # the empty line: no fault


def test_field_lines_refuse_transfer_encoding_in_http10_at_its_line() -> None:
    assert feed_all(b"GET / HTTP/1.0\r\n", b"Transfer-Encoding: chunked\n") == [None, BAD]


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
    judge = FieldLines()
    assert judge.feed(REQUEST + lines) is None
    assert judge.at_eof() is None
    assert not settled(REQUEST + lines)


@pytest.mark.parametrize(
    "unfinished",
    [
        REQUEST + b"Host: a\r\nX-Dummy: a\r\n\x01\x02",
        REQUEST + b"Ho st",
        REQUEST + b"X: a\x00",
        REQUEST + b" folded",
        b"GET /\x01",
        b"GET  /",
        b"GET / HTTP/2",
    ],
    ids=[
        "dummy-characters",
        "space-in-a-name",
        "nul",
        "obs-fold",
        "ctl-in-target",
        "two-spaces",
        "http2",
    ],
)
def test_field_lines_at_eof_refuse_a_line_no_bytes_could_finish(unfinished: bytes) -> None:
    judge = FieldLines()
    assert judge.feed(unfinished) is None
    assert judge.at_eof() == BAD
    assert settled(unfinished)


@pytest.mark.parametrize(
    "unfinished",
    [
        REQUEST + b"Host: a\r\nX-Du",
        REQUEST + b"Host: a\r\nX: a\r",
        REQUEST + b"Host: a\r\n\r",
        REQUEST,
        b"GET / HTT",
        b"",
    ],
    ids=["name", "value-cr", "empty-line-cr", "request-line", "version", "nothing"],
)
def test_field_lines_at_eof_let_a_head_valid_so_far_close_quietly(unfinished: bytes) -> None:
    judge = FieldLines()
    assert judge.feed(unfinished) is None
    assert judge.at_eof() is None
    assert not settled(unfinished)


def test_field_lines_at_eof_leave_a_framing_value_to_its_lf() -> None:
    # Its own rules wait for the line's end: "Host: a b" never comes right, but is not judged.
    judge = FieldLines()
    assert judge.feed(REQUEST + b"Host: a b") is None
    assert judge.at_eof() is None


def test_field_lines_ignore_what_follows_the_empty_line() -> None:
    assert feed_all(REQUEST + b"Host: a\r\n\r\nHo st: \x00\r\n", b"\rZ\n") == [None, None]


def test_field_lines_keep_their_verdict() -> None:
    judge = FieldLines()
    assert judge.feed(REQUEST + b"Ho st: a\r\n") == BAD
    assert judge.feed(b"Host: a\r\n") == BAD
    assert judge.at_eof() == BAD


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


def judged_only_at_its_lf(unfinished_line: bytes) -> bool:
    """A line whose fault, if any, no unfinished bytes show: a framing field's value (its own
    rules), or a lone CR (the empty line begun: the whole head's rules)."""
    name, colon, _ = unfinished_line.partition(b":")
    return unfinished_line == b"\r" or (bool(colon) and name.lower() in FRAMING_NAMES)


@FUZZ
@given(stream=unfinished_heads(), data=st.data())
def test_field_lines_refuse_exactly_the_heads_their_lines_settle_under_any_split(
    stream: bytes, data: st.DataObject
) -> None:
    judge = FieldLines()
    fed = 0
    for piece in split_at(stream, data.draw(cuts_for(stream))):
        verdict = judge.feed(piece)
        fed += len(piece)
        so_far = stream[:fed]
        if verdict is not None:
            assert verdict == BAD
            assert settled(so_far)  # never early: no bytes could have mended it
            return
        last_lf = so_far.rfind(b"\n")
        assert not settled(so_far[: last_lf + 1])  # never late: each line judged at its LF
        if last_lf >= 0:
            assert b"\r" not in so_far[last_lf + 1 : -1]  # a bare CR, at the byte after it
    unfinished_line = stream[stream.rfind(b"\n") + 1 :]
    verdict = judge.at_eof()
    if verdict is not None:
        assert settled(stream)
    elif not judged_only_at_its_lf(unfinished_line):
        assert not settled(stream)
