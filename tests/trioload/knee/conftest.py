"""Knee steps with known figures, without a network; and a server of known capacity."""

from __future__ import annotations

import trio

from tests.trioload.conftest import RequestReader, response
from trioload.config import LoadConfig
from trioload.results.result import RunResult
from trioload.results.tally import Failure, Tally

#: requests in each synthetic step, over STEP_S seconds.
REQUESTS = 1000
STEP_S = 2.0


def step_result(
    *,
    due_ms: float = 5.0,
    sent_ms: float | None = None,
    made: float = 1.0,
    failed: int = 0,
    cpu_share: float = 0.3,
    late: int = 0,
    client_late: int = 0,
) -> RunResult:
    """A step of -R 500 for STEP_S s: ``made`` the share of its requests made, each
    ``due_ms`` from when due and ``sent_ms`` (default: the same) from when sent, ``late`` of
    them sent late, ``client_late`` of those while held ready."""
    tally = Tally(server_software="test")
    sent_us = int((due_ms if sent_ms is None else sent_ms) * 1000)
    count = int(REQUESTS * made)
    for index in range(count - failed):
        tally.record_response(100, sent_us - 100, sent_us // 2, sent_us, 200, 88, 5, False,
                              int(due_ms * 1000))  # fmt: skip
        tally.record_lag(5000 if index < late else 0, held=index < client_late)
    for _ in range(failed):
        tally.record_failure(Failure.RECEIVE)
    config = LoadConfig(url="http://127.0.0.1:8080/", concurrency=50, rate=500.0)
    return RunResult(config, tally, STEP_S, cpu_share * STEP_S, 0.0)


class FifoServer:
    """One queue, served in order, each request taking ``service_s``: its capacity is
    exactly 1 / ``service_s`` requests a second. Each answer is due at the queue's virtual
    time, so that late wake-ups never add up."""

    def __init__(self, service_s: float) -> None:
        self.service_s = service_s
        self.free_at = 0.0  # when the queue is next empty (trio's clock)
        self.answered = 0

    async def handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            if await RequestReader(stream).next_request() is None:
                return
            done = self.free_at = max(trio.current_time(), self.free_at) + self.service_s
            await trio.sleep_until(done)
            await stream.send_all(response(b"hello"))
            self.answered += 1
