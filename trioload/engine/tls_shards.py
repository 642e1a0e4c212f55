"""https in the shard engine: a shard whose connections speak TLS.

The shard loop is the same (``trioload.engine.shards``): one epoll set, slots as state machines, one
sweep for timeouts. A TLS connection adds one phase, the handshake, between the TCP
connect and the request: each step of ``do_handshake`` says what it waits for (to read, to
write), and the slot waits for that in the epoll set, as it waits for anything else. The
handshake counts in Connect, as in ab. After it, requests and responses go through the
``ssl.SSLSocket`` (its own non-blocking calls), so the rest of the loop is shared: only "would
block" has two more names there (``SSLWantReadError``, ``SSLWantWriteError``).

With ``-k``, a connection that must be made again resumes the TLS session of the last one that
closed, where the server allows it; without ``-k`` every connection makes a full handshake,
which is what a keep-alive-off benchmark measures.
"""

from __future__ import annotations

import errno
import socket
import ssl
from time import perf_counter_ns
from typing import cast

from trioload.engine.shards import _HANDSHAKING, _IN, _OUT, _Shard, _Slot
from trioload.engine.state import EngineState
from trioload.engine.tls import describe
from trioload.engine.wire import Address
from trioload.results.tally import Failure


class TlsShard(_Shard):
    """A shard whose connections are TLS: the handshake is one more phase of a slot."""

    def __init__(
        self,
        state: EngineState,
        family: socket.AddressFamily,
        address: Address,
        request: bytes,
        slots: int,
    ) -> None:
        super().__init__(state, family, address, request, slots)
        assert state.tls_context is not None
        self.context = state.tls_context
        self.hostname = state.server_hostname
        self.resume = state.keep_alive
        #: with ``-k``: the session of the last connection that closed, to resume.
        self.session: ssl.SSLSession | None = None

    def _connect(self, slot: _Slot) -> None:
        """Open a TCP connection and start the handshake on it."""
        raw = self.new_socket()
        try:
            sock = self.context.wrap_socket(
                cast(socket.socket, raw),  # the C socket type serves (ssl needs its methods)
                server_hostname=self.hostname,
                do_handshake_on_connect=False,
                session=self.session,
            )
        except (OSError, ValueError):  # ValueError: a session this context cannot resume
            raw.close()
            self.session = None
            self._fail(slot, Failure.CONNECT, later=True)
            return
        slot.sock = sock
        fd = slot.fd = sock.fileno()
        self.by_fd[fd] = slot
        err = sock.connect_ex(self.address)
        if err and err != errno.EINPROGRESS:
            self._fail(slot, Failure.CONNECT, later=True)
            return
        slot.phase = _HANDSHAKING
        self._handshake(slot, registered=False)

    def _on_ready(self, slot: _Slot) -> None:
        if slot.phase == _HANDSHAKING:
            self._handshake(slot, registered=True)
        else:
            super()._on_ready(slot)

    def _handshake(self, slot: _Slot, *, registered: bool) -> None:
        """One step of the handshake; once it is over, send the request."""
        sock = slot.sock
        assert isinstance(sock, ssl.SSLSocket)
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            wanted = _IN
        except ssl.SSLWantWriteError:
            wanted = _OUT
        except OSError as exc:
            # Not connected yet (the TCP handshake is under way): wait until it is, or has
            # failed. Not connected after that wait: it failed.
            if exc.errno == errno.ENOTCONN and not registered:
                wanted = _OUT
            else:
                self._fail(slot, Failure.CONNECT, later=not registered)
                return
        else:
            self._handshake_done(slot, sock, registered=registered)
            return
        (self.poller.modify if registered else self.poller.register)(slot.fd, wanted)

    def _handshake_done(self, slot: _Slot, sock: ssl.SSLSocket, *, registered: bool) -> None:
        slot.connected = perf_counter_ns()
        tally = self.tally
        if not tally.tls_protocol:
            tally.tls_protocol, tally.tls_temp_key = describe(sock)
        request = self.request
        try:
            sent = sock.send(request)
        except ssl.SSLWantWriteError:
            sent = 0
        except OSError:
            self._fail(slot, Failure.WRITE, later=not registered)
            return
        if registered and sent == len(request):
            self.poller.modify(slot.fd, _IN)
        self._after_send(slot, sent, new=not registered)

    def _close(self, slot: _Slot) -> None:
        sock = slot.sock
        if self.resume and isinstance(sock, ssl.SSLSocket) and sock.session is not None:
            self.session = sock.session
        super()._close(slot)
