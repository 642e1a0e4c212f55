"""A series of runs, as ``trioload compare``'s rounds and ``trioload knee``'s steps make them:
each run as a plain ``trioload`` would make it, and a signal between runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import trio

from trioload.config import LoadConfig
from trioload.results.result import RunResult
from trioload.run.process import run_in_process
from trioload.run.workers import run_workers


class Interruptible(Protocol):
    """What a series keeps of a signal: that it came."""

    interrupted: bool


async def one_run(config: LoadConfig) -> RunResult:
    """The run a plain ``trioload`` would make with ``config`` (its preflight done already)."""
    if config.workers > 1:
        return await run_workers(config)
    return await run_in_process(config, progress=None, probe=False)


async def stop_on_signal(
    signals: AsyncIterator[int], scope: trio.CancelScope, outcome: Interruptible
) -> None:
    """A signal between runs ends the series (a run in progress takes its own, and ends
    interrupted, its figures kept)."""
    async for _ in signals:
        outcome.interrupted = True
        scope.cancel()
