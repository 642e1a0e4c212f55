"""One server process's life, in-process: start line, signals, orphaned workers, bind errors.

Signals go to this very process (``os.kill(os.getpid(), ...)``), but only once the code under
test says it is listening, which it says from inside its signal receiver: a signal is never
left to the default handler, which would end the test run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator
from functools import partial

import pytest
import trio
import trio.testing

from tests.trioserve.conftest import AB_REQUEST, EXACT_RESPONSE, exchange
from trioserve import lifecycle
from trioserve.config import ServerConfig
from trioserve.lifecycle import READY_LINE, describe, serve_until_signalled, stop_when_orphaned
from trioserve.listener import bind_listener
from trioserve.server import Server

LOCAL = ServerConfig(host="127.0.0.1", port=0)


async def run_recording(codes: list[int], config: ServerConfig, *, worker: bool = False) -> None:
    """``serve_until_signalled``, keeping its exit status (start_soon drops return values)."""
    codes.append(await serve_until_signalled(config, worker=worker))


class Listening:
    """Spies on ``describe``: the port, and an event for the moment the server listens."""

    def __init__(self) -> None:
        self.event = trio.Event()
        self.port = 0

    def __call__(self, config: ServerConfig, port: int) -> str:
        self.port = port
        self.event.set()
        return describe(config, port)


class PipeStdin:
    """A stand-in for ``sys.stdin`` whose descriptor is the read end of our pipe."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


class ReadyStdout:
    """A stand-in for ``sys.stdout``: records what a worker writes, an event on the first."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.event = trio.Event()
        self.buffer = self

    def write(self, data: bytes) -> int:
        self.written += data
        self.event.set()
        return len(data)

    def flush(self) -> None:
        pass


@pytest.fixture
def listening(monkeypatch: pytest.MonkeyPatch) -> Listening:
    spy = Listening()
    monkeypatch.setattr(lifecycle, "describe", spy)
    return spy


@pytest.fixture
def supervisor_pipe(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A pipe standing in for a worker's stdin; yields the supervisor's (write) end."""
    read_end, write_end = os.pipe()
    monkeypatch.setattr(sys, "stdin", PipeStdin(read_end))
    try:
        yield write_end
    finally:
        os.close(read_end)
        with contextlib.suppress(OSError):  # the test closed it: that was the point
            os.close(write_end)


def test_lifecycle_describe_single_process() -> None:
    config = ServerConfig(host="127.0.0.1", backlog=128, max_connections=50)
    assert describe(config, 8080) == (
        "trioserve listening on http://127.0.0.1:8080/ "
        "(1 process, keep-alive off, backlog 128, max connections 50)"
    )


def test_lifecycle_describe_workers_and_keep_alive() -> None:
    text = describe(ServerConfig(workers=4, keep_alive=True), 60000)
    assert text.startswith("trioserve listening on http://0.0.0.0:60000/ ")
    assert "(4 worker processes, keep-alive on, backlog 4096," in text


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
async def test_lifecycle_serve_until_signalled_exits_0_after_one_signal(
    listening: Listening, capsys: pytest.CaptureFixture[str], signum: int
) -> None:
    codes: list[int] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_recording, codes, LOCAL)
        await listening.event.wait()
        assert await exchange(listening.port, AB_REQUEST) == EXACT_RESPONSE
        os.kill(os.getpid(), signum)
    assert codes == [0]
    err = capsys.readouterr().err
    assert f"listening on http://127.0.0.1:{listening.port}/ (1 process" in err
    assert "stopped: accepted 1, responses 1," in err
    with pytest.raises(OSError):  # and nothing listens there any more
        await trio.open_tcp_stream("127.0.0.1", listening.port)


async def test_lifecycle_second_signal_forces_stop_with_128_plus_signum(
    listening: Listening, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_consumed = trio.Event()
    messages: list[str] = []

    def log_spy(message: str) -> None:
        messages.append(message)
        if message.startswith("stopping"):
            first_consumed.set()  # trio merges a repeat that arrives before it is read

    monkeypatch.setattr(lifecycle, "log", log_spy)
    config = ServerConfig(host="127.0.0.1", port=0, grace=600, head_timeout=600)
    codes: list[int] = []
    with trio.fail_after(60):  # against a hang only: without the abort this takes 600 s
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_recording, codes, config)
            await listening.event.wait()
            stream = await trio.open_tcp_stream("127.0.0.1", listening.port)
            await stream.send_all(AB_REQUEST[:20])  # in flight: the grace would wait for it
            os.kill(os.getpid(), signal.SIGTERM)
            await first_consumed.wait()
            os.kill(os.getpid(), signal.SIGTERM)
    await stream.aclose()
    assert codes == [128 + signal.SIGTERM]
    assert "signal again to stop now" in messages[0]
    assert messages[-1].startswith("stopped: accepted 1, responses 0,")


async def test_lifecycle_worker_announces_ready_and_stops_when_orphaned(
    listening: Listening,
    supervisor_pipe: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ready = ReadyStdout()
    monkeypatch.setattr(sys, "stdout", ready)
    messages: list[str] = []
    monkeypatch.setattr(lifecycle, "log", messages.append)
    listeners: list[socket.socket] = []

    def bind_spy(config: ServerConfig) -> socket.socket:
        listeners.append(bind_listener(config))  # a worker names no port: this tells us
        return listeners[-1]

    monkeypatch.setattr(lifecycle, "bind_listener", bind_spy)
    codes: list[int] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(run_recording, codes, LOCAL, worker=True))
        await ready.event.wait()
        port = listeners[0].getsockname()[1]
        assert await exchange(port, AB_REQUEST) == EXACT_RESPONSE
        os.close(supervisor_pipe)  # the supervisor is gone
    assert codes == [0]
    assert bytes(ready.written) == READY_LINE
    assert not listening.event.is_set()  # a worker prints no start line of its own
    assert messages[-1].startswith("stopped: accepted 1, responses 1,")


async def test_lifecycle_stop_when_orphaned_ignores_data_stops_on_eof(
    supervisor_pipe: int,
) -> None:
    server = Server(LOCAL)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve)
        nursery.start_soon(stop_when_orphaned, server)
        os.write(supervisor_pipe, b"anything but EOF")
        await trio.testing.wait_all_tasks_blocked()  # the bytes were read, and it waits on
        assert not server.stopping
        assert await exchange(port, AB_REQUEST) == EXACT_RESPONSE
        os.close(supervisor_pipe)
    assert server.stopping  # and serve() returned, which ended the nursery


async def test_lifecycle_bind_error_is_one_plain_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = ServerConfig(host="127.0.0.1", port=taken.getsockname()[1])
        # pytest.raises(OSError) does not match an ExceptionGroup: the bind is outside nurseries.
        with pytest.raises(OSError):
            await serve_until_signalled(config)
