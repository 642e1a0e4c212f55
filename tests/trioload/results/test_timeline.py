"""The timeline: intervals cut on a wall-clock grid, adding up to the run, merged exactly."""

from __future__ import annotations

import gc

from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from trioload.results.tally import Tally, new_histogram
from trioload.results.timeline import Interval, Timeline, decode_into, grid_cell, merge_timelines


def record(tally: Tally, total_us: int) -> None:
    tally.record_response(1, total_us, total_us, total_us, 200, 88, 5, False)


def test_timeline_next_boundary_is_the_next_grid_line() -> None:
    timeline = Timeline(interval_s=0.5)
    assert timeline.next_boundary(100.2) == 100.5
    assert timeline.next_boundary(100.5) == 101.0


@settings(max_examples=30, deadline=None)  # each cut encodes up to six histograms
@given(st.lists(st.lists(st.integers(min_value=1, max_value=10**7), max_size=30), max_size=6))
def test_timeline_intervals_add_up_to_the_run(batches: list[list[int]]) -> None:
    tally, timeline = Tally(), Timeline()
    for second, batch in enumerate(batches):
        for value in batch:
            record(tally, value)
        timeline.cut(tally, 0.0, second + 1.0)
    assert sum(entry.finished for entry in timeline.entries) == tally.finished
    scratch = new_histogram()
    counts = [
        h.get_total_count()
        for entry in timeline.entries
        if (h := entry.histogram("total", scratch)) is not None
    ]
    assert sum(counts) == tally.histograms["total"].get_total_count()
    assert len(timeline.entries) == sum(1 for batch in batches if batch)


def test_timeline_cut_starts_where_the_last_one_ended() -> None:
    tally, timeline = Tally(), Timeline()
    record(tally, 5)
    timeline.cut(tally, 10.25, 11.0)
    record(tally, 6)
    tally.record_failure(next(iter(tally.failures)))
    timeline.cut(tally, 10.25, 12.0)
    first, second = timeline.entries
    assert (first.start_unix_s, first.end_unix_s, first.finished) == (10.25, 11.0, 1)
    assert (second.start_unix_s, second.end_unix_s, second.finished, second.failed) == (
        11.0,
        12.0,
        2,
        1,
    )


def test_timeline_cut_in_steps_ends_the_interval_when_it_starts() -> None:
    tally, timeline = Tally(), Timeline()
    record(tally, 100)
    steps = timeline.cut_in_steps(tally, 0.0, 1.0)
    next(steps)  # a phase done: the run goes on between the steps, and records more
    record(tally, 200)
    record(tally, 300)
    assert sum(1 for _ in steps) >= 1  # the other phases, each a step of its own
    timeline.cut(tally, 0.0, 2.0)
    first, second = timeline.entries
    assert (first.finished, second.finished) == (1, 2)
    totals = [entry.histogram("total", new_histogram()) for entry in (first, second)]
    assert [(h.get_total_count(), h.get_min_value()) for h in totals if h] == [(1, 100), (2, 200)]
    assert tally.histograms["total"].get_total_count() == 3


def test_timeline_under_a_schedule_says_what_each_interval_asked_for() -> None:
    tally = Tally()
    timeline = Timeline(asked_by=lambda unix: 100.0 * (unix - 10.0))  # 100 req/s from 10.0
    record(tally, 5)
    timeline.cut(tally, 10.25, 11.0)  # the first, from the schedule's start: 100
    record(tally, 6)
    timeline.cut(tally, 10.25, 11.5)
    first, second = timeline.entries
    assert (first.asked, second.asked) == (100.0, 50.0)
    assert Interval.from_json(second.to_json()) == second
    merged = merge_timelines([[first], [first]], 1.0)
    assert merged[0].asked == 200.0
    stalled = Timeline(asked_by=lambda unix: 100.0 * unix)
    stalled.cut(Tally(), 0.0, 1.0)  # nothing finished: the requests asked are still told
    assert [(entry.finished, entry.asked) for entry in stalled.entries] == [(0, 100.0)]
    closed = Timeline()
    record(tally, 7)
    closed.cut(tally, 0.0, 1.0)
    assert closed.entries[0].asked is None
    assert "asked" not in closed.entries[0].to_json()  # a closed loop's JSON as it was


def test_grid_cell_tolerates_a_cut_a_little_late_or_early() -> None:
    late = Interval(11.004, 12.003, 1, 0, {})
    early = Interval(10.998, 11.997, 1, 0, {})
    assert grid_cell(late, 1.0) == grid_cell(early, 1.0) == 11


def test_merge_timelines_adds_the_entries_of_each_cell() -> None:
    runs = []
    for values in ([100, 200], [300, 400, 500]):
        tally, timeline = Tally(), Timeline()
        for value in values:
            record(tally, value)
        timeline.cut(tally, 10.2, 11.0)
        record(tally, 9000)
        timeline.cut(tally, 10.2, 11.4)
        runs.append(timeline.entries)
    first, second = merge_timelines(runs, 1.0)
    total = first.histogram("total", new_histogram())
    assert total is not None
    assert first.finished == total.get_total_count() == 5
    assert total.get_max_value() == total.get_highest_equivalent_value(500)
    assert (second.start_unix_s, second.end_unix_s, second.finished) == (11.0, 11.4, 2)


def test_decode_into_leaves_no_decoded_histogram_behind() -> None:
    # hdrh decodes each interval into a histogram in a reference cycle; a run's JSON decodes
    # one per interval, so any left for the collector would pile up (~190 KB each).
    source = new_histogram()
    source.record_value(1234)
    encoded = source.encode().decode("ascii")
    scratch = new_histogram()
    gc.collect()

    def histograms() -> int:
        return sum(isinstance(thing, HdrHistogram) for thing in gc.get_objects())

    before = histograms()
    for _ in range(20):
        assert decode_into(scratch, [encoded]).get_total_count() == 1
    assert histograms() == before
