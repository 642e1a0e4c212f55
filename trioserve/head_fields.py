"""Sans-IO check of a complete request head's header fields, and the facts the server acts on.

``check_fields(head)`` runs on every head the scanner has found complete (its request line is
already valid) and returns either the body's ``Framing`` or the ``HeadRejected`` status to answer
with. It enforces what RFC 9112 says a server MUST reject, and what it chooses to reject where
the RFC lets it choose:

=========================================================  ======  ===========================
What the head has                                          Status  RFC
=========================================================  ======  ===========================
a field name that is not a token (empty, ``Fo@``)          400     9112 §5, 9110 §5.1
whitespace between a field name and its colon              400     9112 §5.1 (MUST)
a line that starts with whitespace (obs-fold)              400     9112 §5.2 (MUST or unfold)
a value byte that is CR, LF, NUL or another CTL but HTAB   400     9112 §2.2, 9110 §5.5 (MUST)
HTTP/1.1 (or 1.x above) without a Host field               400     9112 §3.2 (MUST)
more than one Host field, or a Host that is not a host     400     9112 §3.2 (MUST)
a Content-Length that is not digits, or more than 20       400     9112 §6.3, 9110 §8.6 (MUST)
Content-Length values that differ (``5`` and ``05`` too)   400     9112 §6.3 (MUST)
Content-Length together with Transfer-Encoding             400     9112 §6.1 (MAY; MUST close)
Transfer-Encoding in an HTTP/1.0 request                   400     9112 §6.1 (MUST: faulty)
Transfer-Encoding whose last coding is not chunked         400     9112 §6.3 (MUST)
chunked applied twice                                      400     9112 §7.1 (MUST NOT send)
a coding other than chunked before the final chunked       501     9112 §6.1 (SHOULD)
=========================================================  ======  ===========================

Why two passes: nearly every head a benchmark sends (ab's, wrk's, trioload's) has one plain
Host and no body. One compiled regular expression recognises exactly those heads in a single C
pass; any other head gets the full rules, which read the framing fields one by one. The two agree
on every head (``tests/trioserve/test_head_fields.py`` checks it under hypothesis).

The full rules are ``FieldTally``'s, shared with ``trioserve.field_lines``, which judges the
lines of a head that arrives in pieces as each one ends. So the tally tells two kinds of rule
apart: those a field breaks whatever lines follow (a Host that is not a host, a second Host,
Content-Length values that differ, Transfer-Encoding with Content-Length or in HTTP/1.0, a
coding after chunked), which ``take`` reports at once, and those only the whole head can break
(no Host, a coding list that does not end in chunked), which ``framing`` judges at the end.
``take_unfinished`` applies the first kind to a line the stream ended in, as far as its
beginning shows them (its name; a Content-Length or coding list so far; not a Host value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from trioserve.head_scanner import TCHAR, HeadRejected

_TOKEN: Final = TCHAR + b"+"
# field-line = field-name ":" OWS field-value OWS; a value byte is HTAB, SP, VCHAR or obs-text.
# A line ends in CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept it); any other CR,
# a NUL, a space before the colon or at the start of a line (obs-fold) fails the match.
_VALUE_BYTES: Final = rb"[\t\x20-\x7e\x80-\xff]*"
_VALUE: Final = _VALUE_BYTES + rb"\r?\n"
_FIELD_LINE: Final = _TOKEN + rb":" + _VALUE
# Possessive repeats (*+): a field line never starts with CR or LF, so giving lines back could
# not help a match, and not trying keeps a refused 8 KiB head linear.
#: Field lines, each whole; its match stops before the first line that is not one.
FIELD_LINES: Final = re.compile(rb"(?:" + _FIELD_LINE + rb")*+")
_HEADER_BLOCK: Final = re.compile(FIELD_LINES.pattern + rb"\r?\n")
#: A line not ended yet that some bytes could still make a field line, or the empty line:
#: its full match is exactly a prefix of one.
UNFINISHED_FIELD_LINE: Final = re.compile(
    rb"\r|" + TCHAR + b"*|" + _TOKEN + b":" + _VALUE_BYTES + rb"\r?"
)
# RFC 9112 §3.2: Host = uri-host [ ":" port ] (RFC 3986: IP-literal, IPv4 or reg-name; may be
# empty). An IP-literal is checked only for its alphabet: we route nothing by it.
_HOST_VALUE: Final = (
    rb"(?:\[[0-9A-Za-z._~!$&'()*+,;=:%-]+\]|(?:[0-9A-Za-z._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)"
    rb"(?::[0-9]*)?"
)
_HOST: Final = re.compile(_HOST_VALUE)
# The fast pass: the request line (already checked), any field lines but Host and the framing
# fields, exactly one valid Host line, any such lines again, the empty line. (A Host line is
# never a plain line, so the possessive repeats give nothing up here either.)
_PLAIN_LINE: Final = rb"(?!(?i:host|content-length|transfer-encoding):)" + _FIELD_LINE
#: The field lines of a plain head and its empty line (what follows the request line's LF).
PLAIN_FIELDS: Final = (
    rb"(?:" + _PLAIN_LINE + rb")*+"
    rb"(?i:host):[ \t]*" + _HOST_VALUE + rb"[ \t]*\r?\n"
    rb"(?:" + _PLAIN_LINE + rb")*+\r?\n"
)
_PLAIN_HEAD: Final = re.compile(rb"[^\n]*\n" + PLAIN_FIELDS)
# Run only on a block that matched _HEADER_BLOCK: names carry no whitespace, values no CR
# but the one before their LF.
_FRAMING_FIELD: Final = re.compile(
    rb"^((?i:host|content-length|transfer-encoding)):([^\r\n]*)", re.MULTILINE
)
_CONNECTION: Final = re.compile(rb"^connection:([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
_OWS: Final = b" \t"
_CR: Final = 0x0D
#: Content-Length digits beyond this are refused rather than waited for (h11 draws the same line).
MAX_LENGTH_DIGITS: Final = 20

BAD_REQUEST: Final = HeadRejected(400)
NOT_IMPLEMENTED: Final = HeadRejected(501)


@dataclass(frozen=True, slots=True)
class Framing:
    """How a valid request's body is delimited (RFC 9112 §6.3)."""

    #: bytes of body announced by Content-Length (0 without one, and when chunked).
    content_length: int = 0
    #: the body comes in the chunked transfer coding: ``ChunkedBody`` finds its end.
    chunked: bool = False

    @property
    def has_body(self) -> bool:
        return self.chunked or self.content_length > 0


