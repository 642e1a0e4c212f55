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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from trioserve.head_scanner import HeadRejected

_TOKEN: Final = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
# field-line = field-name ":" OWS field-value OWS; a value byte is HTAB, SP, VCHAR or obs-text.
# A line ends in CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept it); any other CR,
# a NUL, a space before the colon or at the start of a line (obs-fold) fails the match.
_VALUE: Final = rb"[\t\x20-\x7e\x80-\xff]*\r?\n"
_FIELD_LINE: Final = _TOKEN + rb":" + _VALUE
# Possessive repeats (*+): a field line never starts with CR or LF, so giving lines back could
# not help a match, and not trying keeps a refused 8 KiB head linear.
_HEADER_BLOCK: Final = re.compile(rb"(?:" + _FIELD_LINE + rb")*+\r?\n")
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
    hosts = 0
    lengths: set[bytes] = set()
    codings: list[bytes] | None = None
    for raw_name, raw_value in _FRAMING_FIELD.findall(head, start):
        name = raw_name.lower()
        value = raw_value.strip(_OWS)
        if name == b"host":
            hosts += 1
            if hosts > 1 or _HOST.fullmatch(value) is None:
                return BAD_REQUEST
        elif name == b"content-length":
            lengths.update(_list_elements(value))
        else:  # transfer-encoding: a list; several lines make one (RFC 9110 §5.3), and empty
            # elements are ignored (RFC 9110 §5.6.1).
            codings = [] if codings is None else codings
            codings += [coding for coding in _list_elements(value) if coding]
    http11 = _is_http11(head, start)
    if http11 and hosts == 0:
        return BAD_REQUEST
    if codings is not None:
        return _chunked_framing(codings, http11, has_length=bool(lengths))
    return _length_framing(lengths)


def _list_elements(value: bytes) -> list[bytes]:
    """A comma-separated field value's elements, without OWS, lower-cased (empty ones kept)."""
    return [element.strip(_OWS).lower() for element in value.split(b",")]


def _is_http11(head: bytes, start: int) -> bool:
    """The request line (up to ``start``) ends "HTTP/1.<minor>"; 1.2 and above count as 1.1.

    RFC 9110 §2.5: a recipient treats a higher minor version as the highest it implements.
    """
    minor = head[start - 3] if head[start - 2] == _CR else head[start - 2]
    return minor != ord("0")


def _length_framing(lengths: set[bytes]) -> Framing | HeadRejected:
    """The Content-Length values (all lines, all list elements) must be one run of digits."""
    if not lengths:
        return NO_BODY
    (length, *others) = lengths
    if others or not length.isdigit() or len(length) > MAX_LENGTH_DIGITS:
        return BAD_REQUEST
    content_length = int(length)
    return Framing(content_length) if content_length else NO_BODY


def _chunked_framing(
    codings: list[bytes], http11: bool, *, has_length: bool
) -> Framing | HeadRejected:
    """Transfer-Encoding is present: the body must be chunked, and chunked alone frames it."""
    if not http11 or has_length:
        return BAD_REQUEST
    if not codings or codings[-1] != b"chunked" or codings.count(b"chunked") > 1:
        return BAD_REQUEST
    if len(codings) > 1:
        return NOT_IMPLEMENTED  # gzip, deflate and the rest: we decode none of them
    return CHUNKED


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
    return _is_http11(head, start) or b"keep-alive" in tokens


def request_line(head: bytes) -> str:
    """The first line, decoded for the access log (never fails: bytes map 1:1 to latin-1)."""
    line_end = head.find(b"\n")
    line = head if line_end < 0 else head[:line_end]
    return line.rstrip(b"\r").decode("latin-1")
