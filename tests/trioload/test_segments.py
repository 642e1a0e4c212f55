"""``--segment I/N``: segments that sum exactly to the whole test, interleave into its schedule,
record which test they belong to, and are refused when a set of them is not one whole."""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trioload.config import LoadConfig, UsageError
from trioload.engine.shape import parse_stages
from trioload.run.worker_protocol import worker_configs
from trioload.segments import (
    merge_problems,
    parse_segment,
    record,
    segment_config,
    start_warning,
    whole_test,
)


def test_parse_segment_reads_index_and_count() -> None:
    assert parse_segment("0/1") == (0, 1)
    assert parse_segment("2/3") == (2, 3)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("3/3", "must be below N (0 to 2)"),
        ("1/0", "the count N must be at least 1"),
        ("x/2", "expected I/N"),
        ("1", "expected I/N"),
        ("-1/2", "expected I/N"),
        ("1/2/3", "expected I/N"),
        ("\u00b2/3", "expected I/N"),
    ],
)
def test_parse_segment_refuses_what_is_not_a_segment(text: str, complaint: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(complaint)):
        parse_segment(text)


@given(
    requests=st.integers(min_value=1, max_value=10_000),
    concurrency=st.integers(min_value=1, max_value=2_000),
    count=st.integers(min_value=1, max_value=64),
)
def test_segment_config_shares_sum_exactly_to_the_whole(
    requests: int, concurrency: int, count: int
) -> None:
    whole = LoadConfig(requests=requests, concurrency=concurrency)
    if count > min(requests, concurrency):
        with pytest.raises(UsageError, match="cannot be cut into"):
            segment_config(whole, 0, count)
        return
    parts = [segment_config(whole, index, count) for index in range(count)]
    assert sum(p.requests or 0 for p in parts) == requests
    assert sum(p.concurrency for p in parts) == concurrency
    assert all(p.requests and p.concurrency for p in parts)
    assert max(p.concurrency for p in parts) - min(p.concurrency for p in parts) <= 1


def test_segment_config_too_small_names_the_flag() -> None:
    with pytest.raises(UsageError, match="-n 2 cannot be cut into 3 segments"):
        segment_config(LoadConfig(requests=2, concurrency=30), 0, 3)
    with pytest.raises(UsageError, match="-c 2 cannot be cut into 3 segments"):
        segment_config(LoadConfig(requests=30, concurrency=2), 0, 3)


def test_segment_config_with_a_time_limit_leaves_n_open() -> None:
    whole = LoadConfig(requests=None, time_limit=5.0, concurrency=4)
    part = segment_config(whole, 1, 2)
    assert (part.requests, part.concurrency, part.time_limit) == (None, 2, 5.0)


@given(
    requests=st.integers(min_value=1, max_value=400),
    count=st.integers(min_value=1, max_value=6),
    workers=st.integers(min_value=1, max_value=4),
)
def test_segments_and_their_workers_interleave_into_the_whole_schedule(
    requests: int, count: int, workers: int
) -> None:
    rate = 100.0
    whole = LoadConfig(requests=requests, concurrency=64, rate=rate, workers=workers)
    if count > requests:
        return
    due: list[int] = []
    for index in range(count):
        part = segment_config(whole, index, count)
        processes = worker_configs(part) if part.workers > 1 else [part]
        for process in processes:
            schedule = process.schedule
            assert schedule is not None
            due += [schedule.due_ns(k) for k in range(process.requests or 0)]
    expected = [whole.schedule.due_ns(k) for k in range(requests)]  # type: ignore[union-attr]
    assert sorted(due) == expected


def test_segment_own_rate_is_its_share_of_the_schedule() -> None:
    part = segment_config(LoadConfig(requests=600, concurrency=30, rate=600.0), 2, 3)
    assert part.rate == 600.0
    assert part.own_rate == pytest.approx(200.0)


def test_start_warning_only_for_a_scheduled_segment_without_a_start() -> None:
    whole = LoadConfig(requests=30, concurrency=3, rate=30.0)
    assert start_warning(whole) is None
    warning = start_warning(segment_config(whole, 0, 3))
    assert warning is not None and "--start-at" in warning
    started = dataclasses.replace(whole, start_at=1e9)
    assert start_warning(segment_config(started, 0, 3)) is None
    assert start_warning(segment_config(LoadConfig(requests=30, concurrency=3), 0, 3)) is None


def segment_report(index: int, count: int = 3, **whole: Any) -> dict[str, Any]:
    """The part of a segment's JSON that merging reads."""
    config = LoadConfig(**{"requests": 3000, "concurrency": 30, **whole})
    return {"segment": record(segment_config(config, index, count))}


def names(count: int) -> list[str]:
    return [f"{i}.json" for i in range(count)]


def test_record_holds_the_segment_and_the_whole_test() -> None:
    assert record(LoadConfig()) is None
    segment = segment_report(1, rate=600.0, start_at=1e9)["segment"]
    assert isinstance(segment, dict)
    assert (segment["index"], segment["count"]) == (1, 3)
    test = segment["test"]
    assert (test["requests"], test["concurrency"], test["rate"]) == (3000, 30, 600.0)
    assert test["start_at"] == 1e9


def test_merge_problems_none_for_the_whole_set_in_any_order() -> None:
    reports = [segment_report(i) for i in (2, 0, 1)]
    assert merge_problems(reports, names(3)) == []
    assert whole_test(reports) == (3000, 30, None)


def test_merge_problems_none_for_plain_runs() -> None:
    assert merge_problems([{}, {"segment": None}], names(2)) == []
    assert whole_test([{}, {}]) is None


def test_merge_problems_name_a_missing_segment() -> None:
    reports = [segment_report(0), segment_report(2)]
    assert merge_problems(reports, names(2)) == ["segment 1/3 missing"]


def test_merge_problems_name_a_repeated_segment() -> None:
    reports = [segment_report(i) for i in (0, 1, 1, 2)]
    problems = merge_problems(reports, names(4))
    assert problems == ["segment 1/3 given more than once"]


def test_merge_problems_name_segments_of_other_tests() -> None:
    reports = [segment_report(0), segment_report(1), segment_report(2, requests=2000)]
    problems = merge_problems(reports, names(3))
    assert problems == ["segments of different tests: -n 3000 in 0.json, 1.json vs 2000 in 2.json"]
    up, down = parse_stages("10s@100:300"), parse_stages("10s@300:100")  # one mean, one length
    shapes = [segment_report(0, rate=200.0, shape=up), segment_report(1, rate=200.0, shape=down)]
    assert merge_problems(shapes, names(2)) == [
        "segments of different tests: --stages 10s@100:300 in 0.json vs 10s@300:100 in 1.json"
    ]
    other_request = [segment_report(0), segment_report(1, method="HEAD")]
    problems = merge_problems(other_request, names(2))
    assert problems == [
        "segments of different tests: the request (-m, -H, -p, ...) differs: 0.json vs 1.json"
    ]


def test_merge_problems_name_other_cuts_and_plain_runs() -> None:
    cuts = [segment_report(0, count=3), segment_report(1, count=4)]
    problems = merge_problems(cuts, names(2))
    assert problems == ["segments of different cuts: of 3 and of 4"]
    mixed = [segment_report(0), {"segment": None}]
    problems = merge_problems(mixed, names(2))
    assert problems == ["1.json: not a segment, while the other runs are"]
