"""A series of runs: a signal between runs ends it and says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import trio

from trioload.run.series import stop_on_signal


@dataclass
class Outcome:
    interrupted: bool = False


async def test_stop_on_signal_cancels_the_series_and_says_it_was_interrupted() -> None:
    send, receive = trio.open_memory_channel[int](1)
    outcome = Outcome()

    async def signals() -> AsyncIterator[int]:
        async for number in receive:
            yield number

    with trio.CancelScope() as series:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stop_on_signal, signals(), series, outcome)
            assert not outcome.interrupted
            await send.send(15)
            await trio.sleep_forever()  # until the signal cancels the series
    assert series.cancelled_caught
    assert outcome.interrupted
