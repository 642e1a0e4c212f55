"""Before the run: find the target and knock once, so a wrong URL costs one line, not a run.

A host that does not resolve, or a port where nothing listens, would otherwise turn every
request of the run into a failure (a million refused connections take a while, and say less
than one line). So the run begins with one lookup and one connection. The probe closes with a
reset (SO_LINGER 0): it leaves no TIME_WAIT behind, and a server that defers accepting until
a request arrives (trioserve, TCP_DEFER_ACCEPT) never sees it.

A probe that gets no answer within ``PROBE_TIMEOUT_S`` decides nothing: a server whose listen
queue is full drops SYNs for a while, and the run itself will measure that.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import struct

import trio

from trioload.config import LoadConfig, Target
from trioload.engine.tls import client_context, server_hostname
from trioload.engine.wire import Address

#: https: the run's TLS context and the name to check the certificate against.
TlsProbe = tuple[ssl.SSLContext, str | None]

#: how long the probe waits for its connection; longer means a busy server, not a wrong URL.
PROBE_TIMEOUT_S = 3.0

#: a connection that ends this way means nothing will listen for the whole run.
_NOBODY_THERE = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH})

#: SO_LINGER on, timeout 0: a close then resets, leaving no TIME_WAIT behind a mere knock.
RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class TargetError(Exception):
    """The URL's host or port cannot be reached: one line, said before the run."""


async def find_target(
    target: Target, *, probe: bool, tls: TlsProbe | None = None, local_address: str | None = None
) -> tuple[socket.AddressFamily, Address]:
    """Resolve the host once (a lookup per request would measure DNS) and, with ``probe``,
    connect once (from ``local_address``, and with ``tls`` make a TLS handshake too);
    TargetError where the run could not succeed."""
    try:
        infos = await trio.socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetError(f"cannot resolve host {target.host!r}: {exc.strerror}") from None
    family, _, _, _, sockaddr = infos[0]
    address = (str(sockaddr[0]), int(sockaddr[1]))
    if probe:
        await _knock(family, address, target, tls, local_address)
    return family, address


async def knock(config: LoadConfig) -> None:
    """Before runs made elsewhere (``-W`` workers, compare's rounds): the run's own check of
    its target, once, over https with one handshake; TargetError as the run would say it."""
    tls = (client_context(config), server_hostname(config)) if config.target.tls else None
    await find_target(config.peer, probe=True, tls=tls, local_address=config.local_address)


async def _knock(
    family: socket.AddressFamily,
    address: Address,
    target: Target,
    tls: TlsProbe | None,
    local_address: str | None,
) -> None:
    with trio.socket.socket(family, socket.SOCK_STREAM) as sock:
        if local_address is not None:
            try:
                await sock.bind((local_address, 0))
            except OSError as exc:
                raise TargetError(
                    f"cannot connect from -B {local_address}: {exc.strerror}"
                ) from None
        with trio.move_on_after(PROBE_TIMEOUT_S):
            try:
                await sock.connect(address)
            except OSError as exc:
                if exc.errno is not None and exc.errno in _NOBODY_THERE:
                    raise TargetError(
                        f"cannot connect to {_where(target, address)}: "
                        f"{os.strerror(exc.errno)}; is the server running?"
                    ) from None
                return  # anything else: let the run meet it, request by request
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
            if tls is not None:
                await _shake_hands(trio.SocketStream(sock), tls, _where(target, address))


async def _shake_hands(stream: trio.SocketStream, tls: TlsProbe, where: str) -> None:
    """TargetError for a certificate that does not verify, or a server that speaks no TLS."""
    context, hostname = tls
    try:
        await trio.SSLStream(stream, context, server_hostname=hostname).do_handshake()
    except trio.BrokenResourceError as exc:
        cause = exc.__cause__
        if isinstance(cause, ssl.SSLCertVerificationError):
            raise TargetError(
                f"the certificate of {where} does not verify ({cause.verify_message}): "
                "--cacert FILE trusts its authority, --insecure skips the check"
            ) from None
        if isinstance(cause, ssl.SSLError):
            raise TargetError(
                f"TLS handshake with {where} failed ({cause.reason}): is it an https server?"
            ) from None
        # A reset or the like: let the run meet it, request by request.


def _where(target: Target, address: Address) -> str:
    """host:port as the URL said it, and the address it resolved to where that differs."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    where = f"{host}:{target.port}"
    return where if address[0] == target.host else f"{where} ({address[0]})"
