"""https: the client's TLS settings from ab's flags, and what the report says of a session.

Built once per run: one ``ssl.SSLContext`` serves every connection (its session cache, its
loaded certificates). Unlike ab, trioload verifies the server's certificate by default, as
curl, wrk and oha do: a benchmark that would also accept a stranger's certificate says nothing
about the server it meant to measure. ``--insecure`` turns verification off (ab's behaviour),
``--cacert`` trusts a given authority (a test certificate, a private CA).
"""

from __future__ import annotations

import ipaddress
import ssl
from urllib.parse import urlsplit

from trioload.config import LoadConfig, UsageError

#: ab's ``-f`` names. SSL2 and SSL3 are listed so that they are refused with a reason.
PROTOCOLS = ("SSL2", "SSL3", "TLS1", "TLS1.1", "TLS1.2", "TLS1.3", "ALL")

_VERSIONS = {
    "TLS1": ssl.TLSVersion.TLSv1,
    "TLS1.1": ssl.TLSVersion.TLSv1_1,
    "TLS1.2": ssl.TLSVersion.TLSv1_2,
    "TLS1.3": ssl.TLSVersion.TLSv1_3,
}


def client_context(config: LoadConfig) -> ssl.SSLContext:
    """The run's TLS context; UsageError for a setting that cannot be honoured."""
    protocol = config.tls_protocol
    if protocol in {"SSL2", "SSL3"}:
        raise UsageError(
            f"-f {protocol}: SSL 2 and 3 are broken, and Python's ssl cannot speak them"
        )
    if config.insecure:
        # No trust store at all: OpenSSL still builds the chain when it need not check it, and
        # the system's store (a directory of certificates) costs file look-ups a handshake.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        try:
            context = ssl.create_default_context(cafile=config.cacert)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"cannot load --cacert {config.cacert}: {_reason(exc)}") from None
    if not config.sni:
        # Without SNI there is no name to check the certificate against: the chain still is.
        context.check_hostname = False
    if protocol in _VERSIONS:
        version = _VERSIONS[protocol]
        if version < ssl.TLSVersion.TLSv1_2:
            # OpenSSL's default security level refuses these old protocols' ciphers.
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = context.maximum_version = version
    if config.ciphers:
        try:
            context.set_ciphers(config.ciphers)
        except ssl.SSLError:
            raise UsageError(f"-Z {config.ciphers!r}: no cipher matches") from None
    if config.client_cert:
        try:
            context.load_cert_chain(config.client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"cannot load -E {config.client_cert}: {_reason(exc)}") from None
    return context


def server_hostname(config: LoadConfig) -> str | None:
    """The name sent as SNI and checked against the certificate (None with ``-I``).

    ab sends the value of a ``-H 'Host: ...'`` as SNI where one is given: so does this. An IP
    address is checked against the certificate but never sent (SNI carries names only)."""
    if not config.sni:
        return None
    for name, value in config.headers:
        if name.lower() == "host":
            return urlsplit(f"//{value}").hostname or value  # host[:port], [v6][:port]
    return config.target.host


def sni_name(config: LoadConfig) -> str | None:
    """The name the connections send as Server Name Indication (ab's "TLS Server Name"):
    None with ``-I``, or where the name is an IP address (SNI carries names only)."""
    name = server_hostname(config)
    if name is None:
        return None
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name
    return None


def describe(sock: ssl.SSLSocket) -> tuple[str, str]:
    """ab's "SSL/TLS Protocol" (protocol, cipher, secret bits) and "Server Temp Key" lines.

    ab also prints the server key's size, which Python's ssl module does not expose; the key
    exchange group (ab's temp key) only where the module offers ``SSLSocket.group()`` (added
    after 3.14), so elsewhere that line is left out.
    """
    cipher = sock.cipher()
    protocol = sock.version() or ""
    described = f"{protocol},{cipher[0]},{cipher[2]}" if cipher else protocol
    group = getattr(sock, "group", None)
    temp_key = str(group() or "") if callable(group) else ""
    return described, temp_key


def _reason(exc: OSError | ssl.SSLError) -> str:
    return exc.strerror or (str(exc.reason) if isinstance(exc, ssl.SSLError) else str(exc))
