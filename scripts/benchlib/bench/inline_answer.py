"""trioserve's inline answer timed in-process: its own CPU for one request, the kernel aside.

Under ab a request costs trioserve tens of µs of CPU, mostly the kernel's work for a new
loopback connection, and that figure wanders by several µs between runs on a shared machine:
too coarse to see a change of 1 µs in the server's own code. So this part times just that code:
``Server._start`` (what the accept loop does with each accepted connection), with stand-ins for
the system calls, for the heads ab, wrk, curl and a browser send.

Run as ``python -m scripts.benchlib.bench.inline_answer``, it times whichever ``trioserve``
comes first on the import path (the bench puts a git revision's copy there for
--trioserve-before) and prints one JSON object: µs a request per head, best of several repeats.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import subprocess
import sys
import timeit
from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import median
from types import SimpleNamespace
from typing import cast
from unittest import mock

from scripts.benchlib.machine import REPO, venv_python
from trioserve.config import ServerConfig
from trioserve.server import Server

HEADS = {
    "ab": b"GET / HTTP/1.0\r\nHost: 127.0.0.1:60000\r\nUser-Agent: ApacheBench/2.3\r\n"
    b"Accept: */*\r\n\r\n",
    "wrk": b"GET / HTTP/1.1\r\nHost: 127.0.0.1:60000\r\nConnection: close\r\n\r\n",
    "curl": b"GET / HTTP/1.1\r\nHost: 127.0.0.1:60000\r\nUser-Agent: curl/8.5.0\r\n"
    b"Accept: */*\r\n\r\n",
    "browser": b"GET /index.html?q=1 HTTP/1.1\r\nHost: 127.0.0.1:60000\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\nPriority: u=0, i\r\n\r\n",
}
CALLS = 20_000
REPEATS = 7


@contextlib.contextmanager
def _one_answer(server: Server, head: bytes) -> Iterator[Callable[[], object]]:
    """The very code under measurement: what the accept loop runs for each connection. Only
    the system calls are stood in for (and put back on exit): the head comes in, all of the
    response goes out, nothing waits in the poller (checked by the caller); every line of
    Python around them runs."""
    system = SimpleNamespace(
        read=lambda fd, size: head, write=lambda fd, data: len(data), close=lambda fd: None
    )
    nothing = SimpleNamespace(register=lambda fd, events: None, modify=lambda fd, events: None)
    server._poller = cast(select.epoll, nothing)
    engine = sys.modules[Server.__module__]
    with (
        mock.patch.object(engine, "os", system),
        mock.patch.object(engine, "set_nonblocking", lambda fd: None),
        mock.patch.object(engine, "half_close", lambda fd: None),
    ):
        yield functools.partial(server._start, 7, ("127.0.0.1", 40000), 0.0)


def time_inline_answers(
    heads: dict[str, bytes] = HEADS, calls: int = CALLS, repeats: int = REPEATS
) -> dict[str, float]:
    """µs a request of the inline answer for each head, with the trioserve that imports."""
    timings = {}
    for name, head in heads.items():
        server = Server(ServerConfig())
        with _one_answer(server, head) as one:
            best = min(timeit.repeat(one, number=calls, repeat=repeats)) / calls * 1e6
        # Every call must have been answered inline, or the figure times something else.
        if server.stats.responses != calls * repeats:
            raise SystemExit(f"{name}: not answered inline ({server.stats.summary()})")
        timings[name] = best
    return timings


def measure(trioserve_dir: Path) -> dict[str, float]:
    """Run this module in a fresh venv interpreter with ``trioserve_dir``'s ``trioserve``.

    ``trioserve_dir`` is the repository itself, or a revision's copy from ``peers``.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(trioserve_dir), str(REPO)]))
    # -P: "-m" would otherwise put the working directory (the repository) first on the path,
    # ahead of PYTHONPATH, and every revision would time today's trioserve.
    done = subprocess.run(
        [venv_python(), "-P", "-m", "scripts.benchlib.bench.inline_answer"],
        cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    result = json.loads(done.stdout)
    timed = Path(result["trioserve"]).resolve()
    if not timed.is_relative_to(trioserve_dir.resolve()):
        raise RuntimeError(f"timed the trioserve in {timed}, not the one in {trioserve_dir}")
    timings: dict[str, float] = result["timings"]
    return timings


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: median(run[name] for run in runs) for name in runs[0]}


if __name__ == "__main__":
    timed = {"trioserve": str(Path(sys.modules["trioserve"].__file__ or "").parent)}
    sys.stdout.write(json.dumps({**timed, "timings": time_inline_answers()}) + "\n")
