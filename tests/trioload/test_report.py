"""The reports, from a known RunStats: ab's text line for line, and JSON that agrees with it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from trioload.config import LoadConfig
from trioload.report import (
    JSON_PERCENTILES,
    RunResult,
    format_json,
    format_text,
    phase_summary,
    to_json_dict,
)
from trioload.stats import PHASES, RunStats, new_histogram

#: per response: connect, processing, waiting, total (ms); all exact in a 3-figure HDR.
KNOWN_MS = [(1, 9, 5, 10), (1, 19, 5, 20), (1, 29, 5, 30), (1, 39, 5, 40)]


def known_stats(*, status: int = 200, keep_alive: bool = False) -> RunStats:
    stats = RunStats(server_software="trioserve")
    for connect, processing, waiting, total in KNOWN_MS:
        stats.record_response(
            connect_us=connect * 1000,
            processing_us=processing * 1000,
            waiting_us=waiting * 1000,
            total_us=total * 1000,
            status=status,
            wire_bytes=88,
            body_bytes=5,
            keep_alive=keep_alive,
        )
    return stats


def result_of(
    stats: RunStats, *, cpu_s: float = 0.5, interrupted: bool = False, **config: Any
) -> RunResult:
    load = LoadConfig(url="http://127.0.0.1:8080/x", concurrency=2, requests=4, **config)
    return RunResult(load, stats, 2.0, cpu_s, 0.0, interrupted=interrupted)


def ab_row(label: str, *figures: float) -> str:
    """ab's own printf for a Connection Times row."""
    return "%-12s" % label + "%5d %4d %5.1f %6d %7d" % figures  # noqa: UP031 -- ab's format


def test_format_text_matches_ab_line_for_line() -> None:
    # Percentiles are HDR's: the value holding the percentile's rounded share of the count
    # (80% of 4 rounds to the 3rd response), not ab's index into the sorted array.
    text = format_text(result_of(known_stats()))
    ab_part, _, _ = text.partition("\nBeyond ab")
    assert ab_part.split("\n") == [
        "Server Software:        trioserve",
        "Server Hostname:        127.0.0.1",
        "Server Port:            8080",
        "",
        "Document Path:          /x",
        "Document Length:        5 bytes",
        "",
        "Concurrency Level:      2",
        "Time taken for tests:   2.000 seconds",
        "Complete requests:      4",
        "Failed requests:        0",
        "Total transferred:      352 bytes",
        "HTML transferred:       20 bytes",
        "Requests per second:    2.00 [#/sec] (mean)",
        "Time per request:       1000.000 [ms] (mean)",
        "Time per request:       500.000 [ms] (mean, across all concurrent requests)",
        "Transfer rate:          0.17 [Kbytes/sec] received",
        "",
        "Connection Times (ms)",
        "              min  mean[+/-sd] median   max",
        ab_row("Connect:", 1, 1, 0.0, 1, 1),
        ab_row("Processing:", 9, 24, 11.2, 19, 39),
        ab_row("Waiting:", 5, 5, 0.0, 5, 5),
        ab_row("Total:", 10, 25, 11.2, 20, 40),
        "",
        "Percentage of the requests served within a certain time (ms)",
        "  50%     20",
        "  66%     30",
        "  75%     30",
        "  80%     30",
        "  90%     40",
        "  95%     40",
        "  98%     40",
        "  99%     40",
        " 100%     40 (longest request)",
        "",
    ]


def test_format_text_labels_fill_24_columns() -> None:
    stats = known_stats(status=503, keep_alive=True)
    stats.record_failure("receive")
    stats.record_failure("write")
    text = format_text(result_of(stats, keep_alive=True))
    labelled = [line for line in text.split("\n\n")[0:3] for line in line.split("\n")]
    for line in labelled:
        if ":" in line and not line.startswith(" "):
            label, _, _ = line.partition(":")
            assert len(label) + 1 <= 24, line
            assert line[23] == " " and line[24] != " ", line


