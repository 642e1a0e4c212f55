"""A short sleep for an engine between its ticks, at a fraction of the CPU of trio's own.

trio's ``sleep_until`` costs a pass of its scheduler on each side of the sleep, timers and an
``epoll_wait`` with a timeout; a plain ``time.sleep`` and one checkpoint after it cost about half
as much. Paced at a low rate, the shard engine sleeps once a tick, and trio's part of each wake
showed in what a paced request cost beyond a closed-loop one (docs/benchmarks.md). So, while no
task or callback is queued for trio's next pass, no deadline comes before the wake, and the wake
is at most two ticks away, the engine sleeps plainly. What else could want the thread then (I/O:
a signal, another task's socket; or a task woken in the same pass as the engine, which trio's
statistics cannot see) waits at most that long.
"""

from __future__ import annotations

import time

import trio

from trioload.engine.schedule import TICK_NS

#: the longest plain sleep: two ticks, room for a tick's wait however late its wake came.
#: Longer waits are rare, and trio's sleep is cheap beside them.
MAX_DOZE_S = 2 * TICK_NS / 1e9


async def doze_until(deadline: float) -> None:
    """Sleep until ``deadline`` on trio's clock: blocking the thread when that is at most
    MAX_DOZE_S away and nothing is queued for trio's next pass or due before it, else with
    trio's own sleep. Either way, a checkpoint: a cancelled caller returns at once."""
    await trio.lowlevel.checkpoint_if_cancelled()
    delay = deadline - trio.current_time()
    stats = trio.lowlevel.current_statistics()
    busy = stats.tasks_runnable or stats.run_sync_soon_queue_size
    if busy or delay > min(stats.seconds_to_next_deadline, MAX_DOZE_S):
        await trio.sleep_until(deadline)
        return
    if delay > 0:
        time.sleep(delay)
    await trio.lowlevel.checkpoint()
