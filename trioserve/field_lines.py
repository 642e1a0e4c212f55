"""Sans-IO judge of a request head's lines as they arrive, for a head that comes in pieces.

    lines = FieldLines()
    verdict = lines.feed(piece)    # the head's bytes so far, in any pieces; None: no fault yet
    verdict = lines.at_eof()       # the client closed before the head ended

``HeadScanner`` judges the request line as it arrives; this judges the field lines the same
way, so that a bad head gets its 400 at its first bad line rather than when its end comes
(or its ``head_timeout``), as nginx answers. The rules are ``head_fields``' (its grammar and
its ``FieldTally``), the very ones the whole-head check applies: a head this refuses, the
whole-head check refuses too, however it ends.

When a fault shows:

- A field line, once its LF has come: its grammar (a token name, the colon right after it,
  value bytes, no obs-fold), then the rules its framing field breaks for good (a second Host,
  differing lengths, ...: see ``FieldTally.take``). The rules of the whole head (no Host, a
  coding list that does not end in chunked) wait for its end, and the whole-head check.
- A CR in a field line, as soon as a byte other than LF follows it.
- At EOF, the line not ended yet, if no bytes could make it a line: ``"\\x01"`` or
  ``"Ho st"``, not ``"Ho"``. Its field's own rules (a Host value, a length) wait for an LF that
  will never come: such a head, valid so far by the grammar, is closed quietly.

The request line is the first line fed; it is the scanner's to judge but for EOF, and only
tells HTTP/1.0 from 1.1 here. The empty line ends the head: bytes after it are ignored.
Once a verdict is given, every later call gives it again.

Each byte is looked at a bounded number of times however the head is split: a line's bytes
are kept until its LF, judged once then, and a CR is looked for only among new bytes.
"""

from __future__ import annotations

from typing import Final

from trioserve.head_fields import (
    BAD_REQUEST,
    FIELD_LINES,
    UNFINISHED_FIELD_LINE,
    FieldTally,
    is_http11,
)
from trioserve.head_scanner import UNFINISHED_REQUEST_LINE, HeadRejected

_EMPTY_LINES: Final = (b"\n", b"\r\n")


class FieldLines:
    """Feed it the bytes of one request head; it says 400 at the first line that breaks it."""

    __slots__ = ("_ended", "_line", "_tally", "_verdict")

    def __init__(self) -> None:
        self._line = bytearray()  # the line not ended yet: the bytes since the last LF
        self._tally: FieldTally | None = None  # made at the request line's LF
        self._ended = False  # the empty line has come
        self._verdict: HeadRejected | None = None

    def feed(self, data: bytes) -> HeadRejected | None:
        """Take the next piece of the head; 400 if a line so far breaks a rule for good."""
        if self._verdict is not None or self._ended:
            return self._verdict
        line = self._line
        lf = data.rfind(b"\n")
        if lf < 0:
            start = len(line)
            line += data
        else:
            lines = bytes(line) + data[: lf + 1] if line else data[: lf + 1]
            start = 0
            self._line = bytearray(data[lf + 1 :])
            self._verdict = self._judge(lines)
            if self._verdict is not None or self._ended:
                return self._verdict
        if self._tally is not None and self._bare_cr(start):
            self._verdict = BAD_REQUEST
        return self._verdict

    def at_eof(self) -> HeadRejected | None:
        """The head will get no more bytes: 400 if a line so far, or the unfinished one, is bad."""
        if self._verdict is None and not self._ended:
            # The scanner's grammar for a request line without its LF, ours for a field line.
            unfinished = UNFINISHED_REQUEST_LINE if self._tally is None else UNFINISHED_FIELD_LINE
            if unfinished.fullmatch(self._line) is None:
                self._verdict = BAD_REQUEST
        return self._verdict

    def _judge(self, lines: bytes) -> HeadRejected | None:
        """Judge whole lines (each ends in LF), the request line first if it is among them."""
        start = 0
        tally = self._tally
        if tally is None:
            start = lines.index(b"\n") + 1
            tally = self._tally = FieldTally(is_http11(lines, start))
        matched = FIELD_LINES.match(lines, start)  # never None: it may match no line at all
        end = start if matched is None else matched.end()
        if end < len(lines):
            if not lines.startswith(_EMPTY_LINES, end):
                return BAD_REQUEST
            self._ended = True
        return None if tally.take(lines, start, end) else BAD_REQUEST

    def _bare_cr(self, start: int) -> bool:
        """A CR with a byte after it in the unfinished line, where ``line[start:]`` is new.

        The line holds no LF, so any CR but a last one is bare; the one before the new bytes
        may have just got its next byte.
        """
        line = self._line
        return line.find(b"\r", start - 1 if start else 0, len(line) - 1) >= 0
