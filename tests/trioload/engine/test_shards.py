"""The shard engine's own promises, end to end with the real ``trioload``: exactly ``-c``
requests in flight across shards, request bodies larger than a socket buffer, per-request
timeouts, found by a sweep of the slots, while other requests go on, and an open loop that
wakes in ticks.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
import trio

from tests.trioload.conftest import (
    Handler,
    PlainSleeps,
    RequestReader,
    StartRaw,
    StartTrioserve,
    response,
    run_trioload,
    url,
)
from trioload.config import LoadConfig
from trioload.engine import kernel_clock, shards
from trioload.engine.response import ResponseReader
from trioload.engine.schedule import TICK_NS
from trioload.engine.shards import (
    SLOTS_PER_SHARD,
    SWEEPS_PER_TIMEOUT,
    Phase,
    Shard,
    Slot,
    run_shards,
)
from trioload.engine.state import EngineState
from trioload.results.tally import Failure, Tally


@dataclass
class Gauge:
    """How many connections a server holds now, and the most it held at once."""

    now: int = 0
    peak: int = 0


def held_until(count: int, gauge: Gauge, *, at_most: float = 10.0) -> Handler:
    """Hold every request until ``count`` connections are held at once (or ``at_most``
    seconds passed: a client that never gets there still finishes, and the peak says so),
    keeping count of connections held at once. An event, not a sleep: however slowly a busy
    machine accepts them, the first ``count`` all meet."""
    full = trio.Event()

    async def handler(stream: trio.SocketStream) -> None:
        gauge.now += 1
        gauge.peak = max(gauge.peak, gauge.now)
        if gauge.now >= count:
            full.set()
        try:
            async with stream:
                await RequestReader(stream).next_request()
                with trio.move_on_after(at_most):
                    await full.wait()
                await stream.send_all(response(b"hello"))
        finally:
            gauge.now -= 1

    return handler


async def test_shards_keep_exactly_c_requests_in_flight_across_shards(
    start_raw: StartRaw,
) -> None:
    c = SLOTS_PER_SHARD + 7  # two shards
    gauge = Gauge()
    port = await start_raw(held_until(c, gauge))
    run = await run_trioload("-q", "-c", str(c), "-n", str(2 * c), "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    assert run.report["succeeded"] == 2 * c
    assert gauge.peak == c


async def test_shards_send_a_body_larger_than_the_socket_buffers(
    start_raw: StartRaw, tmp_path: Path
) -> None:
    body = bytes(range(256)) * (16 * 1024)  # 4 MiB: many times what one send can take
    body_file = tmp_path / "body"
    body_file.write_bytes(body)
    received: list[int] = []

    async def slow_reader(stream: trio.SocketStream) -> None:
        async with stream:
            data = b""
            # Let the client's send buffer fill up first: it must wait for room, not fail.
            await trio.sleep(0.2)
            while b"\r\n\r\n" not in data:
                data += await stream.receive_some(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(rest) < length:
                rest += await stream.receive_some(65536)
            received.append(len(rest))
            await stream.send_all(response(b"hello"))

    port = await start_raw(slow_reader)
    run = await run_trioload("-q", "-n", "2", "-p", str(body_file), "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    assert run.report["succeeded"] == 2
    assert received == [len(body), len(body)]


async def test_shards_time_out_hung_requests_while_the_others_complete(
    start_raw: StartRaw,
) -> None:
    answered = 0

    async def every_other_hangs(stream: trio.SocketStream) -> None:
        nonlocal answered
        async with stream:
            await RequestReader(stream).next_request()
            answered += 1
            if answered % 2 == 0:
                await trio.sleep_forever()
            await stream.send_all(response(b"hello"))

    port = await start_raw(every_other_hangs)
    run = await run_trioload("-q", "-c", "4", "-n", "20", "-s", "0.4", "--json", "-", url(port))
    assert run.returncode == 1
    assert run.report["failures"]["receive"] == 10
    assert run.report["succeeded"] == 10
    # Ten hung requests of 0.4 s each, four at a time: at least 1 s, and no slot waits twice.
    assert 1.0 <= run.report["time_taken_s"] < 4.0
    # Each answered request was timed on its own, not behind a hung one.
    assert run.report["latency_ms"]["total"]["max"] < 400


async def test_shards_count_a_connect_that_never_completes_as_connect() -> None:
    # A listener that never accepts, with the smallest backlog: once its queue is full the
    # kernel drops further SYNs, so those connects hang until -s.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        run = await run_trioload("-q", "-c", "6", "-n", "6", "-s", "0.5", "--json", "-", url(port))
    failures = run.report["failures"]
    assert run.returncode == 1
    assert failures["connect"] >= 1
    assert failures["connect"] + failures["receive"] == 6


def test_shard_sweep_fails_only_the_requests_that_have_run_for_s() -> None:
    state = EngineState(LoadConfig(timeout=2.0))
    shard = Shard(state, socket.AF_INET, ("127.0.0.1", 9), b"", 5)
    try:
        shard.to_start.clear()  # none is started: the test sets each slot's request itself
        connecting, reading, young, idle, sending = shard.slots
        now = 100 * 10**9
        connecting.phase, connecting.start = Phase.CONNECTING, now - 2 * 10**9  # exactly -s ago
        reading.phase, reading.start = Phase.RECEIVING, now - 5 * 10**9
        reading.reader = ResponseReader()
        reading.reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhel")
        young.phase, young.start = Phase.RECEIVING, now - 2 * 10**9 + 1  # one ns short of -s
        idle.start = now - 5 * 10**9  # idle: a kept connection between requests
        sending.phase, sending.start = Phase.SENDING, now - 3 * 10**9
        partial = len(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhel")
        shard.sweep(now)
        failures = state.tally.failures
        assert (failures[Failure.CONNECT], failures[Failure.RECEIVE]) == (1, 2)
        assert state.tally.total_bytes == partial  # what the timed-out response had sent
        assert shard.to_start == [connecting, reading, sending]  # each starts its next request
        assert (young.phase, idle.phase) == (Phase.RECEIVING, Phase.IDLE)
        assert shard.next_sweep_ns == now + 2 * 10**9 // SWEEPS_PER_TIMEOUT
    finally:
        shard.poller.close()


async def run_scheduled(config: LoadConfig, port: int, shard: type[Shard] | None = None) -> Tally:
    """``config``'s load (``-c`` slots) over shards against ``port``; its tally."""
    state = EngineState(config)
    state.begin()
    await run_shards(
        state, socket.AF_INET, ("127.0.0.1", port), config.encode_request(), config.concurrency,
        shard=shard,
    )  # fmt: skip
    state.end()
    return state.tally


