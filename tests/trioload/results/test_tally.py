"""Tally: every request in one column, document length, merging, histograms."""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from trioload.results.tally import (
    HIGHEST_US,
    INDEX_TABLE,
    LATE_US,
    PHASES,
    Failure,
    Tally,
    bucket_index,
    new_histogram,
)


def record(tally: Tally, *, total_us: int = 1000, **overrides: Any) -> None:
    fields: dict[str, Any] = {
        "connect_us": 100,
        "processing_us": total_us - 100,
        "waiting_us": total_us - 200,
        "total_us": total_us,
        "status": 200,
        "wire_bytes": 88,
        "body_bytes": 5,
        "keep_alive": False,
    }
    fields.update(overrides)
    tally.record_response(**fields)


def test_tally_first_body_length_sets_the_document_length() -> None:
    tally = Tally()
    assert tally.document_length is None
    record(tally, body_bytes=7)
    record(tally, body_bytes=7)
    assert tally.document_length == 7
    assert (tally.succeeded, tally.failed, tally.html_bytes) == (2, 0, 14)


def test_tally_counts_a_different_body_length_as_length_failure() -> None:
    tally = Tally()
    record(tally, body_bytes=5)
    record(tally, body_bytes=6, wire_bytes=89)
    assert tally.document_length == 5
    assert tally.failures[Failure.LENGTH] == 1
    assert (tally.succeeded, tally.failed, tally.finished) == (1, 1, 2)
    # the bytes arrived: they count as transferred, not as document bytes
    assert (tally.total_bytes, tally.html_bytes) == (88 + 89, 5)
    assert tally.histograms["total"].get_total_count() == 1


def test_tally_counts_non_2xx_apart_from_failures() -> None:
    tally = Tally()
    for status in (200, 204, 301, 404, 503):
        record(tally, status=status)
    assert tally.non_2xx == 3
    assert (tally.succeeded, tally.failed) == (5, 0)


def test_tally_counts_keep_alive_requests() -> None:
    tally = Tally()
    record(tally, keep_alive=True)
    record(tally, keep_alive=False)
    record(tally, keep_alive=True)
    assert tally.keep_alive_requests == 2


def test_tally_failure_columns_add_up() -> None:
    tally = Tally()
    for i, kind in enumerate(Failure):
        for _ in range(i + 1):
            tally.record_failure(kind, wire_bytes=3)
    assert tally.failures == {kind: i + 1 for i, kind in enumerate(Failure)}
    assert tally.failed == sum(range(1, len(Failure) + 1))
    assert tally.finished == tally.failed
    assert tally.total_bytes == 3 * tally.failed


def test_tally_histograms_hold_each_phase() -> None:
    tally = Tally()
    for ms in (1, 2, 3, 4):
        record(tally, total_us=ms * 1000, connect_us=ms * 10)
    total, connect = tally.histograms["total"], tally.histograms["connect"]
    assert all(tally.histograms[p].get_total_count() == 4 for p in PHASES)
    assert total.get_min_value() == 1000
    assert total.get_value_at_percentile(50) == 2000
    assert total.get_max_value() == total.get_highest_equivalent_value(4000)
    assert connect.get_max_value() == 40


def test_tally_histogram_records_zero_microseconds_as_one() -> None:
    tally = Tally()
    record(tally, connect_us=0)
    assert tally.histograms["connect"].get_min_value() == 1


samples = st.lists(
    st.tuples(st.integers(1, 10_000_000), st.sampled_from([200, 500]), st.booleans()),
    max_size=40,
)


@settings(max_examples=50, deadline=None)
@given(samples, samples, st.lists(st.sampled_from(tuple(Failure)), max_size=10))
def test_tally_merge_adds_up(
    left: list[tuple[int, int, bool]],
    right: list[tuple[int, int, bool]],
    failures: list[Failure],
) -> None:
    one, other, together = Tally(), Tally(), Tally()
    for target, rows in ((one, left), (other, right)):
        for total_us, status, keep_alive in rows:
            for tally in (target, together):
                record(tally, total_us=total_us + 200, status=status, keep_alive=keep_alive)
    for i, kind in enumerate(failures):
        for tally in (one if i % 2 else other, together):
            tally.record_failure(kind, wire_bytes=i)
    one.merge(other)
    assert one.succeeded == together.succeeded == len(left) + len(right)
    assert one.failures == together.failures
    assert (one.non_2xx, one.keep_alive_requests) == (
        together.non_2xx,
        together.keep_alive_requests,
    )
    assert (one.total_bytes, one.html_bytes) == (together.total_bytes, together.html_bytes)
    merged_histograms, single_histograms = one.histograms, together.histograms
    for phase in PHASES:
        merged, single = merged_histograms[phase], single_histograms[phase]
        assert merged.get_total_count() == single.get_total_count()
        for pct in (0, 50, 90, 99, 100):
            assert merged.get_value_at_percentile(pct) == single.get_value_at_percentile(pct)


