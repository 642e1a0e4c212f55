"""Sans-IO HTTP/1.x response reader: fed the bytes of one response, it finds the head, the
status, the body framing (Content-Length, chunked, or until close) and counts the body.

It never imports trio and never touches a socket, so the engine stays a thin byte mover and
the parser is tested on its own, against h11, on every split of the bytes into reads.

    reader = ResponseReader(head_request=False)
    reader.feed(chunk)          # any number of times; True once the response is complete
    reader.feed_eof()           # the peer closed: raises if the response was cut short

A run's :class:`KnownResponses` remembers the whole responses and heads read before, by their
bytes: an engine looks a read up there first, and readers given it reuse and add to it.

Problems are exceptions, each mapping to one of ab's failure columns:
:class:`ProtocolError` (Exceptions), :class:`IncompleteResponseError` (Receive) and
:class:`BodyLengthError` (Length).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, NamedTuple

#: A blank line ends the head; like h11 (and ab) we accept bare LF line endings.
_HEAD_END: Final = re.compile(rb"\n\r?\n")
#: HTTP-version SP 3DIGIT [SP reason]; the reason may hold any byte but NUL and line breaks.
_STATUS_LINE: Final = re.compile(rb"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: [^\x00\n\r\f\v]*)?")
#: Every header line: a token, a colon, then a value without NUL or line breaks.
_HEADER_BLOCK: Final = re.compile(
    rb"(?:\r?\n[-!#$%&'*+.^_`|~0-9a-zA-Z]+:[^\x00\n\r\f\v]*)*\r?\n\r?\n"
)
_OBS_FOLD: Final = re.compile(rb"\r?\n[ \t]+")
#: The only headers a load generator acts on, found in one pass.
_INTERESTING: Final = re.compile(
    rb"\n(content-length|transfer-encoding|connection|server):[ \t]*([^\r\n]*?)[ \t]*\r?(?=\n)",
    re.IGNORECASE,
)
_CHUNK_SIZE_LINE: Final = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*")
_DIGITS: Final = re.compile(rb"[0-9]{1,20}")

MAX_HEAD: Final = 64 * 1024
#: at most this many heads, and as many whole responses, are remembered (``KnownResponses``).
MAX_KNOWN: Final = 256
_MAX_CHUNK_LINE: Final = 4096

# Reader states.
_HEAD: Final = 0
_LENGTH: Final = 1
_CHUNK_SIZE: Final = 2
_CHUNK_DATA: Final = 3
_CHUNK_CRLF: Final = 4
_TRAILER: Final = 5
_UNTIL_CLOSE: Final = 6
_DONE: Final = 7


class ProtocolError(Exception):
    """The bytes are not an HTTP/1.x response (bad status line, header or chunk framing)."""


class IncompleteResponseError(Exception):
    """The connection ended before the response did (no head yet, or inside a chunked body)."""


class BodyLengthError(Exception):
    """The body is shorter or longer than its Content-Length said."""


class Response(NamedTuple):
    """A complete response: what the engines record of it, and what a reader found."""

    status: int
    version: bytes
    server: bytes | None
    content_length: int | None
    keep_alive: bool
    chunked: bool
    head_bytes: int
    #: payload bytes (ab's "HTML transferred").
    body_bytes: int
    #: every byte received, head and framing included (ab's "Total transferred").
    wire_bytes: int


class ParsedHead(NamedTuple):
    """What a final head says, remembered by its bytes: a reader that meets the same head
    again takes these instead of parsing it."""

    status: int
    version: bytes
    server: bytes | None
    content_length: int | None
    keep_alive: bool
    chunked: bool
    #: the reader's state once the head is read: how the body is framed.
    state: int


class KnownResponses:
    """The responses and heads a run has read before, by their bytes.

    A benchmark's responses repeat, so a second sight costs a dict look-up: an engine that
    finds a read in ``find`` has the whole response without building a reader (nearly every
    response), and a reader that meets a head it parsed before skips the parse. Readers given
    this object add what they read to it.

    An engine makes one per run, or per task that reads responses, for one kind of request:
    what the same bytes mean depends on whether they answer a HEAD request. Each table holds
    at most ``MAX_KNOWN`` entries and is emptied when full (a server's Date header changes
    every second, so the set of distinct responses keeps moving).
    """

    __slots__ = ("find", "head_request", "heads", "whole")

    def __init__(self, head_request: bool = False) -> None:
        self.head_request = head_request
        #: whole responses: those that arrived in one read and were complete in it.
        self.whole: dict[bytes, Response] = {}
        #: parsed final heads.
        self.heads: dict[bytes, ParsedHead] = {}
        #: the whole response that is exactly these bytes, if one was seen (else None). Stays
        #: valid for the object's life: an engine may keep it.
        self.find: Callable[[bytes], Response | None] = self.whole.get

    def add_whole(self, data: bytes, response: Response) -> None:
        """Remember ``response``, which is exactly the bytes ``data``."""
        whole = self.whole
        if len(whole) >= MAX_KNOWN:
            whole.clear()  # clear, not replace: ``find`` is bound to this dict
        whole[data] = response

    def add_head(self, head: bytes, parsed: ParsedHead) -> None:
        """Remember what the final head ``head`` says."""
        heads = self.heads
        if len(heads) >= MAX_KNOWN:
            heads.clear()
        heads[head] = parsed


class ResponseReader:
    """Reads exactly one response; build a new one per request.

    ``known``: the run's ``KnownResponses`` (for the same ``head_request``), to reuse what
    earlier responses taught and to add to it; a reader without one keeps its own.
    """

    __slots__ = (
        "_buf",
        "_chunk_left",
        "_head_request",
        "_known",
        "_length_left",
        "_search_from",
        "_state",
        "body_bytes",
        "chunked",
        "content_length",
        "excess_bytes",
        "head_bytes",
        "keep_alive",
        "server",
        "status",
        "version",
        "wire_bytes",
    )

    def __init__(self, head_request: bool = False, known: KnownResponses | None = None) -> None:
        """``known``: the run's responses seen before, which also say whether the requests
        are HEAD (``head_request`` is then not read)."""
        self._known = KnownResponses(head_request) if known is None else known
        self._head_request = self._known.head_request
        self._state = _HEAD
        self._buf = b""
        self._search_from = 0
        self._length_left = 0
        self._chunk_left = 0
        #: Every byte received, head and framing included (ab's "Total transferred").
        self.wire_bytes = 0
        #: Bytes of the final head (ab's header bytes), 0 until it is complete.
        self.head_bytes = 0
        #: Payload bytes (chunk framing excluded): ab's "HTML transferred" and document length.
        self.body_bytes = 0
        #: Bytes that arrived after the response was complete.
        self.excess_bytes = 0
        self.status = 0
        self.version = b""
        self.content_length: int | None = None
        self.chunked = False
        #: The response lets the client send its next request on the same connection.
        self.keep_alive = False
        self.server: bytes | None = None

    @property
    def complete(self) -> bool:
        """True once the framing says the response is over (until-close bodies: after EOF)."""
        return self._state == _DONE

    def feed(self, data: bytes) -> bool:
        """Consume received bytes; return True once the response is complete."""
        self.wire_bytes += len(data)
        state = self._state
        if state == _LENGTH:
            # The common keep-alive continuation, kept short.
            left = self._length_left
            if len(data) <= left:
                self._length_left = left - len(data)
                self.body_bytes += len(data)
                if self._length_left == 0:
                    self._state = _DONE
                    return True
                return False
        elif state == _UNTIL_CLOSE:
            self.body_bytes += len(data)
            return False
        elif state == _DONE:
            self.excess_bytes += len(data)
            return True
        elif not self._buf and self.wire_bytes == len(data):
            return self._feed_first(data)
        self._buf = self._buf + data if self._buf else data
        self._advance()
        return self._state == _DONE

    def _feed_first(self, data: bytes) -> bool:
        """The first bytes of the response: maybe all of it, and maybe seen before."""
        known = self._known.find(data)
        if known is not None:
            (self.status, self.version, self.server, self.content_length, self.keep_alive,
             self.chunked, self.head_bytes, self.body_bytes, _) = known  # fmt: skip
            self._state = _DONE
            return True
        self._buf = data
        self._advance()
        if self._state != _DONE:
            return False
        if not self.excess_bytes:  # only a response that is exactly these bytes is reused
            self._known.add_whole(data, self.response())
        return True

    def response(self) -> Response:
        """What was read, once the response is complete."""
        return Response(
            self.status, self.version, self.server, self.content_length, self.keep_alive,
            self.chunked, self.head_bytes, self.body_bytes, self.wire_bytes,
        )  # fmt: skip

    def feed_eof(self) -> None:
        """The peer closed; raise unless that ends a complete response with nothing extra."""
        state = self._state
        if state == _UNTIL_CLOSE:
            self._state = _DONE
        elif state == _HEAD:
            if self.wire_bytes:
                raise IncompleteResponseError("connection closed inside the response head")
            raise IncompleteResponseError("connection closed before any response byte")
        elif state == _LENGTH:
            raise BodyLengthError(
                f"body ended after {self.body_bytes} of {self.content_length} bytes"
            )
        elif state != _DONE:
            raise IncompleteResponseError("connection closed inside the chunked body")
        if self.excess_bytes:
            raise BodyLengthError(f"{self.excess_bytes} bytes after the end of the body")

    # -- parsing -------------------------------------------------------------------------

    def _advance(self) -> None:
        """Run the state machine over the buffered bytes as far as they go."""
        while self._buf:
            state = self._state
            if state == _HEAD:
                if not self._parse_head():
                    return
            elif state == _LENGTH:
                self._take_length_body()
            elif state == _UNTIL_CLOSE:
                self.body_bytes += len(self._buf)
                self._buf = b""
            elif state == _DONE:
                self.excess_bytes += len(self._buf)
                self._buf = b""
            elif not self._chunk_step():
                return

    def _take_length_body(self) -> None:
        buf = self._buf
        take = min(len(buf), self._length_left)
        self._length_left -= take
        self.body_bytes += take
        self._buf = buf[take:] if take < len(buf) else b""
        if self._length_left == 0:
            self._state = _DONE

    def _parse_head(self) -> bool:
        """Parse the head if it is all here; False when more bytes are needed."""
        buf = self._buf
        if buf[:1] == b"\n" or buf[:2] == b"\r\n":
            raise ProtocolError("empty line where the status line should be")
        match = _HEAD_END.search(buf, self._search_from)
        if match is None:
            if len(buf) > MAX_HEAD:
                raise ProtocolError(f"response head larger than {MAX_HEAD} bytes")
            self._search_from = max(0, len(buf) - 2)
            return False
        end = match.end()
        self._search_from = 0
        self._buf = buf[end:]
        self._read_head(buf[:end])
        return True

    def _read_head(self, head: bytes) -> None:
        # A benchmark sees the same head thousands of times: its verdict depends only on the
        # bytes (and whether we sent HEAD), so a parsed head is remembered and reused.
        known = self._known.heads.get(head)
        if known is not None:
            (self.status, self.version, self.server, self.content_length, self.keep_alive,
             self.chunked, self._state) = known  # fmt: skip
            self.head_bytes = len(head)
            if self._state == _LENGTH:
                self._length_left = self.content_length or 0
            return
        self._parse_head_fields(head)
        if self.status:  # a final head (interim 1xx heads leave status at 0)
            self._known.add_head(
                head,
                ParsedHead(
                    self.status, self.version, self.server, self.content_length,
                    self.keep_alive, self.chunked, self._state,
                ),
            )  # fmt: skip

    def _parse_head_fields(self, head: bytes) -> None:
        line_end = head.find(b"\n")
        status_line = head[:line_end]
        if status_line.endswith(b"\r"):
            status_line = status_line[:-1]
        status = _STATUS_LINE.fullmatch(status_line)
        if status is None:
            raise ProtocolError(f"bad status line {status_line[:80]!r}")
        block = head[line_end:]
        if _HEADER_BLOCK.fullmatch(block) is None:
            block = _unfold(block)
        code = int(status.group(2))
        if code < 200:
            if code == 101:
                raise ProtocolError("101 Switching Protocols was never asked for")
            return  # an interim 1xx head: the real response follows
        self.status = code
        self.version = status.group(1)
        self.head_bytes = len(head)
        self._frame(block)

    def _frame(self, block: bytes) -> None:  # noqa: PLR0912 -- one branch per header kind
        """Decide the body framing as RFC 9112 section 6.3 (and h11) does."""
        lengths: set[bytes] = set()
        encodings: list[bytes] = []
        connection: list[bytes] = []
        for match in _INTERESTING.finditer(block):
            name = match.group(1).lower()
            value = match.group(2)
            if name == b"content-length":
                lengths.update(v.strip() for v in value.split(b","))
            elif name == b"transfer-encoding":
                encodings.append(value.lower())
            elif name == b"connection":
                connection.extend(v.strip().lower() for v in value.split(b","))
            elif self.server is None:
                self.server = value
        if lengths:
            if len(lengths) > 1:
                raise ProtocolError("conflicting Content-Length values")
            (value,) = lengths
            if _DIGITS.fullmatch(value) is None:
                raise ProtocolError(f"bad Content-Length {value[:40]!r}")
            self.content_length = int(value)
        if encodings and encodings != [b"chunked"]:
            raise ProtocolError(f"unsupported Transfer-Encoding {b', '.join(encodings)!r}")
        if b"close" in connection:
            self.keep_alive = False
        else:
            self.keep_alive = self.version >= b"1.1" or b"keep-alive" in connection
        if self._head_request or self.status in (204, 304):
            self._state = _DONE
        elif encodings:
            self.chunked = True
            self._state = _CHUNK_SIZE
        elif self.content_length is not None:
            self._length_left = self.content_length
            self._state = _LENGTH if self.content_length else _DONE
        else:
            self._state = _UNTIL_CLOSE
            self.keep_alive = False

    def _chunk_step(self) -> bool:  # noqa: PLR0911, PLR0912 -- one branch per chunk-parser state
        """One step of chunked decoding; False when more bytes are needed."""
        buf = self._buf
        state = self._state
        if state == _CHUNK_DATA:
            take = min(len(buf), self._chunk_left)
            self._chunk_left -= take
            self.body_bytes += take
            self._buf = buf[take:]
            if self._chunk_left == 0:
                self._state = _CHUNK_CRLF
            return True
        if state == _CHUNK_CRLF:
            if b"\r\n"[: len(buf)] != buf[:2]:
                raise ProtocolError("chunk data not followed by CRLF")
            if len(buf) < 2:
                return False
            self._buf = buf[2:]
            self._state = _CHUNK_SIZE
            return True
        if state == _CHUNK_SIZE:
            line_end = buf.find(b"\r\n")
            if line_end < 0:
                if len(buf) > _MAX_CHUNK_LINE:
                    raise ProtocolError("chunk size line too long")
                return False
            match = _CHUNK_SIZE_LINE.fullmatch(buf, 0, line_end)
            if match is None:
                raise ProtocolError(f"bad chunk size line {buf[: min(line_end, 40)]!r}")
            self._chunk_left = int(match.group(1), 16)
            self._buf = buf[line_end + 2 :]
            self._state = _CHUNK_DATA if self._chunk_left else _TRAILER
            return True
        # _TRAILER: header lines up to a blank line, or just the blank line.
        if buf[:1] == b"\n" or buf[:2] == b"\r\n":
            end = 1 if buf[:1] == b"\n" else 2
        else:
            match = _HEAD_END.search(buf)
            if match is None:
                if len(buf) > MAX_HEAD:
                    raise ProtocolError("chunked trailer too large")
                return False
            end = match.end()
            if _HEADER_BLOCK.fullmatch(b"\n" + buf[:end]) is None:
                _unfold(b"\n" + buf[:end])
        self._buf = buf[end:]
        self._state = _DONE
        return True


def _unfold(block: bytes) -> bytes:
    """Join obsolete folded header lines (as h11 does), or raise on a malformed header.

    ``block`` starts with the line break that ends the status line.
    """
    if block[1:2] in (b" ", b"\t"):
        raise ProtocolError("continuation line at the start of the headers")
    unfolded = _OBS_FOLD.sub(b" ", block)
    if _HEADER_BLOCK.fullmatch(unfolded) is None:
        raise ProtocolError("malformed header line")
    return unfolded