class BatchCountingShard(Shard):
    """A shard that keeps the size of every batch of events it serves."""

    batches: ClassVar[list[int]] = []

    def serve(self, events: list[tuple[int, int]]) -> None:
        if events:
            self.batches.append(len(events))
        super().serve(events)


@pytest.mark.skipif(not kernel_clock.AVAILABLE, reason="the kernel does not stamp arrivals")
async def test_shards_under_a_schedule_read_responses_in_ticks(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    rate, requests = 2000.0, 400  # 0.2 s of schedule: 100 ticks
    config = LoadConfig(url=url(port), concurrency=50, requests=requests, rate=rate, timeout=10.0)
    BatchCountingShard.batches = []
    tally = await run_scheduled(config, port, BatchCountingShard)
    assert tally.succeeded == requests
    # The responses of a tick wait for the next one, stamped by the kernel: a batch a tick
    # (woken by each response, the shard would serve most in batches of their own).
    ticks = requests / rate * 1e9 / TICK_NS
    batches = BatchCountingShard.batches
    assert len(batches) <= 1.3 * ticks
    assert sum(batches) / len(batches) >= 0.9 * rate * TICK_NS / 1e9  # a tick's responses


@pytest.mark.skipif(not kernel_clock.AVAILABLE, reason="the kernel does not stamp arrivals")
@pytest.mark.parametrize("slots_per_shard", [SLOTS_PER_SHARD, 25])
async def test_shards_between_ticks_doze_only_when_the_run_has_one(
    start_trioserve: StartTrioserve,
    monkeypatch: pytest.MonkeyPatch,
    plain_sleeps: PlainSleeps,
    slots_per_shard: int,
) -> None:
    _, port = await start_trioserve()
    monkeypatch.setattr(shards, "SLOTS_PER_SHARD", slots_per_shard)  # 25: two shards of c=50
    blind: list[bool] = []  # a wait that ready sockets would not end: the doze's case
    wake_at = Shard._wake_at

    def counting_wake_at(shard: Shard) -> tuple[float, bool]:
        when, on_ready = wake_at(shard)
        blind.append(not on_ready)
        return when, on_ready

    monkeypatch.setattr(Shard, "_wake_at", counting_wake_at)
    config = LoadConfig(url=url(port), concurrency=50, requests=200, rate=1000.0, timeout=10.0)
    assert (await run_scheduled(config, port)).succeeded == 200
    assert any(blind)  # either way, the shards waited blind between ticks
    if slots_per_shard == SLOTS_PER_SHARD:
        assert plain_sleeps.delays  # the only shard slept plainly
    else:
        assert plain_sleeps.delays == []  # each left it to trio, which serves the other's sockets


class WritingShard(Shard):
    """A shard that keeps the most slots it had making a connection or writing at once."""

    most_writing: ClassVar[int] = 0
    shards: ClassVar[list[Shard]] = []

    def enter_phase(self, slot: Slot, phase: int) -> None:
        super().enter_phase(slot, phase)
        WritingShard.most_writing = max(WritingShard.most_writing, self.writing)
        if self not in WritingShard.shards:
            WritingShard.shards.append(self)


async def test_shards_count_the_slots_writing_a_request_under_a_schedule(
    start_raw: StartRaw,
) -> None:
    body = bytes(4 * 1024 * 1024)  # many sends' worth: the slots wait to write, in SENDING

    async def reader(stream: trio.SocketStream) -> None:
        async with stream:
            data = b""
            while len(data) < len(body):
                chunk = await stream.receive_some(1 << 20)
                if not chunk:
                    return
                data += chunk
            await stream.send_all(response(b"hello"))

    port = await start_raw(reader)
    config = LoadConfig(url=url(port), concurrency=3, requests=6, rate=100.0, body=body)
    WritingShard.most_writing, WritingShard.shards = 0, []
    assert (await run_scheduled(config, port, WritingShard)).succeeded == 6
    # while they wrote, a ready socket woke the shard (tick_wake's "writing"); none is left
    assert WritingShard.most_writing >= 1
    assert [shard.writing for shard in WritingShard.shards] == [0]
