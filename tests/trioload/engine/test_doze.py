"""The sleep between ticks: plain when trio has nothing else to do, trio's own otherwise.

On the autojump clock, trio's time stands still while the test computes: no deadline passes
between setting it and the doze reading it, however loaded the machine."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from tests.trioload.conftest import PlainSleeps
from trioload.engine.doze import MAX_DOZE_S, doze_until
from trioload.engine.schedule import TICK_NS


async def test_doze_until_sleeps_plainly_for_what_is_left_when_trio_is_idle(
    plain_sleeps: PlainSleeps, autojump_clock: trio.testing.MockClock
) -> None:
    await doze_until(trio.current_time() + MAX_DOZE_S / 2)
    assert plain_sleeps.delays == [pytest.approx(MAX_DOZE_S / 2)]


async def test_doze_until_leaves_a_long_wait_to_trio(
    plain_sleeps: PlainSleeps, autojump_clock: trio.testing.MockClock
) -> None:
    deadline = trio.current_time() + MAX_DOZE_S * 3
    await doze_until(deadline)
    assert trio.current_time() >= deadline
    assert plain_sleeps.delays == []


async def test_doze_until_never_sleeps_past_another_tasks_deadline(
    plain_sleeps: PlainSleeps, autojump_clock: trio.testing.MockClock
) -> None:
    start = trio.current_time()
    woke: list[float] = []

    async def timer() -> None:
        await trio.sleep_until(start + MAX_DOZE_S / 4)
        woke.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(timer)
        await trio.testing.wait_all_tasks_blocked()  # the timer is parked on its deadline
        await doze_until(start + MAX_DOZE_S)
        # the wait was trio's, which woke the timer on its deadline: a plain sleep would
        # have held the thread past it
        assert plain_sleeps.delays == []
        assert woke == [start + MAX_DOZE_S / 4]


async def test_doze_until_yields_to_a_runnable_task(
    plain_sleeps: PlainSleeps, autojump_clock: trio.testing.MockClock
) -> None:
    ran: list[bool] = []

    async def note() -> None:
        ran.append(True)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(note)  # runnable, not yet run
        await doze_until(trio.current_time() + MAX_DOZE_S / 2)
        assert plain_sleeps.delays == []
        assert ran == [True]


@pytest.mark.parametrize("ahead_s", [-1.0, MAX_DOZE_S / 2])
async def test_doze_until_returns_at_once_when_cancelled(
    plain_sleeps: PlainSleeps, autojump_clock: trio.testing.MockClock, ahead_s: float
) -> None:
    start = trio.current_time()
    with trio.CancelScope() as scope:
        scope.cancel()
        await doze_until(start + ahead_s)
        pytest.fail("a cancelled doze went on")  # pragma: no cover
    assert scope.cancelled_caught
    assert plain_sleeps.delays == []  # not even a short plain sleep first
    assert trio.current_time() == start


def test_doze_covers_a_tick_waited_for_late() -> None:
    assert MAX_DOZE_S * 1e9 >= 2 * TICK_NS
