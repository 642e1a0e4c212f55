"""The knee search: a climb, bisection to within RESOLUTION, and each way it ends."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trioload.knee.search import GROWTH, MAX_STEPS, RESOLUTION, Ending, KneeSearch


def run(search: KneeSearch, capacity: float, client_limit: float = float("inf")) -> list[float]:
    """Steps pass up to ``capacity``; past ``client_limit`` the client is the limit."""
    tried = []
    while (rate := search.next_rate()) is not None:
        tried.append(rate)
        search.record(rate, rate <= capacity, client_bound=rate > client_limit)
    return tried


def test_search_climbs_then_bisects_to_the_knee() -> None:
    search = KneeSearch(100.0)
    tried = run(search, capacity=500.0)
    assert tried[:5] == [100.0, 150.0, 225.0, 337.5, 506.25]  # climbing by GROWTH
    assert search.ending == Ending.KNEE
    assert search.passed is not None and search.failed is not None
    assert search.passed <= 500.0 < search.failed <= search.passed * (1 + RESOLUTION)


@given(st.floats(min_value=10, max_value=1e5), st.floats(min_value=1, max_value=1e5))
def test_search_finds_any_knee_within_resolution(capacity: float, first: float) -> None:
    search = KneeSearch(first)
    run(search, capacity)
    if first / 64 > capacity:  # below the floor a first guess too high goes down to
        assert search.ending == Ending.NONE_PASSED
        return
    assert search.ending == Ending.KNEE
    assert search.passed is not None and search.failed is not None
    assert search.passed <= capacity < search.failed <= search.passed * (1 + RESOLUTION)
    assert len(search.steps) < MAX_STEPS


def test_search_goes_down_from_a_first_guess_too_high() -> None:
    search = KneeSearch(1000.0)
    tried = run(search, capacity=100.0)
    assert tried[:5] == [1000.0, 500.0, 250.0, 125.0, 62.5]
    assert search.ending == Ending.KNEE


def test_search_from_fails_at_once_and_goes_no_lower() -> None:
    search = KneeSearch(1000.0, lowest=1000.0)
    assert run(search, capacity=100.0) == [1000.0]
    assert search.ending == Ending.NONE_PASSED


def test_search_held_up_to_to() -> None:
    search = KneeSearch(100.0, highest=300.0)
    assert run(search, capacity=1e9) == [100.0, 150.0, 225.0, 300.0]
    assert search.ending == Ending.HELD


def test_search_never_starts_above_to() -> None:
    search = KneeSearch(1000.0, highest=500.0)  # a probe's half above --to
    assert run(search, capacity=1e9) == [500.0]
    assert search.ending == Ending.HELD


def test_search_ends_where_the_client_is_the_limit() -> None:
    search = KneeSearch(100.0)
    tried = run(search, capacity=1e9, client_limit=300.0)
    assert tried == [100.0, 150.0, 225.0, 225.0 * GROWTH]
    assert search.ending == Ending.CLIENT_BOUND
    assert search.client_bound_at == 225.0 * GROWTH
    assert search.passed == 225.0