def test_format_text_failure_breakdown_only_when_something_failed() -> None:
    clean = format_text(result_of(known_stats()))
    assert "(Connect:" not in clean
    stats = known_stats()
    for kind in ("connect", "receive", "receive", "length", "exceptions"):
        stats.record_failure(kind)
    text = format_text(result_of(stats))
    assert "Complete requests:      9\nFailed requests:        5\n" in text
    assert "\n   (Connect: 1, Receive: 2, Length: 1, Exceptions: 1)\n" in text
    assert "Write errors:" not in text


def test_format_text_write_errors_line_when_some() -> None:
    stats = known_stats()
    stats.record_failure("write")
    stats.record_failure("write")
    text = format_text(result_of(stats))
    assert "\nWrite errors:           2\n" in text


def test_format_text_non_2xx_line_only_when_some() -> None:
    assert "Non-2xx" not in format_text(result_of(known_stats()))
    text = format_text(result_of(known_stats(status=500)))
    assert "\nFailed requests:        0\nNon-2xx responses:      4\n" in text


def test_format_text_keep_alive_line_only_with_k() -> None:
    assert "Keep-Alive" not in format_text(result_of(known_stats(keep_alive=True)))
    text = format_text(result_of(known_stats(keep_alive=True), keep_alive=True))
    assert "\nKeep-Alive requests:    4\nTotal transferred:" in text


def test_format_text_without_responses_has_no_latency_tables() -> None:
    stats = RunStats()
    stats.record_failure("connect")
    text = format_text(result_of(stats))
    assert "Complete requests:      1\n" in text
    assert "Document Length:        0 bytes\n" in text
    assert "Connection Times" not in text
    assert "Percentage of the requests" not in text


def test_format_text_says_when_interrupted_and_when_the_client_was_busy() -> None:
    calm = format_text(result_of(known_stats(), cpu_s=0.2))
    assert "Interrupted" not in calm
    assert "Warning: trioload kept its core busy" not in calm
    busy = format_text(result_of(known_stats(), cpu_s=1.9, interrupted=True))
    assert "Interrupted: the figures cover" in busy
    assert "Warning: trioload kept its core busy" in busy
    assert "Client CPU: 95% of a core per process" in busy


def text_field(text: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}\s+(\S+)", text, re.MULTILINE)
    assert match, label
    return match.group(1)


def test_json_and_text_agree() -> None:
    stats = known_stats()
    stats.record_failure("length")
    result = result_of(stats)
    text = format_text(result)
    report = json.loads(format_json(result))
    assert int(text_field(text, "Complete requests:")) == report["complete"] == 5
    assert int(text_field(text, "Failed requests:")) == report["failed"] == 1
    assert float(text_field(text, "Requests per second:")) == round(
        report["requests_per_second"], 2
    )
    assert int(text_field(text, "Total transferred:")) == report["total_bytes"]
    total = report["latency_ms"]["total"]
    for pct in (50, 66, 75, 80, 90, 95, 98, 99):
        assert int(text_field(text, f"  {pct}%")) == round(total[f"p{pct}"])
    assert int(text_field(text, " 100%")) == round(total["max"])
    assert report["failures"]["length"] == 1
    assert report["succeeded"] == 4


def test_json_hdr_decodes_back_to_the_histograms() -> None:
    result = result_of(known_stats())
    report = json.loads(format_json(result))
    assert set(report["hdr"]) == set(PHASES)
    for phase in PHASES:
        decoded = HdrHistogram.decode(report["hdr"][phase].encode("ascii"))
        assert decoded.get_total_count() == len(KNOWN_MS)
        original = result.stats.histograms[phase]
        assert decoded.get_value_at_percentile(50) == original.get_value_at_percentile(50)
        assert decoded.get_max_value() == original.get_max_value()


def test_json_omits_empty_histograms_and_reports_beyond_ab_percentiles() -> None:
    empty = RunStats()
    empty.record_failure("connect")
    report = to_json_dict(result_of(empty))
    assert report["hdr"] == {}
    assert report["latency_ms"]["total"] == {}
    full = to_json_dict(result_of(known_stats()))
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
