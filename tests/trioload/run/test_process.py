"""One run in this process: the result it builds, its progress, and a signal's stop."""

from __future__ import annotations

import gc
import os
import signal
import socket
import time
import weakref

import pytest
import trio

from tests.trioload.conftest import RequestReader, StartRaw, StartTrioserve, url
from trioload.config import LoadConfig
from trioload.engine.state import EngineState
from trioload.engine.wire import Address
from trioload.run import process
from trioload.run.process import frozen_heap, run_in_process


async def test_run_in_process_counts_every_request_within_its_window(
    start_trioserve: StartTrioserve,
) -> None:
    server, port = await start_trioserve()
    config = LoadConfig(url=url(port), concurrency=5, requests=50, progress=False)
    result = await run_in_process(config, progress=None)
    assert (result.tally.finished, result.tally.succeeded) == (50, 50)
    assert server.stats.responses == 50
    assert not result.interrupted
    assert result.window_s is not None
    first_start, last_end = result.window_s
    # Unix times near 1.8e9 s keep ~0.2 µs in a double.
    assert result.elapsed_s == pytest.approx(last_end - first_start, abs=1e-6)
    assert result.cpu_user_s + result.cpu_sys_s > 0


class _Recorder:
    """A progress sink that keeps what it was told."""

    def __init__(self) -> None:
        self.ticks: list[tuple[int, int]] = []
        self.finished: list[int] = []

    def tick(self, finished: int, failed: int, elapsed_s: float) -> str:
        self.ticks.append((finished, failed))
        return f"tick {finished}\n"

    def finish(self, finished: int) -> str:
        self.finished.append(finished)
        return "done\n"


async def test_run_in_process_tells_its_progress_and_ends_with_the_count(
    start_trioserve: StartTrioserve, capsys: pytest.CaptureFixture[str]
) -> None:
    _, port = await start_trioserve()
    config = LoadConfig(url=url(port), concurrency=2, requests=7, progress=False)
    recorder = _Recorder()
    await run_in_process(config, progress=recorder)
    assert recorder.ticks[-1] == (7, 0)  # a last tick after the run, whatever its length
    assert recorder.finished == [7]
    assert capsys.readouterr().err.endswith("tick 7\ndone\n")


async def test_run_in_process_stops_on_sigterm_and_says_so(start_raw: StartRaw) -> None:
    arrived = trio.Event()

    async def hold_the_request(stream: trio.SocketStream) -> None:
        await RequestReader(stream).next_request()
        arrived.set()
        await trio.sleep_forever()

    port = await start_raw(hold_the_request)
    config = LoadConfig(url=url(port), concurrency=1, requests=3, timeout=60, progress=False)
    with trio.fail_after(60):  # a run that ignored the signal would hang: fail instead
        await _run_and_signal(config, arrived)


async def _run_and_signal(config: LoadConfig, arrived: trio.Event) -> None:
    async with trio.open_nursery() as nursery:

        async def run() -> None:
            result = await run_in_process(config, progress=None)
            assert result.interrupted
            # The request in flight was abandoned, not counted as a failure.
            assert (result.tally.finished, result.tally.failed) == (0, 0)
            nursery.cancel_scope.cancel()

        nursery.start_soon(run)
        await arrived.wait()  # the run is under way, so its signal receiver is in place
        os.kill(os.getpid(), signal.SIGTERM)
        await trio.sleep_forever()


async def test_run_in_process_begins_at_start_at(start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve()
    start_at = time.time() + 0.5
    config = LoadConfig(url=url(port), requests=3, progress=False, start_at=start_at)
    result = await run_in_process(config, progress=None)
    assert result.window_s is not None
    assert start_at <= result.window_s[0] < start_at + 0.25
    assert result.tally.finished == 3


async def test_run_in_process_cuts_its_timeline_on_the_wall_clock_grid(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    config = LoadConfig(
        url=url(port), requests=40, rate=100.0, interval=0.1, progress=False, concurrency=2
    )
    result = await run_in_process(config, progress=None)
    entries = result.timeline
    assert sum(entry.finished for entry in entries) == 40
    # Every cut but the last falls on a multiple of 0.1 s (a little after it).
    for entry in entries[:-1]:
        offset = entry.end_unix_s / 0.1 - round(entry.end_unix_s / 0.1)
        assert 0 <= offset < 0.3, entry
    # 40 requests at 100/s: 0.4 s, so cut mid-run. Not necessarily into 4 entries: on a loaded
    # machine a cut can come after the next grid line, or a cell see nothing finish (no entry).
    assert len(entries) >= 2


async def test_run_in_process_begun_late_ends_where_t_ends_from_start_at(
    start_trioserve: StartTrioserve,
) -> None:
    """A segment that starts late keeps to the test's window: its -R backlog is sent at once,
    and -t counts from the agreed start, not from its own."""
    _, port = await start_trioserve()
    start_at = time.time() - 0.5
    config = LoadConfig(
        url=url(port),
        requests=None,
        time_limit=1.0,
        rate=100.0,
        concurrency=10,
        progress=False,
        start_at=start_at,
    )
    result = await run_in_process(config, progress=None)
    assert result.window_s is not None
    assert result.window_s[1] < start_at + 1.25
    assert 90 <= result.tally.finished <= 100  # the requests due in 1 s, not in 1.5 s


async def test_run_in_process_cpu_share_covers_the_runs_own_window(
    start_trioserve: StartTrioserve,
) -> None:
    # A run this short is mostly its set-up and its report: neither is in its time, so
    # neither may be in its CPU (one process can never have used more than one core).
    _, port = await start_trioserve()
    config = LoadConfig(url=url(port), concurrency=5, requests=5, progress=False)
    result = await run_in_process(config, progress=None)
    assert result.tally.succeeded == 5
    assert 0 < result.client_cpu_share <= 1.0


async def test_run_in_process_keeps_the_heap_out_of_the_collectors_passes_while_it_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen_during: list[int] = []

    async def load(state: EngineState, family: socket.AddressFamily, address: Address) -> None:
        frozen_during.append(gc.get_freeze_count())

    async def target(*args: object, **kwargs: object) -> tuple[socket.AddressFamily, Address]:
        return socket.AF_INET, ("127.0.0.1", 9)

    monkeypatch.setattr(process, "run_load", load)
    monkeypatch.setattr(process, "find_target", target)
    assert gc.get_freeze_count() == 0
    await run_in_process(LoadConfig(url=url(9), requests=1, progress=False), progress=None)
    assert frozen_during[0] > 0  # the objects alive before the run: modules, config
    assert gc.get_freeze_count() == 0  # back in the collector's passes after it


def test_frozen_heap_leaves_a_freeze_made_before_it_alone() -> None:
    gc.freeze()
    try:
        with frozen_heap():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    with frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_frozen_heap_frees_the_garbage_it_finds_rather_than_freezing_it() -> None:
    class Cycle:
        """An object in a reference cycle: only the collector frees it."""

        def __init__(self) -> None:
            self.me = self

    garbage = Cycle()
    freed = weakref.ref(garbage)
    del garbage
    with frozen_heap():
        assert freed() is None
