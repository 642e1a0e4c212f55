"""The sleep between ticks: plain when trio has nothing else to do, trio's own otherwise."""

from __future__ import annotations

import time

import pytest
import trio
import trio.testing

from trioload.engine import doze
from trioload.engine.doze import MAX_DOZE_S, doze_until


class _PlainSleeps:
    """Stands in for ``time.sleep`` in ``doze``: sleeps, and keeps each delay asked."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        time.sleep(delay)


@pytest.fixture
def plain(monkeypatch: pytest.MonkeyPatch) -> _PlainSleeps:
    sleeps = _PlainSleeps()
    monkeypatch.setattr(doze, "time", sleeps)
    return sleeps


async def test_doze_until_sleeps_plainly_to_its_deadline_when_trio_is_idle(
    plain: _PlainSleeps,
) -> None:
    deadline = trio.current_time() + MAX_DOZE_S / 2
    await doze_until(deadline)
    assert trio.current_time() >= deadline
    assert len(plain.delays) == 1
    assert 0 < plain.delays[0] <= MAX_DOZE_S / 2


async def test_doze_until_leaves_a_long_wait_to_trio(plain: _PlainSleeps) -> None:
    deadline = trio.current_time() + MAX_DOZE_S * 3
    await doze_until(deadline)
    assert trio.current_time() >= deadline
    assert plain.delays == []


async def test_doze_until_never_sleeps_past_another_tasks_deadline(plain: _PlainSleeps) -> None:
    woke: list[float] = []
    start = trio.current_time()

    async def timer() -> None:
        await trio.sleep_until(start + MAX_DOZE_S / 4)
        woke.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(timer)
        await trio.testing.wait_all_tasks_blocked()  # the timer is parked on its deadline
        await doze_until(start + MAX_DOZE_S)
        # the wait was trio's, which wakes the timer on its deadline: a plain sleep would
        # have held the thread past it
        assert plain.delays == []
    assert len(woke) == 1


async def test_doze_until_yields_to_a_runnable_task(plain: _PlainSleeps) -> None:
    ran: list[bool] = []

    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: _note(ran))  # runnable, not yet run
        await doze_until(trio.current_time() + MAX_DOZE_S / 2)
        assert plain.delays == []
        assert ran == [True]


async def _note(ran: list[bool]) -> None:
    ran.append(True)


async def test_doze_until_is_a_checkpoint_even_when_the_deadline_has_passed(
    plain: _PlainSleeps,
) -> None:
    with trio.CancelScope() as scope:
        scope.cancel()
        await doze_until(trio.current_time() - 1)
        pytest.fail("a cancelled doze went on")  # pragma: no cover
    assert scope.cancelled_caught
    assert plain.delays == []
