"""What the server prints: operational lines on stderr, the access log on stdout."""

from __future__ import annotations

import sys
import time

from trioserve.head_fields import request_line


def log(message: str) -> None:
    """Operational messages go to stderr, one line each."""
    print(f"trioserve: {message}", file=sys.stderr, flush=True)


def client_host(peer: object) -> str:
    """The host part of an accepted peer's address; "-" where there is none (a Unix socket)."""
    if isinstance(peer, tuple) and peer and isinstance(peer[0], str):
        return peer[0]
    return "-"


def access_log(client: str, head: bytes, status: int, size: int) -> None:
    """One line per response, common log format; ``client`` from ``client_host``."""
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    sys.stdout.write(f'{client} - - [{stamp}] "{request_line(head)}" {status} {size}\n')
