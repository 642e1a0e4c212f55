"""Sans-IO: one TLS connection's conversation, ciphertext in and ciphertext out.

    exchange = TlsExchange(context, rules, stats)
    out = exchange.received(data)    # handshake records and encrypted responses to send
    exchange.answered                # whether that ``out`` holds a response
    exchange.phase                   # what the connection waits for next (the inner one's)
    out = exchange.timed_out()       # its deadline passed: a last word (a 408) encrypted, or b""
    out = exchange.client_closed()   # EOF in TCP: a last word (a 400) encrypted, or b""

It has ``Exchange``'s interface and wraps one: the handshake, then the plaintext goes through
the same head parser, limits and answers as plain HTTP. The TLS state is an ``ssl.SSLObject``
over two memory buffers, so the engine (``trioserve.tls_server``) moves bytes on its bare
descriptors exactly as it does for plain connections.

The phase stays HEAD while the handshake runs, so its deadline (``head_timeout``) covers the
handshake and the head together. A final response goes out with a close_notify after it, in
the same bytes: the close costs no extra write and never waits for the client's reply.
Anything that is not TLS (garbage, a plain HTTP request), or a TLS error later, ends the
connection (phase CLOSED) with whatever alert OpenSSL wrote, counted in ``stats.tls_errors``.
"""

from __future__ import annotations

import contextlib
import ssl

from trioserve.exchange import CLOSED, LINGER, AnswerLog, Exchange, Phase, Rules
from trioserve.stats import ServerStats

#: The largest plaintext one TLS record carries.
RECORD_SIZE = 16384


class TlsExchange:
    """An ``Exchange`` behind TLS, as the server side of the connection."""

    __slots__ = ("_closing", "_handshaken", "_incoming", "_inner", "_outgoing", "_peer_closed",
                 "_stats", "_tls", "answered")  # fmt: skip

    def __init__(
        self,
        context: ssl.SSLContext,
        rules: Rules,
        stats: ServerStats,
        log: AnswerLog | None = None,
    ) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._inner = Exchange(rules, stats, log)
        self._stats = stats
        self._handshaken = False
        self._closing = False  # our close_notify is written
        self._peer_closed = False  # the client's close_notify arrived
        #: whether the last ``received`` produced a response (not only handshake records).
        self.answered = False

    @property
    def phase(self) -> Phase:
        return self._inner.phase

    def received(self, data: bytes) -> bytes:
        """Take the next bytes from the client; return the bytes to send back (often some)."""
        inner = self._inner
        if inner.phase is LINGER:
            # After the final response only the client's EOF matters: count, don't decrypt.
            self.answered = False
            return inner.received(data)
        self._incoming.write(data)
        try:
            plaintext = self._plaintext()
        except ssl.SSLError:  # not TLS, a failed handshake, a broken record
            self._stats.tls_errors += 1
            inner.phase = CLOSED
            self.answered = False
            return self._outgoing.read()  # an alert, if OpenSSL wrote one
        out = inner.received(plaintext) if plaintext else b""
        if self._peer_closed:
            out += inner.client_closed()  # after what came before it, as an EOF would be
        self.answered = bool(out)
        return self._encrypted(out)

    def timed_out(self) -> bytes:
        """The phase's deadline passed: the inner last word (a 408), encrypted, and a close."""
        word = self._inner.timed_out()
        if not self._handshaken:
            return b""  # nothing can be said in TLS yet, and plaintext would be garbage to it
        return self._encrypted(word)

    def client_closed(self) -> bytes:
        """The client sent EOF (in TCP): as for a plain connection, a 400 encrypted if any."""
        out = self._inner.client_closed()
        self.answered = bool(out)
        return self._encrypted(out) if out else b""

    def _plaintext(self) -> bytes:
        """Advance the handshake, then decrypt every whole record received so far."""
        tls = self._tls
        if not self._handshaken:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                return b""
            self._handshaken = True
        pieces: list[bytes] = []
        try:
            while piece := tls.read(RECORD_SIZE):
                pieces.append(piece)
        except ssl.SSLWantReadError:  # no whole record left
            pass
        else:  # b"": the client's close_notify, the stream's end (read raises for no other)
            self._peer_closed = True
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _encrypted(self, out: bytes) -> bytes:
        """``out`` as records, after any handshake records; with a close_notify if it is final."""
        tls = self._tls
        if out:
            tls.write(out)
        if not self._closing and self._inner.phase in (CLOSED, LINGER):
            self._closing = True
            # unwrap() writes the close_notify, then would wait for the client's: it raises
            # SSLWantReadError for that wait, which we never make.
            with contextlib.suppress(ssl.SSLError):
                tls.unwrap()
        return self._outgoing.read()
