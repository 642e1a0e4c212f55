"""Misbehaving clients against one loopback HTTP server, to see that it stays up and fair.

For ``--seconds``, all at once: slowloris connections dripping an endless request head, idle
connections that send nothing (both kept at their number: one the server closes is counted and
replaced), oversized request heads, random garbage, and connections closed with a RST as soon
as they are made. Prints one JSON object of counts on stdout.

    .venv/bin/python -m scripts.benchlib.soak.hostile --port 8080 --seconds 10 --slowloris 500
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import random
import socket
import struct
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from scripts.benchlib.machine import require_loopback
from trioserve.fdlimit import raise_nofile_limit

#: most connections of one paced kind in flight at once; launches beyond it are skipped.
MAX_IN_FLIGHT = 200
CONNECT_TIMEOUT_S = 5.0
#: how long an oversized or garbage connection waits for the server's answer and close.
ANSWER_TIMEOUT_S = 3.0
#: after a failed connect, a held slot waits this long before trying again (no hot loop).
RETRY_S = 0.1
SLOWLORIS_HEAD = b"GET / HTTP/1.1\r\nHost: x\r\nX-a: "
#: 64 KiB: a request line, then one huge header.
OVERSIZED_HEAD = (b"GET / HTTP/1.1\r\nHost: x\r\nX-big: " + b"a" * 65536)[:65532] + b"\r\n\r\n"


@dataclass(frozen=True)
class Mix:
    """How many of each kind: held connections, or launches a second; 0 turns a kind off."""

    slowloris: int = 500
    idle: int = 1000
    oversized_per_s: float = 50.0
    garbage_per_s: float = 50.0
    resets_per_s: float = 200.0
    #: seconds between two bytes of a slowloris head.
    drip_s: float = 1.0


@dataclass
class Counts:
    """What one kind of client did: connections made (``sent``; a held kind's replacements
    too), connects that failed, and by kind: held connections the server closed; paced
    launches skipped (too many in flight); each probe's ending, its answer's status code or
    "reset", "eof" or "timeout" (``sent`` less the endings: still waiting at the end)."""

    sent: int = 0
    connect_failed: int = 0
    closed_by_server: int = 0
    skipped: int = 0
    endings: dict[str, int] = field(default_factory=dict)


async def connect(host: str, port: int, counts: Counts) -> trio.SocketStream | None:
    """A connection to ``host:port``, counted as sent; or None, counted as failed, if it is
    refused, reset or too slow."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with trio.fail_after(CONNECT_TIMEOUT_S):
            await sock.connect((host, port))
    except (OSError, trio.TooSlowError):  # trio closes a cancelled connect's socket itself
        sock.close()
        counts.connect_failed += 1
        return None
    counts.sent += 1
    return trio.SocketStream(sock)


async def wait_closed(stream: trio.SocketStream, drip_s: float | None) -> None:
    """Return once the server closes ``stream``; with ``drip_s``, drip an endless head."""
    period = float("inf") if drip_s is None else drip_s
    drip = itertools.chain(SLOWLORIS_HEAD, itertools.repeat(ord("a")))
    try:
        while True:
            with trio.move_on_after(period) as waited:
                data = await stream.receive_some()
            if waited.cancelled_caught:
                await stream.send_all(bytes([next(drip)]))
            elif not data:
                return
            else:
                period = float("inf")  # the server is answering (a 408): read on to its close
    except trio.BrokenResourceError:
        return  # a reset is a close too


async def hold(host: str, port: int, counts: Counts, drip_s: float | None) -> None:
    """Keep one connection open for ever, slowloris (dripping) or idle; replace it on close."""
    while True:
        stream = await connect(host, port, counts)
        if stream is None:
            await trio.sleep(RETRY_S)
            continue
        async with stream:
            await wait_closed(stream, drip_s)
        counts.closed_by_server += 1


def status_of(received: bytes) -> str | None:
    """The status code of a response's first line; "?" for other bytes; None for none."""
    if not received:
        return None
    parts = received.split(b"\r\n", 1)[0].split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return parts[1].decode()
    return "?"


