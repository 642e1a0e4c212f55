"""Fixtures for trioload's tests: misbehaving servers in the test's nursery, and the CLI runner.

Every server listens on 127.0.0.1, port 0, and lives in the test's nursery (pytest-trio
cancels it when the test ends). Each one misbehaves in exactly one way, so a test can say
which failure column that behaviour must land in.
"""

from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio

from trioload.config import LoadConfig
from trioload.results.result import RunResult
from trioload.results.tally import Tally
from trioserve.config import ServerConfig
from trioserve.server import Server
from trioserve.tls_server import server_for

TRIOLOAD = Path(sys.executable).parent / "trioload"
REQUEST_END = b"\r\n\r\n"

Handler = Callable[[trio.SocketStream], Awaitable[None]]
StartRaw = Callable[[Handler], Awaitable[int]]
StartTrioserve = Callable[..., Awaitable[tuple[Server, int]]]


@dataclass(frozen=True)
class LoadRun:
    """What one ``trioload`` process did: exit status, its streams, and the JSON if asked."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        """The JSON report (the run must have been given ``--json -``)."""
        parsed: dict[str, Any] = json.loads(self.stdout)
        return parsed


async def run_trioload(*args: str, **options: Any) -> LoadRun:
    """Run the real console script to its end, streams captured (but for one the caller
    gives as ``stdout=`` or ``stderr=``)."""
    done = await trio.run_process(
        [str(TRIOLOAD), *args],
        capture_stdout="stdout" not in options,
        capture_stderr="stderr" not in options,
        check=False,
        **options,
    )
    return LoadRun(done.returncode, (done.stdout or b"").decode(), (done.stderr or b"").decode())


class PlainSleeps:
    """Stands in for the ``time`` module in ``trioload.engine.doze``: sleeps, and keeps each
    delay asked."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        time.sleep(delay)


@pytest.fixture
def plain_sleeps(monkeypatch: pytest.MonkeyPatch) -> PlainSleeps:
    """The doze's plain sleeps, recorded."""
    from trioload.engine import doze  # noqa: PLC0415 -- only the tests that ask import it

    sleeps = PlainSleeps()
    monkeypatch.setattr(doze, "time", sleeps)
    return sleeps


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}/"


# -- servers -----------------------------------------------------------------------------


@pytest.fixture
def start_raw(nursery: trio.Nursery) -> StartRaw:
    """Serve each connection with ``handler`` on 127.0.0.1; returns the port."""

    async def start(handler: Handler) -> int:
        async def serve(stream: trio.SocketStream) -> None:
            # trioload's probe (trioload.run.preflight) resets before sending a byte: it is not
            # a request, and must not reach (or be counted by) the handler.
            try:
                if not await stream.socket.recv(1, socket.MSG_PEEK):
                    return
            except OSError:
                return
            await handler(stream)

        listeners = await nursery.start(partial(trio.serve_tcp, serve, 0, host="127.0.0.1"))
        port: int = listeners[0].socket.getsockname()[1]
        return port

    return start


@pytest.fixture
def start_trioserve(nursery: trio.Nursery) -> StartTrioserve:
    """The real trioserve in the test's nursery (with TLS where ``certfile`` is given);
    (server, port)."""

    async def start(**overrides: Any) -> tuple[Server, int]:
        server = server_for(ServerConfig(host="127.0.0.1", port=0, **overrides))
        port: int = await nursery.start(server.serve)
        return server, port

    return start


