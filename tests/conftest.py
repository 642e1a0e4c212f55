"""What the whole test run shares: bytecode caching whatever the environment says, and TLS
certificates made for the run (``tls_files``).

The run spawns three xdist workers and about a hundred trioload and trioserve processes. With
bytecode caching off (``PYTHONDONTWRITEBYTECODE``, set in some sandboxes and CI images), each
of them compiles the project's sources again: about 60 ms of CPU a process, and about 3 s of
collection a worker (pytest cannot cache its rewritten test modules either). On two cores that
is several seconds of the suite's minute. Loaded before the workers start, so they and every
process they spawn inherit it; the caches go to ``__pycache__/``, which git ignores.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


@dataclass(frozen=True)
class TlsFiles:
    """A certificate authority made for this test run, and a server certificate it signed for
    127.0.0.1 and localhost: PEM files, as ``--certfile``/``--keyfile`` and clients take them."""

    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    folder = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    authority.cert_pem.write_to_path(str(files.ca))
    server.cert_chain_pems[0].write_to_path(str(files.cert))
    server.private_key_pem.write_to_path(str(files.key))
    return files
