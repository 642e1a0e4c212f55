"""``server_context``: the settings every TLS connection gets, and files it refuses."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.conftest import TlsFiles
from trioserve.tls_context import TlsFilesError, server_context


def test_tls_context_defaults(tls_files: TlsFiles) -> None:
    context = server_context(str(tls_files.cert), str(tls_files.key))
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert context.options & ssl.OP_NO_RENEGOTIATION
    # At least one ticket: it carries the ACK that a Nagle client waits for (see the module).
    assert context.num_tickets == 1


def test_tls_context_encrypted_key_is_refused_without_a_prompt(
    tls_files: TlsFiles, tmp_path: Path
) -> None:
    key = serialization.load_pem_private_key(tls_files.key.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(TlsFilesError, match="encrypted"):
        server_context(str(tls_files.cert), str(encrypted))
