"""The kernel's receive timestamps: read back exactly, converted to the engine's clock, and, in
a shard made slow per event on purpose, still the truth where trioload's own stamps drift."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from time import perf_counter_ns, time_ns

import pytest
import trio

from trioload.config import LoadConfig
from trioload.engine import kernel_clock
from trioload.engine.kernel_clock import ANCILLARY_SIZE, SO_TIMESTAMPNS, offset_ns, timespec
from trioload.engine.shards import Shard, run_shards
from trioload.engine.state import EngineState
from trioload.results.tally import KERNEL_CLOCK, READ_CLOCK, READ_LAG

needs_stamps = pytest.mark.skipif(
    not kernel_clock.AVAILABLE, reason="no kernel receive timestamps on this platform"
)


def test_timespec_reads_seconds_and_nanoseconds() -> None:
    data = struct.pack("@ll", 1_700_000_000, 123_456_789)
    assert timespec(data) == (1_700_000_000, 123_456_789)
    assert socket.CMSG_LEN(len(data)) <= ANCILLARY_SIZE


def test_offset_ns_puts_the_wall_clock_on_the_monotonic_one() -> None:
    before = perf_counter_ns()
    converted = time_ns() + offset_ns()
    after = perf_counter_ns()
    # within a few clock calls of the readings around it
    assert before - 1_000_000 <= converted <= after + 1_000_000


@needs_stamps
def test_keep_on_holds_a_socket_that_asks_for_stamps() -> None:
    keeper = kernel_clock.keep_on()
    assert keeper is not None
    with keeper:
        assert keeper.getsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS) == 1


@needs_stamps
def test_stamp_is_when_the_data_arrived_not_when_it_was_read() -> None:
    keeper = kernel_clock.keep_on()
    assert keeper is not None
    with keeper, socket.create_server(("127.0.0.1", 0)) as listener:
        reader = socket.create_connection(listener.getsockname())
        writer, _ = listener.accept()
        with reader, writer:
            kernel_clock.enable(reader)
            # Linux switches stamping on in a background job a moment after the first socket
            # asks: until then data comes unstamped. Wait for a stamped byte.
            for _ in range(1000):
                writer.sendall(b".")
                if reader.recvmsg(1, ANCILLARY_SIZE)[1]:
                    break
            else:
                pytest.fail("the kernel never stamped")
            sent = perf_counter_ns()
            writer.sendall(b"hello")
            arrived_by = perf_counter_ns()
            # Read late: spin, so that no sleep's wake-up decides the figure.
            late_ns = 30_000_000
            while perf_counter_ns() - sent < late_ns:
                pass
            data, ancillary, _flags, _address = reader.recvmsg(64, ANCILLARY_SIZE)
            read_at = perf_counter_ns()
    [(level, kind, stamp)] = ancillary  # the one message asked for
    assert (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMPNS)
    seconds, nanoseconds = timespec(stamp)
    arrived = seconds * 1_000_000_000 + nanoseconds + offset_ns()
    assert data == b"hello"
    assert sent - 1_000_000 <= arrived <= arrived_by + 1_000_000
    assert read_at - arrived >= late_ns - 2_000_000


# -- a busy client -----------------------------------------------------------------------

#: connections answered together, how long the server holds them, and the client's extra
#: work per event: the last of a batch is read ~(CONNECTIONS - 1) * SLOW_NS after it arrived.
CONNECTIONS = 20
HOLD_MS = 20
SLOW_NS = 3_000_000

#: A blocking server in its own process (a busy client in this one must not delay it): it
#: takes CONNECTIONS requests, holds them HOLD_MS, then answers and closes each in turn, as
#: fast as it can, and prints when its first and last answers went (Unix ns): the truth the
#: client's figures are held to.
_SERVER = """
import socket, sys, time
count, hold_s = int(sys.argv[1]), int(sys.argv[2]) / 1000
answer = b"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\nConnection: close\\r\\n\\r\\nhello"
listener = socket.create_server(("127.0.0.1", 0), backlog=count)
print(listener.getsockname()[1], flush=True)
while True:
    held = []
    while len(held) < count:
        conn, _ = listener.accept()
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        if chunk:
            held.append(conn)
        else:
            conn.close()
    time.sleep(hold_s)
    first = time.time_ns()
    for conn in held:
        conn.sendall(answer)
        conn.close()
    print(first, time.time_ns(), flush=True)