NO_BODY: Final = Framing()
CHUNKED: Final = Framing(chunked=True)


def check_fields(head: bytes) -> Framing | HeadRejected:
    """Judge the header fields of ``head``, a complete head whose request line is valid."""
    if _PLAIN_HEAD.fullmatch(head) is not None:
        return NO_BODY
    return check_fields_fully(head)


def check_fields_fully(head: bytes) -> Framing | HeadRejected:
    """``check_fields`` without the fast pass: every rule in the table, one after another."""
    start = head.index(b"\n") + 1
    if _HEADER_BLOCK.fullmatch(head, start) is None:
        return BAD_REQUEST
    tally = FieldTally(is_http11(head, start))
    if not tally.take(head, start, len(head)):
        return BAD_REQUEST
    return tally.framing()


class FieldTally:
    """The framing fields of one head so far (Host, Content-Length, Transfer-Encoding)."""

    __slots__ = ("_chunked_last", "_codings", "_hosts", "_http11", "_length")

    def __init__(self, http11: bool) -> None:
        self._http11 = http11
        self._hosts = 0
        self._length: bytes | None = None  # the one Content-Length value seen, if any
        # Transfer-Encoding: None without the field, else how many codings it lists so far
        # (several lines make one list, RFC 9110 §5.3; empty elements are ignored, §5.6.1).
        self._codings: int | None = None
        self._chunked_last = False  # the last coding so far is chunked

    def take(self, block: bytes | bytearray, start: int, end: int) -> bool:
        """Add the framing fields of the field lines in ``block[start:end]``.

        False when one breaks a rule that no later line can mend (the head gets 400). The
        lines must be whole and keep the grammar (``FIELD_LINES`` matches them).
        """
        for raw_name, raw_value in _FRAMING_FIELD.findall(block, start, end):
            if not self._take(raw_name.lower(), raw_value.strip(_OWS), whole=True):
                return False
        return True

    def take_unfinished(self, block: bytes | bytearray, start: int, end: int) -> bool:
        """Add the framing field of ``block[start:end]``, a field line that will never end (the
        stream ended in it); ``UNFINISHED_FIELD_LINE`` matches it. The tally is done after it.

        False when no bytes could have mended it: its name breaks a rule whatever its value
        follows (a second Host, Content-Length and Transfer-Encoding together, Transfer-Encoding
        in HTTP/1.0), or its value's beginning does (a Content-Length element that is not
        digits, or not the length; a coding after chunked). A Host value is not judged: its
        grammar does not hold for every beginning of a host (``[::1`` is none, ``[::1]`` is).
        """
        matched = _FRAMING_FIELD.match(block, start, end)
        if matched is None:
            return True  # no framing field, or its name not ended yet
        return self._take(matched[1].lower(), matched[2].strip(_OWS), whole=False)

    def _take(self, name: bytes, value: bytes, *, whole: bool) -> bool:
        """One framing field, its name lower-cased, its value without OWS around it.

        ``whole``: its line has ended; else ``value`` is only the beginning of one. The rules
        its name breaks come first: no value could mend them.
        """
        if name == b"host":
            self._hosts += 1
            return self._hosts == 1 and (not whole or _HOST.fullmatch(value) is not None)
        if name == b"content-length":
            return self._codings is None and self._take_length(value, whole)
        # Transfer-Encoding: faulty framing in HTTP/1.0, and next to a length (§6.1). A coding
        # after chunked is one however the value ends, so a beginning is judged as a value.
        return self._http11 and self._length is None and self._take_codings(value)

    def _take_length(self, value: bytes, whole: bool) -> bool:
        """Every element a run of digits, all of them and any earlier value the same.

        Not ``whole``, the last element is only the beginning of one: it must begin the length,
        and keep the digits rule, which holds for every beginning of an element that keeps it
        (so one that breaks it now breaks it for good).
        """
        elements = _list_elements(value)
        last = b"" if whole else elements.pop()
        for element in elements:
            if not _is_length(element):
                return False
            if self._length is None:
                self._length = element
            elif element != self._length:
                return False  # "5" and "05" too: the same number, yet RFC 9112 §6.3 says invalid
        if not last:
            return True
        return _is_length(last) and (self._length is None or self._length.startswith(last))

    def _take_codings(self, value: bytes) -> bool:
        """Chunked must come last, once: any coding after it breaks the head for good."""
        codings = 0 if self._codings is None else self._codings
        for coding in _list_elements(value):
            if coding:
                if self._chunked_last:
                    return False
                codings += 1
                self._chunked_last = coding == b"chunked"
        self._codings = codings
        return True

    def framing(self) -> Framing | HeadRejected:
        """The verdict once the head is complete (every line taken, none refused)."""
        if self._http11 and self._hosts == 0:
            return BAD_REQUEST
        if self._codings is not None:
            if not self._chunked_last:
                return BAD_REQUEST  # no coding at all, or one other than chunked last
            # gzip, deflate and the rest before chunked: we decode none of them.
            return NOT_IMPLEMENTED if self._codings > 1 else CHUNKED
        if self._length is None:
            return NO_BODY
        content_length = int(self._length)
        return Framing(content_length) if content_length else NO_BODY


