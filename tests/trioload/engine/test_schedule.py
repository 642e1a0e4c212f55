"""The open-model schedule: due times, their split over workers, and the -c warning."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trioload.engine.schedule import TIGHT_SLOT_TIME_S, Schedule, tight_concurrency_warning


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
    assert "-c 99 at -R 10000" in warning
