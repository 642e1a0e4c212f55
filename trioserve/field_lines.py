"""Sans-IO judge of a request head's lines as they arrive, for a head that comes in pieces.

    lines = FieldLines()
    head += piece                  # the head's bytes so far, grown in place (or a copy)
    verdict = lines.feed(head)     # None: no fault yet; else the 400 to answer
    verdict = lines.at_eof(head)   # the client closed before the head ended

A bad head gets its 400 at its first bad line rather than when its end comes (or its
``head_timeout``), as nginx answers. The rules are the very ones of the whole-head check:
the scanner's grammar for the request line, ``head_fields``' for the field lines (its
``FIELD_LINES`` and its ``FieldTally``). So a head this refuses, the whole-head check refuses
too, however it ends. (The exchange makes one only for a head that comes in pieces: a head
whole in one read is judged once, at its end.)

When a fault shows:

- The request line, as its bytes arrive: as soon as no bytes could finish it
  (``UNFINISHED_REQUEST_LINE``: ``GET /\\x01``, ``GET  /``, ``GET / HTTP/2``, a CR anywhere but
  after the version, or with a byte other than LF after it). The line once whole (at its LF)
  is the scanner's to judge: here it only tells HTTP/1.0 from 1.1.
- A field line, once its LF has come: its grammar (a token name, the colon right after it,
  value bytes, no obs-fold), then the rules its framing field breaks for good (a second Host,
  differing lengths, ...: see ``FieldTally.take``). The rules of the whole head (no Host, a
  coding list that does not end in chunked) wait for its end, and the whole-head check.
- A CR in a field line, as soon as a byte other than LF follows it.
- At EOF, a field line at its CR: as a whole line (only its LF could follow). Another field
  line not ended yet: if no bytes could make it a field line (``\\x01``,
  ``Ho st``; not ``Ho``), or if its framing field could not be mended by any (a second
  ``Host:``, ``Content-Length:`` with Transfer-Encoding, ``Content-Length: x``: see
  ``FieldTally.take_unfinished``). A Host value cut short is not judged: ``Host: a b``, valid
  so far by the grammar, is closed quietly.

It is fed a head the scanner has not found complete: an empty line, which would end the head,
never comes (it would be no field line here). Once a verdict is given, every later call gives
it again.

Nothing is copied: each call reads the caller's buffer, from where the previous one stopped.
Each byte is looked at a bounded number of times however the head is split: the lines are
matched once each, at their LF; a CR is looked for only among new bytes; and the request line
is matched whole only a few times (see ``unfinished_request_line``).
"""

from __future__ import annotations

from trioserve.head_fields import (
    BAD_REQUEST,
    FIELD_LINES,
    UNFINISHED_FIELD_LINE,
    FieldTally,
    is_http11,
)
from trioserve.head_scanner import HeadRejected, unfinished_request_line

CR = ord("\r")


class FieldLines:
    """Feed it the bytes of one request head; it says 400 at the first line that breaks it."""

    __slots__ = ("_line_start", "_seen", "_spaces", "_tally", "_verdict")

    def __init__(self) -> None:
        self._seen = 0  # the head's bytes judged so far
        self._line_start = 0  # where the line not ended yet begins
        self._spaces = 0  # the spaces in the request line so far, until its LF
        self._tally: FieldTally | None = None  # made at the request line's LF
        self._verdict: HeadRejected | None = None

    def feed(self, head: bytes | bytearray) -> HeadRejected | None:
        """Judge ``head``, the head's bytes so far: those of the previous call, then new ones.

        400 if a line so far breaks a rule for good.
        """
        seen, end = self._seen, len(head)
        if self._verdict is not None or end <= seen:
            return self._verdict
        self._seen = end
        tally = self._tally
        if tally is None:
            lf = head.find(b"\n", seen, end)
            if lf < 0:
                spaces = unfinished_request_line(head, seen, self._spaces)
                if spaces is None:
                    self._verdict = BAD_REQUEST
                else:
                    self._spaces = spaces
                return self._verdict
            seen = self._line_start = lf + 1
            tally = self._tally = FieldTally(is_http11(head, seen))
        start = self._line_start
        lf = head.rfind(b"\n", seen, end)
        if lf >= 0:
            lines_end = lf + 1
            if not _whole_lines_hold(tally, head, start, lines_end):
                self._verdict = BAD_REQUEST
            start = self._line_start = lines_end
        # A CR with a byte after it in the line not ended yet: its bytes new since the last
        # call, and the one before them, which may have just got its next byte.
        if self._verdict is None and head.find(b"\r", max(start, seen - 1), end - 1) >= 0:
            self._verdict = BAD_REQUEST
        return self._verdict

    def at_eof(self, head: bytes | bytearray) -> HeadRejected | None:
        """``head`` will get no more bytes: 400 if a line so far, or the unfinished one, is bad."""
        verdict = self.feed(head)
        tally = self._tally
        if verdict is None and tally is not None:
            start, end = self._line_start, len(head)
            if end - start > 1 and head[end - 1] == CR:
                # At its CR, a field line is whole but for its LF, the one byte that could
                # follow: its rules are those of a whole line.
                line = bytes(head[start:end]) + b"\n"
                if not _whole_lines_hold(tally, line, 0, len(line)):
                    self._verdict = BAD_REQUEST
            else:
                unfinished = UNFINISHED_FIELD_LINE.fullmatch(head, start, end)
                if unfinished is None or not tally.take_unfinished(head, start, end):
                    self._verdict = BAD_REQUEST
        return self._verdict


def _whole_lines_hold(tally: FieldTally, block: bytes | bytearray, start: int, end: int) -> bool:
    """Whether ``block[start:end]``, whole field lines (each to its LF), are field lines by the
    grammar and keep the framing rules the tally adds them to."""
    matched = FIELD_LINES.match(block, start, end)  # never None: maybe no line
    return (start if matched is None else matched.end()) == end and tally.take(block, start, end)
