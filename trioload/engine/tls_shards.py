"""https in the shard engine: a shard whose connections speak TLS.

The shard loop is the same (``trioload.engine.shards``): one epoll set, slots as state
machines, one sweep for timeouts. ``TlsShard`` fills the plain shard's override points:

- ``connect`` wraps the new socket in TLS and starts the handshake; the handshake is the
  slot's CONNECTING phase, from the TCP connect until it is over (so it counts in Connect, as
  in ab, and a hung one is a Connect failure).
- ``finish_connect`` takes one more step of ``do_handshake`` when the socket is ready: each
  step says what it waits for (to read, to write), and the slot waits for that in the epoll
  set, as it waits for anything else. Once it is over, the request is sent.
- ``WOULD_BLOCK`` adds the two names an ``ssl.SSLSocket`` gives "would block"
  (``SSLWantReadError``, ``SSLWantWriteError``): after the handshake, requests and responses
  go through the ``ssl.SSLSocket`` (its own non-blocking calls), so the rest of the loop is
  shared.
- ``disconnect`` keeps the closing connection's session first.
- ``KERNEL_STAMPS`` is off: the ``ssl.SSLSocket`` reads the TCP socket itself and hands no
  ancillary data over, so its responses are stamped when read (the report says which clock).

With ``-k``, a connection that must be made again resumes the TLS session of the last one that
closed, where the server allows it; without ``-k`` every connection makes a full handshake,
which is what a keep-alive-off benchmark measures.
"""

from __future__ import annotations

import errno
import socket
import ssl
from time import perf_counter_ns
from typing import ClassVar, cast

from trioload.engine.shards import IN, OUT, Phase, Shard, Slot
from trioload.engine.state import EngineState
from trioload.engine.tls import describe
from trioload.engine.wire import Address
from trioload.results.tally import Failure


class TlsShard(Shard):
    """A shard whose connections are TLS: the handshake is a slot's CONNECTING phase."""

    WOULD_BLOCK: ClassVar[tuple[type[OSError], ...]] = (
        BlockingIOError,
        ssl.SSLWantReadError,
        ssl.SSLWantWriteError,
    )
    KERNEL_STAMPS: ClassVar[bool] = False

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

    def connect(self, slot: Slot) -> None:
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
            self.fail(slot, Failure.CONNECT, later=True)
            return
        slot.sock = sock
        fd = slot.fd = sock.fileno()
        self.by_fd[fd] = slot
        err = sock.connect_ex(self.address)
        if err and err != errno.EINPROGRESS:
            self.fail(slot, Failure.CONNECT, later=True)
            return
        self.enter_phase(slot, int(Phase.CONNECTING))
        self._handshake(slot, registered=False)

    def finish_connect(self, slot: Slot) -> None:
        """The socket is ready for the handshake's next step."""
        self._handshake(slot, registered=True)

    def _handshake(self, slot: Slot, *, registered: bool) -> None:
        """One step of the handshake; once it is over, send the request."""
        sock = slot.sock
        assert isinstance(sock, ssl.SSLSocket)
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            wanted = IN
        except ssl.SSLWantWriteError:
            wanted = OUT
        except OSError as exc:
            # Not connected yet (the TCP handshake is under way): wait until it is, or has
            # failed. Not connected after that wait: it failed.
            if exc.errno == errno.ENOTCONN and not registered:
                wanted = OUT
            else:
                self.fail(slot, Failure.CONNECT, later=not registered)
                return
        else:
            self._handshake_done(slot, sock, registered=registered)
            return
        (self.poller.modify if registered else self.poller.register)(slot.fd, wanted)

    def _handshake_done(self, slot: Slot, sock: ssl.SSLSocket, *, registered: bool) -> None:
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
            self.fail(slot, Failure.WRITE, later=not registered)
            return
        self.after_send(slot, sent, new=not registered)

    def disconnect(self, slot: Slot) -> None:
        """Keep the connection's session (with ``-k``, to resume), then close it."""
        sock = slot.sock
        if self.resume and isinstance(sock, ssl.SSLSocket) and sock.session is not None:
            self.session = sock.session
        super().disconnect(slot)
