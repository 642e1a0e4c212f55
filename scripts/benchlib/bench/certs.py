"""The tls part's certificates, made at bench time: a throw-away CA and a leaf it signed.

``trustme`` (a dev dependency, in the project's venv) makes both; the keys are ECDSA P-256,
the cheapest common handshake, so the part measures the clients rather than RSA's private-key
operation on the server. The leaf names the bench's loopback address (an IP SAN) and
``localhost``, so trioload can verify it with ``--cacert`` (ab never verifies).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files: the CA to trust, the server's chain (leaf first) and its private key."""

    ca: Path
    chain: Path
    key: Path


def make_certificates(directory: Path, host: str) -> TlsFiles | str:
    """A CA and a leaf for ``host`` (and localhost), ECDSA P-256; or why they can't be made."""
    try:
        import trustme  # noqa: PLC0415  (a dev dependency: only this part needs it)
    except ImportError:
        return "trustme is not installed (it is a dev dependency: pip install trustme)"
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server-chain.pem", directory / "server.key")
    ca = trustme.CA(key_type=trustme.KeyType.ECDSA)
    leaf = ca.issue_cert(host, "localhost", key_type=trustme.KeyType.ECDSA)
    ca.cert_pem.write_to_path(str(files.ca))
    files.chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(files.key))
    files.key.chmod(0o600)
    return files
