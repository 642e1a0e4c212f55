"""Sans-IO: one connection's conversation, bytes in and bytes out, by the server's rules.

    exchange = Exchange(rules, stats)
    out = exchange.received(data)    # the responses to send, in order (often b"")
    exchange.phase                   # what the connection waits for next
    out = exchange.timed_out()       # its deadline passed: a last word to try once, then close
    out = exchange.client_closed()   # the client sent EOF: a last word (a 400) or b"", then close

The engine (``trioserve.server``) only moves bytes and time: it reads, calls ``received``,
writes what comes back, and arms the deadline of the phase the exchange is in:

=========  ===============================================  ===============================
Phase      The connection waits for                         Deadline
=========  ===============================================  ===============================
HEAD       the rest of a request head                       ``head_timeout``: 408, close
BODY       the rest of a body to skip (keep-alive only)     ``head_timeout``: close
IDLE       the next request (keep-alive only)               ``keep_alive_timeout``: close
LINGER     the client's EOF after the final response        ``linger_time``: close
CLOSED     nothing: close once ``out`` is sent              -
=========  ===============================================  ===============================

A deadline restarts when the phase changes or a response goes out, so a head (or a body) must
arrive whole within its timeout, however it is split.

A head that comes in pieces is judged line by line meanwhile (``FieldLines``): its first bad
line gets the 400 at once, and a client that closes in the middle of a bad head gets it too.
The status never depends on the split: a head whole in one read is judged once, when complete,
by the same rules.

Why LINGER: bytes still unread when the server closes (a body, a pipelined request) make the
kernel send RST, which can destroy the response on its way; so after a final response to such
a request the engine half-closes and reads and discards, within ``linger_time`` and
``linger_bytes``, until the client closes.

The fast path: a read that holds exactly one whole plain request (one valid Host, no body,
the heads benchmarks send) is matched by one compiled pattern and answered without a
``HeadScanner``; the verdict is remembered (``Rules.known``), so the same bytes again cost
one dictionary lookup. ``tests/trioserve/test_exchange.py`` checks, under hypothesis, that the
pattern accepts only what the scanner and ``check_fields`` accept as such a request.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from trioserve.chunked_body import BodyEnd, ChunkedBody
from trioserve.config import ServerConfig
from trioserve.field_lines import FieldLines
from trioserve.head_fields import (
    NO_BODY,
    PLAIN_FIELDS,
    Framing,
    check_fields,
    wants_keep_alive,
)
from trioserve.head_scanner import (
    HEAD_TOO_LARGE,
    NEED_MORE,
    REQUEST_LINE,
    URI_TOO_LONG,
    HeadComplete,
    HeadRejected,
    HeadScanner,
)
from trioserve.responses import Responses
from trioserve.stats import ServerStats


class Phase(enum.Enum):
    """What a connection waits for next (see the module's table)."""

    HEAD = "head"
    BODY = "body"
    IDLE = "idle"
    LINGER = "linger"
    CLOSED = "closed"


HEAD, BODY, IDLE, LINGER, CLOSED = Phase  # module constants: the hot path reads them often

#: Called once per response with (head, status, bytes sent): the access log.
AnswerLog = Callable[[bytes, int, int], None]


def whole_plain_request(max_request_line: int) -> re.Pattern[bytes]:
    """A pattern whose full match is one whole plain request head and nothing after it.

    The request line's length is bounded here (414 otherwise); the head's own length, which
    the caller checks with ``len``, is not.
    """
    # The lookahead keeps the line within max_request_line bytes, not counting a final CR
    # (the request line's grammar has no other CR).
    line = rb"(?=[^\r\n]{1,%d}\r?\n)" % max_request_line + REQUEST_LINE + rb"\n"
    return re.compile(line + PLAIN_FIELDS)


#: How many distinct whole requests ``Rules.known`` remembers before it starts over.
KNOWN_REQUESTS = 256


@dataclass(frozen=True, slots=True)
class Rules:
    """What every exchange of one server shares: its limits and its pre-encoded responses."""

    config: ServerConfig
    responses: Responses
    plain_request: re.Pattern[bytes]
    #: Whole plain requests already judged: their response and the phase after it. A load
    #: generator sends the same bytes again and again, and the verdict on them depends on
    #: nothing else, so it is taken once and looked up after that. Only requests that passed
    #: every check get in, and the table starts over when full, so no client can grow it or
    #: put anything in it but a verdict the rules gave.
    known: dict[bytes, tuple[bytes, Phase]] = field(default_factory=dict)

    @classmethod
    def build(cls, config: ServerConfig) -> Rules:
        return cls(
            config,
            Responses.build(config.body, config.content_type),
            whole_plain_request(config.max_request_line),
        )

    def remember(self, request: bytes, response: bytes, after: Phase) -> None:
        known = self.known
        if len(known) >= KNOWN_REQUESTS:
            known.clear()
        known[request] = (response, after)

    def deadline_after(self, phase: Phase) -> float:
        """Seconds a connection may spend in ``phase`` (CLOSED: none)."""
        config = self.config
        if phase is IDLE:
            return config.keep_alive_timeout
        if phase is LINGER:
            return config.linger_time
        return config.head_timeout


class Exchange:
    """One connection's requests and responses; every outcome lands in the shared stats."""

    __slots__ = ("_body", "_head", "_left_to_skip", "_lines", "_linger_left", "_log", "_rules",
                 "_scanner", "_stats", "phase")  # fmt: skip

    def __init__(self, rules: Rules, stats: ServerStats, log: AnswerLog | None = None) -> None:
        self.phase = HEAD
        self._rules = rules
        self._stats = stats
        self._log = log
        self._scanner: HeadScanner | None = None
        #: the head's bytes so far, while the scanner needs more (made only then: most heads
        #: come whole in one read).
        self._head: bytearray | None = None
        #: its lines judged as they come, made with ``_head``.
        self._lines: FieldLines | None = None
        self._left_to_skip = 0  # body bytes (Content-Length) still to skip
        self._body: ChunkedBody | None = None  # a chunked body being skipped
        self._linger_left = rules.config.linger_bytes

    def received(self, data: bytes) -> bytes:
        """Take the next bytes from the client; return the responses they complete."""
        phase = self.phase
        if phase is LINGER:
            self._linger_left -= len(data)
            if self._linger_left <= 0:
                self.phase = CLOSED
            return b""
        rules = self._rules
        if phase is IDLE or (phase is HEAD and self._scanner is None):
            # The fast path: this read may be one whole plain request, seen before or not.
            known = rules.known.get(data)
            if known is not None:
                response, self.phase = known
                self._stats.responses += 1
                if self._log is not None:
                    self._log(data, 200, len(response))
                return response
            if len(data) <= rules.config.max_head and rules.plain_request.fullmatch(data):
                response = self._answer(data, NO_BODY, unread=False)
                rules.remember(data, response, self.phase)
                return response
        out: list[bytes] = []
        while data and self.phase is not CLOSED and self.phase is not LINGER:
            data = self._skip_body(data) if self.phase is BODY else self._read_head(data, out)
        return b"".join(out)

    def timed_out(self) -> bytes:
        """The phase's deadline passed: what to try to send once before closing (maybe b"")."""
        phase = self.phase
        self.phase = CLOSED
        if phase is HEAD:
            self._stats.timeouts += 1
            return self._rules.responses.errors[408]
        if phase is BODY:
            self._stats.timeouts += 1
        return b""

    def client_closed(self) -> bytes:
        """The client sent EOF: what to send before closing, a 400 if it cut a bad head short.

        A head cut short but valid so far counts as closed early; anything else just ends.
        """
        if self.phase is HEAD:
            lines, head = self._lines, self._head
            if lines is not None and head is not None:
                fault = lines.at_eof(head)
                if fault is not None:
                    return self._refuse(head, fault, after=CLOSED)
            self._stats.closed_early += 1
        self.phase = CLOSED
        return b""

    # -- the general path ------------------------------------------------------------------

    def _read_head(self, data: bytes, out: list[bytes]) -> bytes:
        """Feed a head; once it is complete and judged, answer it. Returns the bytes after it.

        A head not complete yet is refused as soon as its lines so far break it.
        """
        scanner = self._scanner
        if scanner is None:
            config = self._rules.config
            scanner = self._scanner = HeadScanner(config.max_head, config.max_request_line)
            self.phase = HEAD
        result = scanner.feed(data)
        so_far, lines = self._head, self._lines
        if result is NEED_MORE:
            # In pieces: the lines so far are judged now (the whole head once more at its end).
            if so_far is None or lines is None:
                so_far = self._head = bytearray(data)
                lines = self._lines = FieldLines()
            else:
                so_far.extend(data)  # in place: it is self._head, the buffer the judge reads
            fault = lines.feed(so_far)
            if fault is not None:
                out.append(self._refuse(so_far, fault))
            return b""
        stream = data if so_far is None else bytes(so_far) + data
        if isinstance(result, HeadComplete):
            self._head = self._lines = self._scanner = None
            head, rest = stream[: result.end], stream[result.end :]
            verdict = check_fields(head)
            if isinstance(verdict, Framing):
                out.append(self._answer(head, verdict, unread=bool(rest)))
                return rest  # pipelined bytes: the next head (with keep-alive), else ignored
            result = verdict
        elif result is HEAD_TOO_LARGE or result is URI_TOO_LONG:
            # A bad line within the limit comes first, as it would had the head come in more
            # pieces. So the judge gets the same bytes whatever the split: all those the
            # scanner may take without refusing (the earlier pieces lie within them), none it
            # may not have seen when it refuses. That is max_head bytes, or for a request
            # line max_request_line and one more (a CR there waits for its LF).
            config = self._rules.config
            limit = config.max_head if result is HEAD_TOO_LARGE else config.max_request_line + 1
            result = (lines or FieldLines()).feed(stream[:limit]) or result
        assert isinstance(result, HeadRejected)
        out.append(self._refuse(stream, result))
        return b""

    def _refuse(
        self, stream: bytes | bytearray, result: HeadRejected, after: Phase = LINGER
    ) -> bytes:
        """Refused (by the scanner or by the line rules): the status to send, counted, logged."""
        self._head = self._lines = self._scanner = None
        response = self._rules.responses.errors[result.status]
        self._stats.rejected[result.status] += 1
        if self._log is not None:
            self._log(bytes(stream), result.status, len(response))
        self.phase = after
        return response

    def _answer(self, head: bytes, framing: Framing, *, unread: bool) -> bytes:
        """The 200 for a valid head, and the phase after it; ``unread``: bytes follow the head."""
        rules = self._rules
        keep = rules.config.keep_alive and wants_keep_alive(head)
        response = rules.responses.ok(head, keep_alive=keep)
        self._stats.responses += 1
        if self._log is not None:
            self._log(head, 200, len(response))
        if not keep:
            # Unread bytes (a body, or anything after the head) would make close() reset.
            self.phase = LINGER if unread or framing.has_body else CLOSED
        elif framing.chunked:
            config = rules.config
            self._body = ChunkedBody(config.max_request_line, config.max_head)
            self.phase = BODY
        elif framing.content_length:
            self._left_to_skip = framing.content_length
            self.phase = BODY
        else:
            self.phase = IDLE
        return response

    def _skip_body(self, data: bytes) -> bytes:
        """Skip a keep-alive request's body; return the bytes after it."""
        body = self._body
        if body is None:
            left = self._left_to_skip
            if len(data) < left:
                self._left_to_skip = left - len(data)
                return b""
            self._left_to_skip = 0
            self.phase = IDLE
            return data[left:]
        result = body.feed(data)
        if result is NEED_MORE:
            return b""
        self._body = None
        if not isinstance(result, BodyEnd):  # MALFORMED
            # Nothing after it can be framed: reading on would let one request bleed into the
            # next, so the connection ends here.
            self._stats.malformed_bodies += 1
            self.phase = CLOSED
            return b""
        self.phase = IDLE
        return result.rest
