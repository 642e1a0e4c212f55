"""What the server prints: operational lines on stderr, the access log on stdout."""

from __future__ import annotations

import socket
import sys
import time

from trioserve.head_fields import request_line


def log(message: str) -> None:
    """Operational messages go to stderr, one line each."""
    print(f"trioserve: {message}", file=sys.stderr, flush=True)


def access_log(conn: socket.socket, head: bytes, status: int, size: int) -> None:
    """One line per response, common log format."""
    try:
        client = conn.getpeername()[0]
    except OSError:
        client = "-"  # the client reset before we logged it: the line still gets written
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    sys.stdout.write(f'{client} - - [{stamp}] "{request_line(head)}" {status} {size}\n')