async def answer_to(stream: trio.SocketStream, payload: bytes) -> str:
    """Send ``payload``, read until the server closes; its status code, else how it ended."""
    received = b""
    with trio.move_on_after(ANSWER_TIMEOUT_S):
        try:
            # A reset mid-send may still leave the answer in our receive queue: read on.
            with contextlib.suppress(trio.BrokenResourceError):
                await stream.send_all(payload)
            while chunk := await stream.receive_some():
                received = (received + chunk)[:4096]  # only the status line matters
            return status_of(received) or "eof"
        except trio.BrokenResourceError:
            return status_of(received) or "reset"
    return status_of(received) or "timeout"


async def probe(host: str, port: int, payload: bytes | None, counts: Counts) -> None:
    """One connection that sends ``payload`` and records the server's answer; without one,
    it closes at once with SO_LINGER 0 s, so the kernel sends a RST."""
    stream = await connect(host, port, counts)
    if stream is None:
        return
    if payload is None:
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await stream.aclose()
        return
    async with stream:
        ending = await answer_to(stream, payload)
    counts.endings[ending] = counts.endings.get(ending, 0) + 1


def garbage() -> bytes:
    """1-4 KiB of random bytes ending like a request head."""
    return random.randbytes(random.randint(1024, 4096) - 4) + b"\r\n\r\n"


async def pace(per_s: float, counts: Counts, launch: Callable[[], Awaitable[None]]) -> None:
    """Start ``launch`` ``per_s`` times a second on a fixed schedule, until cancelled."""
    if per_s <= 0:
        return
    in_flight = 0

    async def one() -> None:
        nonlocal in_flight
        try:
            await launch()
        finally:
            in_flight -= 1

    async with trio.open_nursery() as nursery:
        due = trio.current_time()
        while True:  # a loop that fell behind catches up in a burst: the count per second holds
            if in_flight < MAX_IN_FLIGHT:
                in_flight += 1
                nursery.start_soon(one)
            else:
                counts.skipped += 1
            due += 1 / per_s
            await trio.sleep_until(due)


async def run_mix(host: str, port: int, mix: Mix, seconds: float) -> dict[str, Any]:
    """Run every kind of ``mix`` against ``host:port`` for ``seconds``; the counts as JSON."""
    counts = {kind: Counts() for kind in ("slowloris", "idle", "oversized", "garbage", "resets")}
    held = {"slowloris": (mix.slowloris, mix.drip_s), "idle": (mix.idle, None)}
    paced: dict[str, tuple[float, Callable[[], Awaitable[None]]]] = {
        "oversized": (mix.oversized_per_s,
                      lambda: probe(host, port, OVERSIZED_HEAD, counts["oversized"])),
        "garbage": (mix.garbage_per_s, lambda: probe(host, port, garbage(), counts["garbage"])),
        "resets": (mix.resets_per_s, lambda: probe(host, port, None, counts["resets"])),
    }  # fmt: skip
    start = trio.current_time()
    with trio.move_on_after(seconds):
        async with trio.open_nursery() as nursery:
            for kind, (number, drip_s) in held.items():
                for _ in range(number):
                    nursery.start_soon(hold, host, port, counts[kind], drip_s)
            for kind, (per_s, launch) in paced.items():
                nursery.start_soon(pace, per_s, counts[kind], launch)
    found = {kind: dataclasses.asdict(of) for kind, of in counts.items()}
    return {"seconds": round(trio.current_time() - start, 3), **found}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the mix, print its counts; 2 for a non-loopback host."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="an address in 127.0.0.0/8 (default 127.0.0.1)")
    add("--port", type=int, required=True)
    add("--seconds", type=float, required=True)
    for knob in dataclasses.fields(Mix):  # --slowloris N, ..., --drip-s S: Mix's defaults
        convert = int if isinstance(knob.default, int) else float
        add(f"--{knob.name.replace('_', '-')}", type=convert, default=knob.default)
    args = parser.parse_args(argv)
    mix = Mix(**{knob.name: getattr(args, knob.name) for knob in dataclasses.fields(Mix)})
    if args.port < 1 or min(args.seconds, mix.drip_s) <= 0 or min(dataclasses.astuple(mix)) < 0:
        parser.error("give a --port, a positive --seconds and --drip-s, and no negative count")
    try:
        require_loopback(args.host)
    except SystemExit as exc:  # its message, but the exit status of a usage error
        print(f"hostile: {exc}", file=sys.stderr)
        return 2
    raise_nofile_limit()  # a thousand held connections outgrow the usual soft limit of 1024
    print(json.dumps(trio.run(run_mix, args.host, args.port, mix, args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
