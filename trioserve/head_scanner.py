"""Sans-IO scanner that finds where an HTTP/1.x request head ends, across any split of reads.

    scanner = HeadScanner(max_head=8192, max_request_line=4096)
    result = scanner.feed(chunk)      # any number of times, chunks of any size, b"" allowed
    if result is NEED_MORE: ...
    elif isinstance(result, HeadComplete): result.end   # stream offset just past the terminator
    else: result.status                                  # HeadRejected: 400, 414 or 431

The verdict depends only on the bytes fed so far (call them the stream), never on how they
were split into reads, and only on the first ``max_head + 1`` of them: the scanner never reads
past its limit. The rules, in order, first match wins:

1. Nothing fed yet: ``NEED_MORE``.
2. The first byte is below ``0x21`` (an empty line, whitespace, a control byte such as a TLS
   handshake's ``0x16``): 400. This is what h11 does too; it refuses a leading empty line.
3. The request line is the stream up to its first LF, less one CR before that LF.
   - Longer than ``max_request_line`` (as soon as that is certain, LF or not): 414.
   - Complete but not ``token SP target SP HTTP/1.DIGIT`` (target: bytes 0x21-0x7E): 400.
     Another major version such as ``HTTP/2.0`` is malformed for this HTTP/1 server: 400,
     not 505, so that a rejection is always one of 400, 414 and 431.
   - Not complete yet: wait (or 431 below).
4. The head ends just past the first ``LF [CR] LF`` (h11 0.16 searches for ``\\n\\r?\\n``;
   RFC 9112 lets a recipient accept bare LF line ends). Ending within ``max_head`` bytes:
   ``HeadComplete(end)``.
5. More than ``max_head`` bytes fed without that: 431, reported by the very feed that crosses
   the limit.
6. Otherwise ``NEED_MORE``.

Once a feed returns ``HeadComplete`` or ``HeadRejected``, every later feed returns that same
object and ignores its bytes: the server stops feeding, and the rules above never change a
final verdict as the stream grows.

Each byte is looked at a bounded number of times however the stream is split: the scanner keeps
the request line only until its LF (at most ``max_request_line + 2`` bytes), then just the last
two bytes of the stream, which is all a terminator split across reads needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class HeadComplete:
    """The head ends at stream offset ``end`` (exclusive: the terminator is inside)."""

    end: int


@dataclass(frozen=True, slots=True)
class HeadRejected:
    """The head is refused: answer with ``status`` and close.

    The scanner refuses with 400, 414 or 431; ``head_fields.check_fields`` with 400 or 501.
    """

    status: int


class NeedMore:
    """The type of ``NEED_MORE``: no verdict yet, feed more bytes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_MORE"


NEED_MORE: Final = NeedMore()

ScanResult = HeadComplete | HeadRejected | NeedMore

_BAD_REQUEST: Final = HeadRejected(400)
#: The scanner's 414, this very object whichever rule gives it.
URI_TOO_LONG: Final = HeadRejected(414)
#: The scanner's 431, this very object whichever rule gives it.
HEAD_TOO_LARGE: Final = HeadRejected(431)

_CR: Final = 0x0D
_FIRST_VISIBLE: Final = 0x21
#: One byte of a token (RFC 9110 §5.6.2): a method here, a field name in ``head_fields``.
TCHAR: Final = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
_TARGET_BYTE: Final = rb"[\x21-\x7e]"
_VERSION: Final = b" HTTP/1."
#: The request line without its line end; a trailing CR (from CRLF) is allowed and ignored.
REQUEST_LINE: Final = TCHAR + b"+ " + _TARGET_BYTE + b"+" + re.escape(_VERSION) + rb"[0-9]\r?"
_REQUEST_LINE: Final = re.compile(REQUEST_LINE)


def _any_prefix_of(literal: bytes, then: bytes) -> bytes:
    """A pattern for any prefix of ``literal``, or all of it followed by a match of ``then``."""
    pattern = then
    for byte in reversed(literal):
        pattern = b"(?:" + re.escape(bytes([byte])) + pattern + b")?"
    return pattern


#: A request line not ended yet that some bytes could still make one: its full match is
#: exactly a prefix of a ``REQUEST_LINE`` match (``unfinished_request_line`` asks it).
UNFINISHED_REQUEST_LINE: Final = re.compile(
    TCHAR + b"*|" + TCHAR + b"+ (?:" + _TARGET_BYTE + b"+"
    + _any_prefix_of(_VERSION, rb"(?:[0-9]\r?)?") + b")?"
)  # fmt: skip
_TERMINATOR: Final = re.compile(rb"\n\r?\n")
#: The bytes that lengthen a request line's method (before its first space), then its target.
_PART_BYTES: Final = (re.compile(TCHAR + b"*"), re.compile(_TARGET_BYTE + b"*"))