"""


class TogetherServer:
    """The server above, and the lines it prints."""

    def __init__(self, process: trio.Process) -> None:
        assert process.stdout is not None
        self.output = process.stdout
        self.buffer = b""

    async def line(self) -> list[int]:
        while b"\n" not in self.buffer:
            chunk = await self.output.receive_some(256)
            assert chunk, "the server ended"
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return [int(word) for word in line.split()]


@asynccontextmanager
async def together_server() -> AsyncIterator[tuple[int, TogetherServer]]:
    """The server above: its port, and its output."""
    argv = [sys.executable, "-c", _SERVER, str(CONNECTIONS), str(HOLD_MS)]
    process = await trio.lowlevel.open_process(argv, stdout=subprocess.PIPE)
    try:
        server = TogetherServer(process)
        [port] = await server.line()
        yield port, server
    finally:
        process.kill()
        await process.wait()


def spin(ns: int) -> None:
    """Busy for ``ns``: Python work, as a slow client does per event (not a sleep)."""
    until = perf_counter_ns() + ns
    while perf_counter_ns() < until:
        pass


class SlowShard(Shard):
    """A shard that does SLOW_NS of extra work before each event: a client too busy to read
    responses as they arrive."""

    def serve(self, events: list[tuple[int, int]]) -> None:
        for event in events:
            spin(SLOW_NS)
            super().serve([event])


class SlowReadClockShard(SlowShard):
    """The same busy shard, stamping each response when it reads it."""

    KERNEL_STAMPS = False


async def one_batch(port: int, shard: type[Shard]) -> EngineState:
    """One request on each of CONNECTIONS connections, all answered together."""
    url = f"http://127.0.0.1:{port}/"
    config = LoadConfig(url=url, concurrency=CONNECTIONS, requests=CONNECTIONS, timeout=10.0)
    state = EngineState(config)
    state.begin()
    address = ("127.0.0.1", port)
    await run_shards(
        state, socket.AF_INET, address, config.encode_request(), CONNECTIONS, shard=shard
    )
    state.end()
    return state


def totals_ms(state: EngineState) -> tuple[float, float]:
    histogram = state.tally.histograms["total"]
    assert histogram.get_total_count() == CONNECTIONS
    return histogram.get_min_value() / 1000, histogram.get_max_value() / 1000


@needs_stamps
async def test_busy_shard_by_kernel_clock_measures_what_the_server_took() -> None:
    async with together_server() as (port, server):
        kernel = await one_batch(port, SlowShard)
        first_send_ns, last_send_ns = await server.line()
        read = await one_batch(port, SlowReadClockShard)
    assert kernel.clock == KERNEL_CLOCK
    assert read.clock == READ_CLOCK
    drift_ms = (CONNECTIONS - 1) * SLOW_NS / 1e6  # 57 ms: how late the last is read
    # The truth: every request was held HOLD_MS, and answered by the server's last send; by
    # the kernel's clock, that is what each one measures.
    kernel_min, kernel_max = totals_ms(kernel)
    assert kernel_min >= HOLD_MS
    answered_by_ms = (last_send_ns / 1e9 - kernel.start_unix) * 1000
    assert kernel_max <= answered_by_ms + 1
    # Stamped when read, the last of the batch takes the blame for the client's work.
    _, read_max = totals_ms(read)
    assert read_max >= HOLD_MS + 0.9 * drift_ms
    # The read lag says how late the busy client read: the same drift, less however long
    # the server took between its first answer and its last.
    read_lag = kernel.tally.histograms[READ_LAG]
    assert read_lag.get_total_count() == CONNECTIONS
    sending_ms = (last_send_ns - first_send_ns) / 1e6
    assert read_lag.get_max_value() / 1000 >= 0.9 * (drift_ms - sending_ms)
    assert not read.tally.histograms[READ_LAG].get_total_count()


def test_offset_ns_is_stable_between_calls() -> None:
    offsets = [offset_ns() for _ in range(5)]
    # the two clocks are slewed alike: their difference holds to a clock call or so
    assert max(offsets) - min(offsets) < 1_000_000
