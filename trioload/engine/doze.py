"""A short sleep for an engine between its ticks, at a fraction of the CPU of trio's own.

trio's ``sleep_until`` costs a pass of its scheduler on each side of the sleep, timers and an
``epoll_wait`` with a timeout; a plain ``time.sleep`` and one checkpoint after it cost far less.
Paced at a low rate, the shard engine sleeps once a tick, and trio's part of each wake showed in
what a paced request cost beyond a closed-loop one (docs/benchmarks.md). So, while trio has no
task to run and no deadline before the wake, and the wake is at most a tick or so away, the
engine sleeps plainly: nothing but I/O can want the thread meanwhile, and that I/O (a signal,
another task's socket) then waits at most that long.
"""

from __future__ import annotations

import time

import trio

#: the longest plain sleep: a tick, and epoll's rounding of a timeout, with room. Longer waits
#: are rare, and trio's sleep is cheap beside them.
MAX_DOZE_S = 0.004


async def doze_until(deadline: float) -> None:
    """Sleep until ``deadline`` on trio's clock: blocking the thread when that is at most
    MAX_DOZE_S away and trio has nothing to run before it, else with trio's own sleep. Either
    way, a checkpoint (cancellation comes through it)."""
    delay = deadline - trio.current_time()
    stats = trio.lowlevel.current_statistics()
    if stats.tasks_runnable or delay > min(stats.seconds_to_next_deadline, MAX_DOZE_S):
        await trio.sleep_until(deadline)
        return
    if delay > 0:
        time.sleep(delay)
    await trio.lowlevel.checkpoint()
