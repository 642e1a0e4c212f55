"""``--workers N``: the reserved port, and a supervisor whose children are real processes.

``supervise`` runs in-process; its workers are ``python -m trioserve`` children. SIGTERM goes
to this process only once the supervisor has printed its start line, which it does from
inside its signal receiver (so the default handler never sees it).
"""

from __future__ import annotations

import errno
import os
import re
import signal
import socket
from typing import Any

import pytest
import trio

from tests.trioserve.conftest import AB_REQUEST, EXACT_RESPONSE, exchange
from trioserve import workers
from trioserve.config import ServerConfig
from trioserve.lifecycle import describe
from trioserve.listener import bind_listener
from trioserve.workers import reserve_port, supervise

LOCAL = ServerConfig(host="127.0.0.1", port=0, workers=2)
#: the workers' own command line: the rest (port, --workers 1) the supervisor adds.
ARGV = ["--host", "127.0.0.1"]


class Supervised:
    """Spies on the supervisor: its children, the port, and an event once all listen."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.processes: list[trio.Process] = []
        self.port = 0
        self.listening = trio.Event()
        self.exit_codes: list[int] = []
        open_process = trio.lowlevel.open_process

        async def open_spy(*args: Any, **kwargs: Any) -> trio.Process:
            self.processes.append(await open_process(*args, **kwargs))
            return self.processes[-1]

        def describe_spy(config: ServerConfig, port: int) -> str:
            self.port = port
            self.listening.set()
            return describe(config, port)

        monkeypatch.setattr(trio.lowlevel, "open_process", open_spy)
        monkeypatch.setattr(workers, "describe", describe_spy)

    async def run(self, argv: list[str]) -> None:
        self.exit_codes.append(await supervise(LOCAL, argv))


@pytest.fixture
def supervised(monkeypatch: pytest.MonkeyPatch) -> Supervised:
    return Supervised(monkeypatch)


def test_workers_reserve_port_fixes_a_port_that_reuse_port_listeners_share() -> None:
    with reserve_port(ServerConfig(host="127.0.0.1", port=0)) as reserved:
        port = reserved.getsockname()[1]
        assert port != 0
        assert reserved.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        with pytest.raises(ConnectionRefusedError):  # reserved, not listening
            socket.create_connection(("127.0.0.1", port)).close()
        with socket.socket() as plain, pytest.raises(OSError) as taken:
            plain.bind(("127.0.0.1", port))  # held against anyone else's bind
        assert taken.value.errno == errno.EADDRINUSE
        shared = ServerConfig(host="127.0.0.1", port=port, reuse_port=True)
        with bind_listener(shared), bind_listener(shared):  # what the workers do, twice
            with pytest.raises(OSError) as refused:  # a listener without SO_REUSEPORT can't
                bind_listener(ServerConfig(host="127.0.0.1", port=port)).close()
            assert refused.value.errno == errno.EADDRINUSE


async def test_workers_supervise_two_children_serve_and_all_exit_on_sigterm(
    supervised: Supervised, capfd: pytest.CaptureFixture[str]
) -> None:
    requests = 64
    with trio.fail_after(60):  # against a hang only: two interpreters start in about a second
        async with trio.open_nursery() as nursery:
            nursery.start_soon(supervised.run, ARGV)
            await supervised.listening.wait()
            for _ in range(requests):
                assert await exchange(supervised.port, AB_REQUEST) == EXACT_RESPONSE
            os.kill(os.getpid(), signal.SIGTERM)  # the supervisor forwards it to each child
    assert supervised.exit_codes == [0]
    assert len(supervised.processes) == 2
    assert [proc.returncode for proc in supervised.processes] == [0, 0]
    err = capfd.readouterr().err  # the children inherit our stderr
    accepted = [int(n) for n in re.findall(r"stopped: accepted (\d+),", err)]
    assert len(accepted) == 2  # one line per worker
    assert sum(accepted) == requests
    # The kernel spreads connections over the SO_REUSEPORT listeners by a hash of the client's
    # port: all 64 on one worker has odds of 2**-63.
    assert min(accepted) > 0
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", supervised.port)


async def test_workers_supervise_stops_the_rest_when_one_worker_dies(
    supervised: Supervised, capfd: pytest.CaptureFixture[str]
) -> None:
    with trio.fail_after(60):  # against a hang only
        async with trio.open_nursery() as nursery:
            nursery.start_soon(supervised.run, ARGV)
            await supervised.listening.wait()
            supervised.processes[0].kill()
    assert supervised.exit_codes == [1]
    assert supervised.processes[0].returncode == -signal.SIGKILL
    assert supervised.processes[1].returncode == 0  # stopped gracefully, by the supervisor
    err = capfd.readouterr().err
    pid = supervised.processes[0].pid
    assert f"worker {pid} exited with status {-signal.SIGKILL}; stopping the others" in err


async def test_workers_supervise_fails_when_a_worker_cannot_start(
    supervised: Supervised, capfd: pytest.CaptureFixture[str]
) -> None:
    with trio.fail_after(60):  # against a hang only
        await supervised.run([*ARGV, "--max-connections", "0"])  # a usage error in each child
    assert supervised.exit_codes == [1]
    assert not supervised.listening.is_set()
    first, second = supervised.processes
    assert first.returncode == 2  # argparse's status: the one the supervisor read EOF from
    assert second.returncode in {2, -signal.SIGTERM}  # failed too, or stopped while starting
    err = capfd.readouterr().err
    assert re.search(r"workers did not start: worker \d+ exited before listening", err)
