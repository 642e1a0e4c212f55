"""``--certfile``/``--keyfile`` → the server's ``ssl.SSLContext``, or a one-line reason why not.

Built once per process (each worker builds its own): every connection's TLS state comes from
it, so nothing about certificates is looked at per connection.
"""

from __future__ import annotations

import ssl
from typing import NoReturn

#: What the server speaks inside TLS, for clients that ask (ALPN).
ALPN_PROTOCOLS = ["http/1.1"]


class TlsFilesError(ValueError):
    """The certificate or key files cannot be used; the message says which and why."""


def server_context(certfile: str, keyfile: str | None = None) -> ssl.SSLContext:
    """A TLS 1.2+ server context holding the certificate chain and its private key.

    ``keyfile`` may be left out when ``certfile`` holds the key too. Raises ``TlsFilesError``.
    """
    for flag, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if path is not None:
            _check_readable(flag, path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # Client-initiated renegotiation (TLS 1.2) makes the server redo its costliest step on
    # demand, within one connection: a cheap lever for a hostile client.
    context.options |= ssl.OP_NO_RENEGOTIATION
    context.set_alpn_protocols(ALPN_PROTOCOLS)
    # One TLS 1.3 session ticket, not OpenSSL's two: each costs the server work on every
    # handshake, and clients of a connection-per-request server rarely resume. Not none: the
    # ticket is all the server sends after the client's Finished, and its segment carries the
    # ACK; without it a client with Nagle on (no TCP_NODELAY) holds its request until the
    # server's delayed ACK, 40 ms later.
    context.num_tickets = 1
    try:
        # A callable password: an encrypted key fails here instead of prompting on a terminal.
        context.load_cert_chain(certfile, keyfile, password=_no_password)
    except ssl.SSLError as exc:
        raise TlsFilesError(_why_unusable(exc, certfile, keyfile)) from None
    return context


def _check_readable(flag: str, path: str) -> None:
    """OpenSSL's own errors name no file: check that each one can be read first."""
    try:
        with open(path, "rb") as file:
            file.read(1)
    except OSError as exc:
        raise TlsFilesError(f"cannot read {flag} {path}: {exc.strerror or exc}") from None


def _no_password() -> NoReturn:
    raise TlsFilesError("the private key is encrypted; trioserve needs an unencrypted one")


def _why_unusable(exc: ssl.SSLError, certfile: str, keyfile: str | None) -> str:
    key_flag, key_path = ("--keyfile", keyfile) if keyfile else ("--certfile", certfile)
    if exc.reason == "KEY_VALUES_MISMATCH":
        return f"the private key in {key_flag} {key_path} does not match the certificate"
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        probe.load_verify_locations(cafile=certfile)  # parses the certificates alone
    except ssl.SSLError:
        return f"no PEM certificate in --certfile {certfile}"
    return f"no PEM private key in {key_flag} {key_path}"