def test_tally_merge_takes_the_other_document_length_and_server_when_unset() -> None:
    mine, theirs = Tally(), Tally()
    record(theirs, body_bytes=9)
    theirs.server_software = "trioserve"
    mine.merge(theirs)
    assert (mine.document_length, mine.server_software) == (9, "trioserve")


@settings(max_examples=300, deadline=None)
@given(st.integers(1, HIGHEST_US))
def test_bucket_index_matches_hdrh_index(value_us: int) -> None:
    histogram = new_histogram()
    assert bucket_index(value_us) == histogram._counts_index_for(value_us)


def test_bucket_index_clamps_beyond_the_range() -> None:
    histogram = new_histogram()
    assert bucket_index(HIGHEST_US * 10) == histogram._counts_index_for(HIGHEST_US)
    assert bucket_index(-5) == bucket_index(0) == 1


def test_tally_histograms_take_no_memory_per_request() -> None:
    tally = Tally()
    arrays_before = [id(tally.histograms[p].counts) for p in PHASES]
    for total_us in range(1, 200_000, 7):
        record(tally, total_us=total_us + 200)
    assert [id(tally.histograms[p].counts) for p in PHASES] == arrays_before
    assert tally.histograms["total"].get_total_count() == len(range(1, 200_000, 7))
    assert vars(tally).keys() == vars(Tally()).keys()


def test_index_table_matches_hdrh_index_for_every_value() -> None:
    histogram = new_histogram()
    assert INDEX_TABLE[0] == bucket_index(0)
    mismatches = [
        value
        for value in range(1, len(INDEX_TABLE))
        if INDEX_TABLE[value] != histogram._counts_index_for(value)
    ]
    assert mismatches == []


def test_tally_histograms_include_pending_counts_when_read() -> None:
    tally = Tally()
    record(tally, total_us=len(INDEX_TABLE) + 12345)  # beyond the table: computed index
    record(tally, total_us=1500)
    total = tally.histograms["total"]
    assert total.get_total_count() == 2
    assert total.get_min_value() == 1500
    assert total.get_max_value() == total.get_highest_equivalent_value(len(INDEX_TABLE) + 12345)
    assert tally.histograms["total"].get_total_count() == 2  # read twice, added once
    record(tally, total_us=700)
    assert tally.histograms["total"].get_total_count() == 3
    assert total.get_min_value() == 700


def test_tally_counts_late_starts_from_the_late_threshold() -> None:
    tally = Tally()
    for lag_us in (0, LATE_US - 1, LATE_US, 50_000):
        tally.record_lag(lag_us)
    assert tally.late == 2
    lag = tally.histograms["lag"]
    assert lag.get_total_count() == 4
    assert lag.get_max_value() == lag.get_highest_equivalent_value(50_000)


def test_tally_records_corrected_latency_only_when_given() -> None:
    tally = Tally()
    tally.record_response(1, 2, 3, 4, 200, 88, 5, False)
    tally.record_response(1, 2, 3, 4, 200, 88, 5, False, 900)
    assert tally.histograms["total"].get_total_count() == 2
    corrected = tally.histograms["corrected"]
    assert corrected.get_total_count() == 1
    assert corrected.get_min_value() == 900


def take_interval(tally: Tally) -> dict[str, str]:
    """``Tally.take_interval_in_steps`` run to its end at once, as the run's last cut is."""
    steps = tally.take_interval_in_steps()
    while True:
        try:
            next(steps)
        except StopIteration as done:
            encoded: dict[str, str] = done.value
            return encoded


def test_tally_take_interval_holds_what_came_since_the_last_take() -> None:
    tally = Tally()
    record(tally, total_us=100)
    first = take_interval(tally)
    record(tally, total_us=200)
    record(tally, total_us=300)
    second = take_interval(tally)
    decoded = [HdrHistogram.decode(interval["total"].encode()) for interval in (first, second)]
    assert [h.get_total_count() for h in decoded] == [1, 2]
    assert decoded[1].get_min_value() == 200
    assert take_interval(tally) == {}
    assert tally.histograms["total"].get_total_count() == 3