def unfinished_request_line(line: bytes | bytearray, start: int, spaces: int) -> int | None:
    """Judge ``line``, a request line without its LF whose first ``start`` bytes some bytes could
    still make one (``spaces`` of them spaces): the spaces it holds if some still could, else None.

    The verdict is ``UNFINISHED_REQUEST_LINE``'s; it is asked only when the new bytes do more
    than lengthen the method or the target, which a line that can still be finished does a
    few times (at each of its two spaces, then at each byte of its short version), so a line
    that comes in pieces costs time linear in its length however it is split.
    """
    now = spaces + line.count(b" ", start)
    if now == spaces < 2 and _PART_BYTES[spaces].fullmatch(line, start) is not None:
        return spaces
    return now if UNFINISHED_REQUEST_LINE.fullmatch(line) is not None else None


class HeadScanner:
    """Feed it the bytes of one connection; it says when the request head is complete."""

    __slots__ = ("_fed", "_line", "_max_head", "_max_request_line", "_result", "_tail")

    def __init__(self, max_head: int = 8192, max_request_line: int = 4096) -> None:
        if max_head < 1 or max_request_line < 1:
            raise ValueError("max_head and max_request_line must be positive")
        self._max_head = max_head
        self._max_request_line = max_request_line
        self._fed = 0
        # The request line so far, until its LF arrives; None once it has been checked.
        self._line: bytearray | None = bytearray()
        # The last two bytes of the stream (after the request line): a terminator may start there.
        self._tail = b""
        self._result: ScanResult | None = None  # final: HeadComplete or HeadRejected

    def feed(self, data: bytes) -> ScanResult:
        """Take the next piece of the stream and say where the head stands."""
        if self._result is not None:
            return self._result
        if not data:
            return NEED_MORE
        base = self._fed  # stream offset of data[0]
        self._fed = base + len(data)
        if self._line is None:
            result = self._scan_headers(data, base)
        else:
            result = self._scan_request_line(self._line, data, base)
        if result is not NEED_MORE:
            self._result = result
        return result

    def _scan_request_line(self, line: bytearray, data: bytes, base: int) -> ScanResult:
        """Rules 2-3 (then 4-6 if this piece ends the line): ``line`` holds the earlier pieces."""
        if base == 0 and data[0] < _FIRST_VISIBLE:
            return _BAD_REQUEST
        # Look no further than line content + CR + LF, nor past max_head + 1 bytes: nothing
        # there can change the verdict. (A conditional, not min(): a call costs on the hot path.)
        line_room = self._max_request_line + 2 - len(line)
        head_room = self._max_head + 1 - base
        room = line_room if line_room < head_room else head_room
        lf = data.find(b"\n", 0, room)
        if lf < 0:
            line += data[:room]
            shortest = len(line) - (line[-1] == _CR)  # a last CR may yet be followed by LF
            return URI_TOO_LONG if shortest > self._max_request_line else self._waiting()
        rejected = self._check_request_line(line, data, lf)
        if rejected is not None:
            return rejected
        self._line = None
        # The request line's own LF may start the terminator ("GET / HTTP/1.0\n\n").
        match = _TERMINATOR.search(data, lf, self._max_head - base)
        if match is not None:
            return HeadComplete(base + match.end())
        self._tail = data[-2:]  # bytes before the first LF can never start a terminator
        return self._waiting()

    def _check_request_line(self, line: bytearray, data: bytes, lf: int) -> HeadRejected | None:
        """Judge the request line: ``line`` (buffered) + ``data[:lf]``, LF at ``data[lf]``."""
        # The stream starts with a visible byte, so an LF at data[0] has line bytes before it.
        before_lf = data[lf - 1] if lf else line[-1]
        if len(line) + lf - (before_lf == _CR) > self._max_request_line:
            return URI_TOO_LONG
        if line:
            matched = _REQUEST_LINE.fullmatch(line + data[:lf])
        else:  # the common case: the whole line in one piece, checked without a copy
            matched = _REQUEST_LINE.fullmatch(data, 0, lf)
        return _BAD_REQUEST if matched is None else None

    def _scan_headers(self, data: bytes, base: int) -> ScanResult:
        """Rules 4-6 once the request line has passed: look for the terminator in new bytes."""
        tail = self._tail
        # A terminator that starts in the previous pieces ends within data[:2].
        match = _TERMINATOR.search(tail + data[:2]) if b"\n" in tail else None
        if match is not None:
            end = base - len(tail) + match.end()
            return HeadComplete(end) if end <= self._max_head else HEAD_TOO_LARGE
        match = _TERMINATOR.search(data, 0, self._max_head - base)
        if match is not None:
            return HeadComplete(base + match.end())
        self._tail = data[-2:] if len(data) >= 2 else tail[-1:] + data
        return self._waiting()

    def _waiting(self) -> ScanResult:
        """No terminator yet: wait for more, unless more than ``max_head`` bytes are in."""
        return HEAD_TOO_LARGE if self._fed > self._max_head else NEED_MORE
