"""One load run in this process: the engine under signal handling, progress and CPU accounting.

SIGINT/SIGTERM stop the run at once (in-flight requests are abandoned, not counted) and the
report still covers every request that finished.

While the load runs, the objects that were alive before it (the modules, the config) are kept
out of the garbage collector's passes (``frozen_heap``): a full pass walks every one of them,
and the client sends and reads nothing meanwhile. An open loop falls behind its schedule
through such a stop, and its requests, measured from when they were due, carry the stop in
their latency as if the server had been slow.
"""

from __future__ import annotations

import gc
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import trio

from trioload.config import LoadConfig
from trioload.engine.load import run_load
from trioload.engine.state import EngineState
from trioload.engine.tls import client_context, server_hostname
from trioload.output.abfiles import GnuplotWriter
from trioload.output.outputs import write_stderr
from trioload.output.request_log import RequestLog
from trioload.output.verbose import HEADS
from trioload.results.result import RunResult
from trioload.results.timeline import Timeline
from trioload.run.preflight import find_target

PROGRESS_INTERVAL_S = 0.25


class ProgressSink(Protocol):
    """What a run tells of its progress, as text for stderr: a display (``run.progress``) for a
    user, records for a ``-W`` parent (``run.worker``)."""

    def tick(self, finished: int, failed: int, elapsed_s: float) -> str: ...

    def finish(self, finished: int) -> str: ...


async def run_in_process(
    config: LoadConfig,
    *,
    progress: ProgressSink | None,
    probe: bool = True,
    gnuplot: GnuplotWriter | None = None,
) -> RunResult:
    """Run the load described by ``config`` to its end, or until a signal. ``progress``: where
    its progress goes, if anywhere; ``probe``: knock once before the run (a worker's parent has
    knocked already); ``gnuplot``: the open ``-g`` file."""
    tls_context = client_context(config) if config.target.tls else None
    hostname = server_hostname(config) if tls_context is not None else None
    family, address = await find_target(
        config.peer,
        probe=probe,
        tls=(tls_context, hostname) if tls_context is not None else None,
        local_address=config.local_address,
    )
    state = EngineState(config, tls_context=tls_context, server_hostname=hostname)
    if gnuplot is not None or config.verbosity >= HEADS:
        state.log = RequestLog(config.verbosity, gnuplot, state.unix_time)
    timeline = Timeline(config.interval, asked_by=_asked_by(state))
    interrupted = False

    async def stop_on_signal(signals: AsyncIterator[int], load: trio.CancelScope) -> None:
        nonlocal interrupted
        async for _ in signals:
            interrupted = True
            state.stopping = True
            load.cancel()

    def report_progress(progress: ProgressSink) -> None:
        tally = state.tally
        write_stderr(progress.tick(tally.finished, tally.failed, state.elapsed_s))

    async def show_progress(progress: ProgressSink) -> None:
        while True:
            await trio.sleep(PROGRESS_INTERVAL_S)
            report_progress(progress)

    with frozen_heap(), trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            with trio.CancelScope() as load:
                nursery.start_soon(stop_on_signal, signals, load)
                if config.start_at is not None:
                    await trio.sleep(max(0.0, config.start_at - time.time()))
                if progress is not None:
                    nursery.start_soon(show_progress, progress)
                nursery.start_soon(_cut_intervals, state, timeline)
                await run_load(state, family, address)
            nursery.cancel_scope.cancel()
    if state.start_ns:
        timeline.cut(state.tally, state.start_unix, state.unix_time(state.end_ns))
    if progress is not None:
        report_progress(progress)
        write_stderr(progress.finish(state.tally.finished))
    cpu_user_s, cpu_sys_s = state.cpu_s
    return RunResult(
        config=config,
        tally=state.tally,
        elapsed_s=state.elapsed_s,
        cpu_user_s=cpu_user_s,
        cpu_sys_s=cpu_sys_s,
        clock=state.clock,
        interrupted=interrupted,
        window_s=(state.start_unix, state.unix_time(state.end_ns)) if state.start_ns else None,
        timeline=tuple(timeline.entries),
    )


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Within: the objects alive on entry are left out of the garbage collector's passes
    (``gc.freeze``); after, they are in them again, unless something else froze them first."""
    frozen_before = gc.get_freeze_count()
    # Garbage first, so that it is freed rather than frozen: an earlier run's histograms in a
    # series (compare, knee) are cycles that only the collector frees.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:
            gc.unfreeze()


def _asked_by(state: EngineState) -> Callable[[float], float] | None:
    """Under a schedule: how many of this process's requests it asked for by a Unix time."""
    schedule, limit = state.config.schedule, state.config.requests
    if schedule is None:
        return None

    def asked_by(unix: float) -> float:
        asked = schedule.asked_by(unix - state.unix_time(state.epoch_ns))
        return asked if limit is None else min(asked, limit)

    return asked_by


async def _cut_intervals(state: EngineState, timeline: Timeline) -> None:
    """Cut the timeline at each of its grid lines while the run goes on."""
    while True:
        now = time.time()
        await trio.sleep(max(0.0, timeline.next_boundary(now) - now))
        # A phase at a time, letting the engine run in between; shielded, so that the end of
        # the run cannot leave an interval half taken.
        with trio.CancelScope(shield=True):
            for _ in timeline.cut_in_steps(state.tally, state.start_unix, time.time()):
                await trio.lowlevel.checkpoint()