class RequestReader:
    """Reads request heads off one connection (bodies are never sent to these servers)."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self._buffer = b""

    async def next_request(self) -> bytes | None:
        """The next request head, or None once the client closed."""
        while REQUEST_END not in self._buffer:
            try:
                chunk = await self.stream.receive_some(65536)
            except trio.BrokenResourceError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(REQUEST_END)
        return head


def response(body: bytes, *, status: str = "200 OK", extra: str = "") -> bytes:
    """A close-delimited HTTP/1.1 response with an exact Content-Length."""
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        f"{extra}Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def reset_after_request(stream: trio.SocketStream) -> None:
    """Read the request, then close with SO_LINGER 0: the client gets a RST, no response."""
    await RequestReader(stream).next_request()
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.socket.close()


async def never_answer(stream: trio.SocketStream) -> None:
    """Accept, read the request, answer nothing, ever."""
    await RequestReader(stream).next_request()
    await trio.sleep_forever()


async def close_before_answer(stream: trio.SocketStream) -> None:
    """Read the request and close cleanly without a byte of response."""
    async with stream:
        await RequestReader(stream).next_request()


async def truncated_body(stream: trio.SocketStream) -> None:
    """Promise 10 body bytes, send 5, close."""
    async with stream:
        await RequestReader(stream).next_request()
        await stream.send_all(response(b"hello" * 2)[:-5])


async def server_error(stream: trio.SocketStream) -> None:
    """A well-formed 503."""
    async with stream:
        await RequestReader(stream).next_request()
        await stream.send_all(response(b"busy!", status="503 Service Unavailable"))


@dataclass
class Counted:
    """A handler that knows how many requests it has answered so far."""

    answered: int = 0


def varying_length() -> Handler:
    """Bodies of 5, 6, 5, 6, ... bytes: every other one differs from the first."""
    state = Counted()

    async def handler(stream: trio.SocketStream) -> None:
        async with stream:
            await RequestReader(stream).next_request()
            body = b"hello" if state.answered % 2 == 0 else b"hello!"
            state.answered += 1
            await stream.send_all(response(body))

    return handler


def latency_mix(fast_s: float, slow_s: float) -> Handler:
    """Answer alternate requests after ``fast_s`` and ``slow_s`` (exactly half each)."""
    state = Counted()

    async def handler(stream: trio.SocketStream) -> None:
        async with stream:
            await RequestReader(stream).next_request()
            delay = fast_s if state.answered % 2 == 0 else slow_s
            state.answered += 1
            await trio.sleep(delay)
            await stream.send_all(response(b"hello"))

    return handler


async def chunked_keep_alive(stream: trio.SocketStream) -> None:
    """HTTP/1.1 keep-alive with a chunked body ('hel' + 'lo'), until the client closes."""
    reader = RequestReader(stream)
    async with stream:
        while await reader.next_request() is not None:
            await stream.send_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                b"\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
            )


@pytest.fixture
def start_gone(nursery: trio.Nursery) -> Callable[[], Awaitable[int]]:
    """A server that takes trioload's probe connection, then stops listening: the run's own
    connections are all refused (a server that went away after the run began)."""

    async def start() -> int:
        listener = trio.socket.socket()
        await listener.bind(("127.0.0.1", 0))
        # Room for the probe alone: a connection of the run that came before the close would
        # be reset, not refused. The kernel drops its SYN instead; the retry finds no listener.
        listener.listen(0)

        async def take_the_probe() -> None:
            with listener:
                probe, _ = await listener.accept()
                probe.close()

        nursery.start_soon(take_the_probe)
        port: int = listener.getsockname()[1]
        return port

    return start


def refused_port() -> int:
    """A loopback port nobody listens on: bound, read, closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_in_new_session() -> dict[str, Any]:
    """Options that keep a child's signals away from pytest's process group."""
    return {"start_new_session": True, "stdin": subprocess.DEVNULL}


async def interrupted(
    argv: list[str],
    ready: Callable[[bytes], Awaitable[bool]],
    *,
    timeout: float = 30.0,
) -> tuple[int, str]:
    """Run ``argv`` in its own session, send it SIGINT once ``ready(stderr so far)`` says so,
    and return its exit status and whole stdout (the process is killed if it outlives
    ``timeout``)."""
    process = await trio.lowlevel.open_process(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **run_in_new_session()
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        with trio.fail_after(timeout):
            seen = b""
            while not await ready(seen):
                chunk = await process.stderr.receive_some(4096)
                assert chunk, f"closed stderr before it was ready: {seen.decode()}"
                seen += chunk
            process.send_signal(signal.SIGINT)
            stdout = bytearray()
            while chunk := await process.stdout.receive_some(65536):
                stdout += chunk
            status = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return status, stdout.decode()


#: per response: connect, processing, waiting, total (ms); all exact in a 3-figure HDR.
KNOWN_MS = [(1, 9, 5, 10), (1, 19, 5, 20), (1, 29, 5, 30), (1, 39, 5, 40)]


def known_tally(*, status: int = 200, keep_alive: bool = False) -> Tally:
    tally = Tally(server_software="trioserve")
    for connect, processing, waiting, total in KNOWN_MS:
        tally.record_response(
            connect_us=connect * 1000,
            processing_us=processing * 1000,
            waiting_us=waiting * 1000,
            total_us=total * 1000,
            status=status,
            wire_bytes=88,
            body_bytes=5,
            keep_alive=keep_alive,
        )
    return tally


def result_of(
    tally: Tally, *, cpu_s: float = 0.5, interrupted: bool = False, **config: Any
) -> RunResult:
    load = LoadConfig(url="http://127.0.0.1:8080/x", concurrency=2, requests=4, **config)
    return RunResult(load, tally, 2.0, cpu_s, 0.0, interrupted=interrupted)
