"""Sans-IO reader that finds where a chunked request body ends, across any split of reads.

    body = ChunkedBody()
    result = body.feed(chunk)        # any number of times, chunks of any size
    if result is NEED_MORE: ...
    elif isinstance(result, BodyEnd): result.rest   # the bytes after the body: the next request
    else: ...                                       # MALFORMED: close, nothing after it is framed

The server never keeps a body; it only has to know where the next request starts, and a lenient
reading here is how request smuggling begins. So the reader follows RFC 9112 §7.1 to the letter:

    chunked-body = *chunk last-chunk trailer-section CRLF
    chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    last-chunk   = 1*("0") [ chunk-ext ] CRLF

- chunk-size is 1 to 16 hex digits; chunk-ext is ``;name[=token or quoted-string]``, with
  optional whitespace around ``;`` and ``=`` (BWS). Anything else on that line: ``MALFORMED``.
- Every line end in the framing is CRLF: a bare LF, or other bytes where the CRLF after the data
  belongs, is ``MALFORMED``. h11 is as strict there; it is more lenient with chunk extensions,
  whitespace after the size and LF-only trailer lines, which the grammar above does not allow.
- Trailer fields must be valid field lines (the same rule as header fields); they are skipped.
- A chunk line longer than ``max_line`` or a trailer section longer than ``max_trailer`` is
  ``MALFORMED`` as soon as it is certain, so memory stays bounded whatever the client sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from trioserve.head_scanner import NEED_MORE, NeedMore

_TOKEN: Final = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_QUOTED: Final = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_EXTENSION: Final = (
    rb"[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QUOTED + rb"))?"
)
_CHUNK_LINE: Final = re.compile(rb"([0-9A-Fa-f]{1,16})(?:" + _EXTENSION + rb")*\r\n")
_TRAILER_LINE: Final = re.compile(_TOKEN + rb":[\t\x20-\x7e\x80-\xff]*\r\n")


@dataclass(frozen=True, slots=True)
class BodyEnd:
    """The body ended inside the last piece fed; ``rest`` is what followed it there."""

    rest: bytes


class _Malformed:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MALFORMED"


MALFORMED: Final = _Malformed()

ChunkedResult = BodyEnd | _Malformed | NeedMore


class _Expect(Enum):
    CHUNK_LINE = auto()
    DATA = auto()
    DATA_CRLF = auto()
    TRAILER_LINE = auto()


class _Line(Enum):
    PARTIAL = auto()  # no LF yet
    FRAMING = auto()  # a chunk line or a trailer field: keep reading
    LAST = auto()  # the empty line after the trailer section: the body ends here
    BAD = auto()


class ChunkedBody:
    """Feed it the bytes after a chunked request's head; it says where the body ends."""

    __slots__ = (
        "_data_left",
        "_expect",
        "_line",
        "_max_line",
        "_max_trailer",
        "_result",
        "_trailer",
    )

    def __init__(self, max_line: int = 4096, max_trailer: int = 8192) -> None:
        self._max_line = max_line
        self._max_trailer = max_trailer
        self._expect = _Expect.CHUNK_LINE
        self._line = bytearray()  # a chunk or trailer line so far, until its LF
        self._data_left = 0  # chunk-data bytes still to skip, then the CRLF bytes to match
        self._trailer = 0  # trailer-section bytes so far
        self._result: BodyEnd | _Malformed | None = None

    def feed(self, data: bytes) -> ChunkedResult:
        """Take the next piece of the stream; once final, the verdict never changes."""
        if self._result is not None:
            return self._result
        at = 0
        while at < len(data):
            if self._expect is _Expect.DATA:
                at = self._skip_data(data, at)
            elif self._expect is _Expect.DATA_CRLF:
                if data[at] != b"\r\n"[2 - self._data_left]:
                    return self._final(MALFORMED)
                at += 1
                self._data_left -= 1
                if not self._data_left:
                    self._expect = _Expect.CHUNK_LINE
            else:
                at, line_was = self._read_line(data, at)
                if line_was is _Line.BAD:
                    return self._final(MALFORMED)
                if line_was is _Line.LAST:
                    return self._final(BodyEnd(data[at:]))
        return NEED_MORE

    def _skip_data(self, data: bytes, at: int) -> int:
        """Pass over chunk-data (never copied); return where the next byte to read is."""
        step = min(self._data_left, len(data) - at)
        self._data_left -= step
        if not self._data_left:
            self._expect, self._data_left = _Expect.DATA_CRLF, 2
        return at + step

    def _read_line(self, data: bytes, at: int) -> tuple[int, _Line]:
        """Add ``data[at:]`` up to the next LF to the line; judge the line once it is whole."""
        lf = data.find(b"\n", at)
        end = len(data) if lf < 0 else lf + 1
        self._line += data[at:end]
        if len(self._line) > self._max_line:
            return end, _Line.BAD
        if lf < 0:
            return end, _Line.PARTIAL
        line_was = self._end_of_line(bytes(self._line))
        self._line.clear()
        return end, line_was

    def _end_of_line(self, line: bytes) -> _Line:
        """A complete line (LF included) arrived: say what it was, and move on."""
        if self._expect is _Expect.CHUNK_LINE:
            match = _CHUNK_LINE.fullmatch(line)
            if match is None:
                return _Line.BAD
            size = int(match.group(1), 16)
            self._expect = _Expect.DATA if size else _Expect.TRAILER_LINE
            self._data_left = size
            return _Line.FRAMING
        if line == b"\r\n":
            return _Line.LAST
        self._trailer += len(line)
        if self._trailer > self._max_trailer or _TRAILER_LINE.fullmatch(line) is None:
            return _Line.BAD
        return _Line.FRAMING

    def _final(self, result: BodyEnd | _Malformed) -> BodyEnd | _Malformed:
        self._result = result
        return result
