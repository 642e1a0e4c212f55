"""The stall schedule, sans-IO: its boundaries by hand, then its promises under hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trioserve.pacing import StallSchedule

FUZZ = settings(max_examples=500, deadline=None)

# every 10 s, the last 3 of them, counted from 100: stalls over [107, 110), [117, 120), ...
SCHEDULE = StallSchedule(every=10.0, length=3.0)
START = 100.0


@pytest.mark.parametrize(
    ("now", "stall_end", "next_stall"),
    [
        pytest.param(90.0, None, 107.0, id="before-the-start"),
        pytest.param(100.0, None, 107.0, id="at-the-start"),
        pytest.param(106.999, None, 107.0, id="just-before-the-first"),
        pytest.param(107.0, 110.0, 117.0, id="first-begins"),
        pytest.param(109.999, 110.0, 117.0, id="first-about-to-end"),
        pytest.param(110.0, None, 117.0, id="first-has-ended"),
        pytest.param(116.5, None, 117.0, id="between"),
        pytest.param(117.0, 120.0, 127.0, id="second-begins"),
        pytest.param(1099.0, 1100.0, 1107.0, id="hundredth"),
        pytest.param(1100.0, None, 1107.0, id="hundredth-has-ended"),
    ],
)
def test_stall_schedule_boundaries(now: float, stall_end: float | None, next_stall: float) -> None:
    assert SCHEDULE.stall_end(START, now) == stall_end
    assert SCHEDULE.next_stall(START, now) == next_stall


def test_stall_schedule_period_ends_that_do_not_divide_evenly() -> None:
    # 0.1 has no exact binary form: k * 0.1 / 0.1 rounds either way of k. Each period end, as
    # the schedule computes it, must still be outside a stall, and a moment before it inside.
    schedule = StallSchedule(every=0.1, length=0.03)
    for k in range(1, 2000):
        end = 0.0 + k * 0.1
        assert schedule.stall_end(0.0, end) is None, k
        assert schedule.stall_end(0.0, end - 0.001) == end, k


@pytest.mark.parametrize(
    ("every", "length"),
    [(10.0, 10.0), (10.0, 11.0), (10.0, 0.0), (10.0, -1.0), (0.0, 0.0), (float("inf"), 1.0)],
)
def test_stall_schedule_refuses_impossible_shapes(every: float, length: float) -> None:
    with pytest.raises(ValueError, match="0 < length < every"):
        StallSchedule(every=every, length=length)


schedules = st.tuples(st.floats(0.001, 1000.0), st.floats(0.001, 0.999), st.floats(-1e6, 1e6)).map(
    lambda t: (StallSchedule(every=t[0], length=t[0] * t[1]), t[2])
)


@FUZZ
@given(schedule_start=schedules, offset=st.floats(0.0, 1e5))
def test_stall_schedule_promises(
    schedule_start: tuple[StallSchedule, float], offset: float
) -> None:
    schedule, start = schedule_start
    now = start + offset
    end = schedule.stall_end(start, now)
    upcoming = schedule.next_stall(start, now)
    assert upcoming > now  # a wait until it always moves time on
    if end is None:
        # Running: the next stall begins within one period, and a stall it is.
        assert upcoming - now <= schedule.every * 1.000001
        assert schedule.stall_end(start, upcoming) is not None
    else:
        # Stalled: until a later moment at most one stall long, which is no longer a stall
        # (so the server, waking there, never sleeps again for nothing).
        assert now < end <= now + schedule.length * 1.000001 + 1e-9
        assert schedule.stall_end(start, end) is None
        assert upcoming >= end
