"""A run's result and its JSON: written, read back, and merged across worker processes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trioload.conftest import KNOWN_MS, known_tally, result_of
from trioload.config import LoadConfig
from trioload.results.result import (
    JSON_PERCENTILES,
    RunResult,
    format_json,
    merge_reports,
    merged_window,
    phase_summary,
    run_windows,
    tally_from_json,
    to_json_dict,
)
from trioload.results.tally import PHASES, Failure, Tally, new_histogram


def test_json_hdr_decodes_back_to_the_histograms() -> None:
    result = result_of(known_tally())
    report = json.loads(format_json(result))
    assert set(report["hdr"]) == set(PHASES)
    for phase in PHASES:
        decoded = HdrHistogram.decode(report["hdr"][phase].encode("ascii"))
        assert decoded.get_total_count() == len(KNOWN_MS)
        original = result.tally.histograms[phase]
        assert decoded.get_value_at_percentile(50) == original.get_value_at_percentile(50)
        assert decoded.get_max_value() == original.get_max_value()


def test_json_omits_empty_histograms_and_reports_beyond_ab_percentiles() -> None:
    empty = Tally()
    empty.record_failure(Failure.CONNECT)
    report = to_json_dict(result_of(empty))
    assert report["hdr"] == {}
    assert report["latency_ms"]["total"] == {}
    full = to_json_dict(result_of(known_tally()))
    assert {"p99.9", "p99.99", "min", "mean", "sd", "max"} <= set(full["latency_ms"]["total"])
    assert full["latency_ms"]["total"]["p99.99"] == full["latency_ms"]["total"]["max"]


# hdrh's own mean and sd walk every bucket up to the largest value: keep the range modest.
@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2_000_000), st.integers(1, 1000)), min_size=1))
def test_phase_summary_equals_hdrh_own_figures(samples: list[tuple[int, int]]) -> None:
    histogram = new_histogram()
    for value_us, count in samples:
        histogram.record_value(value_us, count)
    summary = phase_summary(histogram)
    expected = {
        "min": histogram.get_min_value(),
        "mean": histogram.get_mean_value(),
        "sd": histogram.get_stddev(),
        **{
            f"p{p:g}": v
            for p, v in histogram.get_percentile_to_value_dict(list(JSON_PERCENTILES)).items()
        },
        "max": histogram.get_max_value(),
    }
    assert summary.keys() == expected.keys()
    for key, value_us in expected.items():
        assert summary[key] == pytest.approx(value_us / 1000, rel=1e-9, abs=1e-9), key


def test_phase_summary_of_an_empty_histogram_is_empty() -> None:
    assert phase_summary(new_histogram()) == {}


def test_tally_from_json_rebuilds_what_the_worker_measured() -> None:
    tally = known_tally(status=503, keep_alive=True)
    tally.record_failure(Failure.RECEIVE, wire_bytes=10)
    tally.record_failure(Failure.LENGTH)
    report = json.loads(format_json(RunResult(LoadConfig(), tally, 1.0, 0.1, 0.1)))
    rebuilt = tally_from_json(report)
    assert rebuilt.succeeded == tally.succeeded == len(KNOWN_MS)
    assert rebuilt.failures == tally.failures
    assert (rebuilt.failures[Failure.RECEIVE], rebuilt.failures[Failure.LENGTH]) == (1, 1)
    assert (rebuilt.non_2xx, rebuilt.keep_alive_requests) == (len(KNOWN_MS), len(KNOWN_MS))
    assert (rebuilt.total_bytes, rebuilt.html_bytes) == (tally.total_bytes, tally.html_bytes)
    assert (rebuilt.document_length, rebuilt.server_software) == (5, "trioserve")
    for phase in PHASES:
        ours, theirs = tally.histograms[phase], rebuilt.histograms[phase]
        assert theirs.get_total_count() == ours.get_total_count() == len(KNOWN_MS)
        assert theirs.get_value_at_percentile(50) == ours.get_value_at_percentile(50)


def test_merged_window_spans_the_runs_that_made_requests() -> None:
    reports: list[dict[str, Any]] = [
        {"window_unix_s": [10.5, 12.0]},
        {"window_unix_s": [10.2, 11.5]},
        {"window_unix_s": None},  # a worker with no request to make
    ]
    assert merged_window(run_windows(reports)) == (10.2, 12.0)
    assert merged_window(run_windows([{"window_unix_s": None}])) is None


def test_result_reads_every_response_recorded_without_a_flush() -> None:
    tally = known_tally()  # recorded into the tally's pending counts only
    result = result_of(tally)
    assert result.latency_ms["total"]["max"] == pytest.approx(KNOWN_MS[-1][3], rel=1e-3)
    assert tally.histograms["total"].get_total_count() == len(KNOWN_MS)


def test_json_names_finished_and_succeeded_apart() -> None:
    tally = known_tally()
    tally.record_failure(Failure.CONNECT)
    report = to_json_dict(result_of(tally))
    assert (report["finished"], report["succeeded"], report["failed"]) == (5, 4, 1)
    assert report["complete"] == report["finished"]  # the old key, kept for one release
    assert report["failures"] == {kind.value: int(kind is Failure.CONNECT) for kind in Failure}


def _worker_report(tally: Tally, *, window: tuple[float, float] | None, **kw: Any) -> Any:
    result = RunResult(LoadConfig(), tally, 1.0, 0.25, 0.5, window_s=window, **kw)
    return json.loads(format_json(result))


def test_merge_reports_adds_tallies_and_cpu_and_spans_the_windows() -> None:
    first, second = known_tally(), known_tally(status=503)
    second.record_failure(Failure.RECEIVE)
    reports = [
        _worker_report(first, window=(10.0, 11.0)),
        _worker_report(second, window=(10.5, 12.5), interrupted=True),
    ]
    merged = merge_reports(LoadConfig(workers=2), reports, wall_s=99.0)
    assert merged.tally.succeeded == 2 * len(KNOWN_MS)
    assert merged.tally.failures[Failure.RECEIVE] == 1
    assert merged.tally.non_2xx == len(KNOWN_MS)
    assert merged.tally.histograms["total"].get_total_count() == 2 * len(KNOWN_MS)
    assert merged.elapsed_s == pytest.approx(2.5)  # the windows, not the parent's wall time
    assert (merged.cpu_user_s, merged.cpu_sys_s) == (0.5, 1.0)
    assert merged.interrupted
    assert merged.window_s == (10.0, 12.5)


def test_merge_reports_falls_back_to_wall_time_when_no_request_ran() -> None:
    reports = [_worker_report(Tally(), window=None)]
    merged = merge_reports(LoadConfig(), reports, wall_s=3.0)
    assert merged.elapsed_s == 3.0
    assert merged.tally.finished == 0
    assert not merged.interrupted


def test_merge_reports_keeps_the_clock_and_the_read_lag() -> None:
    stamped = known_tally()
    stamped.record_response(1, 1, 1, 1, 200, 88, 5, False, -1, 700)
    kernel = _worker_report(stamped, window=(10.0, 11.0), clock="kernel")
    assert kernel["clock"] == "kernel"
    assert kernel["latency_ms"]["read_lag"]["max"] == pytest.approx(0.7)
    merged = merge_reports(LoadConfig(workers=2), [kernel, kernel], wall_s=1.0)
    assert merged.clock == "kernel"
    assert merged.tally.histograms["read_lag"].get_total_count() == 2
    read = _worker_report(known_tally(), window=(10.0, 11.0))
    older = {key: value for key, value in read.items() if key != "clock"}  # before "clock"
    mixed = merge_reports(LoadConfig(workers=2), [kernel, older], wall_s=1.0)
    assert mixed.clock == "kernel,read"
