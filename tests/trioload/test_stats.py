"""RunStats: every request in one column, document length, merging, histograms."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trioload.stats import (
    FAILURE_KINDS,
    HIGHEST_US,
    INDEX_TABLE,
    PHASES,
    RunStats,
    bucket_index,
    new_histogram,
)


def record(stats: RunStats, *, total_us: int = 1000, **overrides: Any) -> None:
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
    stats.record_response(**fields)


def test_runstats_first_body_length_sets_the_document_length() -> None:
    stats = RunStats()
    assert stats.document_length is None
    record(stats, body_bytes=7)
    record(stats, body_bytes=7)
    assert stats.document_length == 7
    assert (stats.complete, stats.failed, stats.html_bytes) == (2, 0, 14)


def test_runstats_counts_a_different_body_length_as_length_failure() -> None:
    stats = RunStats()
    record(stats, body_bytes=5)
    record(stats, body_bytes=6, wire_bytes=89)
    assert stats.document_length == 5
    assert stats.failures["length"] == 1
    assert (stats.complete, stats.failed, stats.finished) == (1, 1, 2)
    # the bytes arrived: they count as transferred, not as document bytes
    assert (stats.total_bytes, stats.html_bytes) == (88 + 89, 5)
    stats.flush()
    assert stats.histograms["total"].get_total_count() == 1


def test_runstats_counts_non_2xx_apart_from_failures() -> None:
    stats = RunStats()
    for status in (200, 204, 301, 404, 503):
        record(stats, status=status)
    assert stats.non_2xx == 3
    assert (stats.complete, stats.failed) == (5, 0)


def test_runstats_counts_keep_alive_requests() -> None:
    stats = RunStats()
    record(stats, keep_alive=True)
    record(stats, keep_alive=False)
    record(stats, keep_alive=True)
    assert stats.keep_alive_requests == 2


def test_runstats_failure_columns_add_up() -> None:
    stats = RunStats()
    for i, kind in enumerate(FAILURE_KINDS):
        for _ in range(i + 1):
            stats.record_failure(kind, wire_bytes=3)
    assert stats.failures == {kind: i + 1 for i, kind in enumerate(FAILURE_KINDS)}
    assert stats.failed == sum(range(1, len(FAILURE_KINDS) + 1))
    assert stats.finished == stats.failed
    assert stats.total_bytes == 3 * stats.failed


def test_runstats_histograms_hold_each_phase_after_flush() -> None:
    stats = RunStats()
    for ms in (1, 2, 3, 4):
        record(stats, total_us=ms * 1000, connect_us=ms * 10)
    stats.flush()
    total, connect = stats.histograms["total"], stats.histograms["connect"]
    assert all(stats.histograms[p].get_total_count() == 4 for p in PHASES)
    assert total.get_min_value() == 1000
    assert total.get_value_at_percentile(50) == 2000
    assert total.get_max_value() == total.get_highest_equivalent_value(4000)
    assert connect.get_max_value() == 40


def test_runstats_histogram_records_zero_microseconds_as_one() -> None:
    stats = RunStats()
    record(stats, connect_us=0)
    stats.flush()
    assert stats.histograms["connect"].get_min_value() == 1


def test_runstats_flush_is_idempotent() -> None:
    stats = RunStats()
    record(stats)
    stats.flush()
    stats.flush()
    assert stats.histograms["total"].get_total_count() == 1


samples = st.lists(
    st.tuples(st.integers(1, 10_000_000), st.sampled_from([200, 500]), st.booleans()),
    max_size=40,
)


@settings(max_examples=50, deadline=None)
@given(samples, samples, st.lists(st.sampled_from(FAILURE_KINDS), max_size=10))
def test_runstats_merge_adds_up(
    left: list[tuple[int, int, bool]],
    right: list[tuple[int, int, bool]],
    failures: list[str],
) -> None:
    one, other, together = RunStats(), RunStats(), RunStats()
    for target, rows in ((one, left), (other, right)):
        for total_us, status, keep_alive in rows:
            for stats in (target, together):
                record(stats, total_us=total_us + 200, status=status, keep_alive=keep_alive)
    for i, kind in enumerate(failures):
        for stats in (one if i % 2 else other, together):
            stats.record_failure(kind, wire_bytes=i)
    one.merge(other)
    together.flush()
    assert one.complete == together.complete == len(left) + len(right)
    assert one.failures == together.failures
    assert (one.non_2xx, one.keep_alive_requests) == (
        together.non_2xx,
        together.keep_alive_requests,
    )
    assert (one.total_bytes, one.html_bytes) == (together.total_bytes, together.html_bytes)
    for phase in PHASES:
        merged, single = one.histograms[phase], together.histograms[phase]
        assert merged.get_total_count() == single.get_total_count()
        for pct in (0, 50, 90, 99, 100):
            assert merged.get_value_at_percentile(pct) == single.get_value_at_percentile(pct)


def test_runstats_merge_takes_the_other_document_length_and_server_when_unset() -> None:
    mine, theirs = RunStats(), RunStats()
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


def test_runstats_histograms_take_no_memory_per_request() -> None:
    stats = RunStats()
    arrays_before = [id(stats.histograms[p].counts) for p in PHASES]
    for total_us in range(1, 200_000, 7):
        record(stats, total_us=total_us + 200)
    stats.flush()
    assert [id(stats.histograms[p].counts) for p in PHASES] == arrays_before
    assert stats.histograms["total"].get_total_count() == len(range(1, 200_000, 7))
    assert vars(stats).keys() == vars(RunStats()).keys()


def test_index_table_matches_hdrh_index_for_every_value() -> None:
    histogram = new_histogram()
    assert INDEX_TABLE[0] == bucket_index(0)
    mismatches = [
        value
        for value in range(1, len(INDEX_TABLE))
        if INDEX_TABLE[value] != histogram._counts_index_for(value)
    ]
    assert mismatches == []


def test_runstats_pending_counts_reach_the_histograms_on_flush() -> None:
    stats = RunStats()
    record(stats, total_us=len(INDEX_TABLE) + 12345)  # beyond the table: computed index
    record(stats, total_us=1500)
    assert stats.histograms["total"].get_total_count() == 0  # not flushed yet
    stats.flush()
    total = stats.histograms["total"]
    assert total.get_total_count() == 2
    assert total.get_min_value() == 1500
    assert total.get_max_value() == total.get_highest_equivalent_value(len(INDEX_TABLE) + 12345)
    stats.flush()  # a second flush adds nothing twice
    assert total.get_total_count() == 2