def _is_length(element: bytes) -> bool:
    """A Content-Length element: digits, not too many of them."""
    return element.isdigit() and len(element) <= MAX_LENGTH_DIGITS


def _list_elements(value: bytes) -> list[bytes]:
    """A comma-separated field value's elements, without OWS, lower-cased (empty ones kept)."""
    return [element.strip(_OWS).lower() for element in value.split(b",")]


def is_http11(head: bytes | bytearray, start: int) -> bool:
    """The request line (up to ``start``) ends "HTTP/1.<minor>"; 1.2 and above count as 1.1.

    RFC 9110 §2.5: a recipient treats a higher minor version as the highest it implements.
    """
    minor = head[start - 3] if head[start - 2] == _CR else head[start - 2]
    return minor != ord("0")


def wants_keep_alive(head: bytes) -> bool:
    """Persistence as RFC 9112 §9.3 defines it: HTTP/1.1 unless ``close``, HTTP/1.0 if asked."""
    start = head.index(b"\n") + 1
    tokens = {
        token
        for match in _CONNECTION.finditer(head, start)
        for token in _list_elements(match.group(1))
    }
    if b"close" in tokens:
        return False
    return is_http11(head, start) or b"keep-alive" in tokens


def request_line(head: bytes) -> str:
    """The first line, decoded for the access log (never fails: bytes map 1:1 to latin-1)."""
    line_end = head.find(b"\n")
    line = head if line_end < 0 else head[:line_end]
    return line.rstrip(b"\r").decode("latin-1")
