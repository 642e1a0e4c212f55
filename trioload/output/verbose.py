"""ab's ``-v`` messages, as ab words them: sans-IO, the caller prints them to stdout.

At 2 and above ab shows the request once before the run, then each response's head and a
warning for each response that is not 2xx; at 3 and above also the status of each 2xx one.
ab prints the head it has so far after every read until the head is complete (the same head
again, longer each time, when it comes in pieces), plus whatever body came with that read;
trioload shows each head once, whole, without body bytes.
"""

from __future__ import annotations

HEAD_END = b"\r\n\r\n"
#: at this verbosity and above: the request, each response's head, non-2xx warnings.
HEADS = 2
#: at this verbosity and above: also the status of every 2xx response.
STATUSES = 3


def request_info(method: str, request: bytes, verbosity: int) -> str:
    """What ab prints once before the run: the request's head (not its body, which ab keeps
    apart), between ``---`` lines."""
    if verbosity < HEADS:
        return ""
    head, found, _ = request.partition(HEAD_END)
    return f"INFO: {method} header == \n---\n{_text(head + found)}\n---\n"


def response_log(head: bytes, status: int, verbosity: int) -> str:
    """What ab prints for one response whose head (up to and with its blank line) arrived."""
    if verbosity < HEADS:
        return ""
    text = f"LOG: header received:\n{_text(head)}\n"
    if not 200 <= status < 300:
        return f"{text}WARNING: Response code not 2xx ({status:03d})\n"
    if verbosity >= STATUSES:
        text += f"LOG: Response code = {status:03d}\n"
    return text


def _text(raw: bytes) -> str:
    """Bytes as ab's printf shows them: as they came (CRLFs included), any byte allowed."""
    return raw.decode("latin-1")
