"""The open-model schedule: due times, their split over workers, the ticks an engine wakes in,
and the -c warning."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trioload.engine.schedule import (
    EARLY_NS,
    TICK_NS,
    TIGHT_SLOT_TIME_S,
    WAKE_SLACK_NS,
    Schedule,
    tick_wake,
    tight_concurrency_warning,
)


def test_schedule_due_times_are_evenly_spaced_at_the_rate() -> None:
    schedule = Schedule(rate=500.0)
    assert [schedule.due_ns(k) for k in range(4)] == [0, 2_000_000, 4_000_000, 6_000_000]


@given(
    rate=st.floats(min_value=1.0, max_value=1e6),
    parts=st.integers(min_value=1, max_value=8),
    count=st.integers(min_value=1, max_value=200),
)
def test_schedule_parts_together_make_the_whole_schedule(
    rate: float, parts: int, count: int
) -> None:
    whole = [Schedule(rate).due_ns(k) for k in range(count * parts)]
    shared = sorted(
        Schedule(rate, part, parts).due_ns(k) for part in range(parts) for k in range(count)
    )
    assert shared == whole


def test_tight_concurrency_warning_only_below_the_slot_time() -> None:
    rate = 10_000.0
    roomy = round(rate * TIGHT_SLOT_TIME_S)
    assert tight_concurrency_warning(rate, roomy) is None
    warning = tight_concurrency_warning(rate, roomy - 1)
    assert warning is not None
    assert "-c 99 at 10000 requests/s" in warning


MS = 1_000_000


def test_tick_wake_comes_a_tick_after_the_last_pass_at_the_soonest() -> None:
    # the last pass at 0 sent everything due up to EARLY_NS; the next is due just after
    wake, _ = tick_wake(EARLY_NS + 1, 50 * MS, 0, 0, stop=0, stamped=True)
    assert wake == TICK_NS
    # a request due later is woken for a tick before it is due, and sent then
    wake, _ = tick_wake(30 * MS, 50 * MS, 0, 0, stop=0, stamped=True)
    assert wake == 30 * MS - EARLY_NS
    # -t's end comes first
    wake, _ = tick_wake(30 * MS, 50 * MS, 0, 0, stop=10 * MS, stamped=True)
    assert wake == 10 * MS


def test_tick_wake_lets_responses_wait_only_when_reading_them_sooner_starts_nothing() -> None:
    wake, on_ready = tick_wake(EARLY_NS + 1, 50 * MS, 0, 0, stop=0, stamped=True)
    assert wake == TICK_NS
    assert not on_ready  # the slots hold the next tick's requests, and more
    # stamped when read, a response read late would count late: it wakes the engine
    assert tick_wake(EARLY_NS + 1, 50 * MS, 0, 0, stop=0, stamped=False)[1]
    # the slots hold only part of the next tick's requests: a freed slot is wanted
    assert tick_wake(EARLY_NS + 1, TICK_NS + EARLY_NS, 0, 0, stop=0, stamped=True)[1]
    # the next wake is far off: responses are read as they come (a small read lag)
    assert tick_wake(30 * MS, 50 * MS, 0, 0, stop=0, stamped=True)[1]
    # a connection being made or written to has no stamp to wait with: it wakes the engine
    assert tick_wake(EARLY_NS + 1, 50 * MS, 0, 0, stop=0, stamped=True, writing=True)[1]


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
)
def test_tick_wake_even_a_late_wake_comes_before_the_next_request_is_due(
    last_pass: int, after: int, spread: int
) -> None:
    # the last pass sent everything due up to EARLY_NS after it: the next is due later
    first_due = last_pass + EARLY_NS + after
    wake, _ = tick_wake(first_due, first_due + spread, last_pass, last_pass, stop=0, stamped=True)
    assert wake >= last_pass + TICK_NS  # a tick apart at the least
    assert wake + WAKE_SLACK_NS <= first_due  # epoll's rounding cannot make it late
