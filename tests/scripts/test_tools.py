"""The parsers of what the load generators print (``benchlib.tools``); their command lines are
``benchlib.bench.parts``'s (``bench/test_parts.py``).

The ``data/`` files are real outputs (see ``data/README.md``), saved as the bench's runner hands
them to a parser: stdout, a newline, stderr.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scripts.benchlib.tools import (
    LoadResult,
    parse_ab,
    parse_json_report,
    parse_wrk,
)

DATA = Path(__file__).parent / "data"


def fixture(name: str) -> str:
    return (DATA / name).read_text()


def line_field(text: str, prefix: str, index: int) -> str:
    """Whitespace-separated field ``index`` of the one line starting with ``prefix``."""
    (line,) = [line for line in text.splitlines() if line.startswith(prefix)]
    return line.split()[index]


# --- ab --------------------------------------------------------------------------------------


def test_parse_ab_reads_a_clean_run() -> None:
    result = parse_ab(fixture("ab.txt"))
    assert result == LoadResult(
        requests_per_second=3002.55, finished=200, failed=0, p50_ms=3.0, p99_ms=4.0
    )


def test_parse_ab_reads_a_keep_alive_run() -> None:
    result = parse_ab(fixture("ab_keepalive.txt"))
    assert result == LoadResult(
        requests_per_second=10332.71, finished=200, failed=0, p50_ms=1.0, p99_ms=8.0
    )


def test_parse_ab_failed_adds_non_2xx_to_failed_requests() -> None:
    """ab's "Failed requests: 60" (all Length) plus "Non-2xx responses: 40", as the README says.

    Here the 40 replies of 500 are also among the 60 Length failures (their body is longer
    than the first reply's), so the sum counts them twice: the figure is an upper bound.
    """
    text = fixture("ab_failures.txt")
    assert "   (Connect: 0, Receive: 0, Length: 60, Exceptions: 0)" in text
    result = parse_ab(text)
    assert result.error is None
    assert result.requests_per_second == 2863.81
    assert result.finished == 200
    assert result.failed == 60 + 40
    assert (result.p50_ms, result.p99_ms) == (3.0, 6.0)


def test_parse_ab_counts_socket_failures_of_a_refused_run() -> None:
    """With -r, ab against a closed port still prints a report; only the failures tell."""
    result = parse_ab(fixture("ab_refused.txt"))
    assert result.error is None
    assert result.requests_per_second == 31897.93
    assert result.failed == 30
    assert result.finished == 20


@pytest.mark.parametrize(
    "name", ["ab.txt", "ab_keepalive.txt", "ab_failures.txt", "ab_refused.txt"]
)
def test_parse_ab_agrees_with_the_report_lines(name: str) -> None:
    """Each figure is the one on its line of the report."""
    text = fixture(name)
    result = parse_ab(text)
    non_2xx = int(line_field(text, "Non-2xx responses:", 2)) if "Non-2xx" in text else 0
    assert result.requests_per_second == float(line_field(text, "Requests per second:", 3))
    assert result.finished == int(line_field(text, "Complete requests:", 2))
    assert result.failed == int(line_field(text, "Failed requests:", 2)) + non_2xx
    assert result.p50_ms == float(line_field(text, "  50%", 1))
    assert result.p99_ms == float(line_field(text, "  99%", 1))


def test_parse_ab_timeout_is_an_error_with_ab_complaint() -> None:
    result = parse_ab(fixture("ab_timeout.txt"))
    assert result.requests_per_second is None
    assert result.error == (
        "ab printed no statistics: apr_pollset_poll: The timeout specified has expired (70007)"
    )


def test_parse_ab_stalled_run_says_how_far_it_got() -> None:
    """ab prints "Total of 30 requests completed" right after "(be patient)...", mid-line."""
    result = parse_ab(fixture("ab_stalled.txt"))
    assert result.requests_per_second is None
    assert result.error is not None
    assert result.error.startswith("ab printed no statistics after 30 requests: apr_pollset_poll")


def test_parse_ab_empty_output_is_an_error() -> None:
    assert parse_ab("") == LoadResult(error="ab printed no statistics: no output")


def test_parse_ab_garbage_reports_its_last_line() -> None:
    result = parse_ab("Segmentation fault\nsomething odd happened\n")
    assert result.error == "ab printed no statistics: something odd happened"


def test_parse_ab_report_cut_before_the_rate_is_an_error() -> None:
    text = fixture("ab.txt")
    cut = text[: text.index("Requests per second:")]
    result = parse_ab(cut)
    assert result.error is not None
    assert result.requests_per_second is None


def test_parse_ab_report_cut_before_the_percentiles_has_no_latency() -> None:
    text = fixture("ab.txt")
    cut = text[: text.index("Percentage of the requests")]
    result = parse_ab(cut)
    assert result == LoadResult(requests_per_second=3002.55, finished=200, failed=0)


def test_parse_ab_without_a_99_line_has_no_p99() -> None:
    text = fixture("ab.txt").replace("  99%      4\n", "")
    assert parse_ab(text).p99_ms is None


# --- wrk -------------------------------------------------------------------------------------


def test_parse_wrk_reads_a_clean_run_in_milliseconds() -> None:
    result = parse_wrk(fixture("wrk.txt"))
    assert result == LoadResult(
        requests_per_second=3186.29, finished=3188, failed=0, p50_ms=3.03, p99_ms=4.62
    )


def test_parse_wrk_converts_microseconds() -> None:
    """wrk -c1: "50%  152.00us", "99%    2.71ms"."""
    result = parse_wrk(fixture("wrk_c1.txt"))
    assert result.requests_per_second == 2671.61
    assert result.finished == 2675
    assert result.p50_ms == pytest.approx(0.152)
    assert result.p99_ms == pytest.approx(2.71)


def test_parse_wrk_failed_is_socket_errors_plus_non_2xx() -> None:
    """ "Socket errors: connect 0, read 272, write 0, timeout 0" and "Non-2xx or 3xx: 544"."""
    result = parse_wrk(fixture("wrk_failures.txt"))
    assert result.error is None
    assert result.failed == 272 + 544
    assert result.finished == 2449
    assert result.requests_per_second == 2443.68
    assert result.p50_ms == pytest.approx(3.08)
    assert result.p99_ms == pytest.approx(19.0)


@pytest.mark.parametrize(
    ("value", "expected_ms"),
    [("152.00us", 0.152), ("3.03ms", 3.03), ("1.20s", 1200.0), ("1.50m", 90_000.0)],
)
def test_parse_wrk_latency_units(value: str, expected_ms: float) -> None:
    text = fixture("wrk.txt").replace("     50%    3.03ms", f"     50%    {value}")
    assert parse_wrk(text).p50_ms == pytest.approx(expected_ms)


def test_parse_wrk_without_latency_distribution_has_no_percentiles() -> None:
    text = re.sub(r"^ +\d+% .*\n", "", fixture("wrk.txt"), flags=re.MULTILINE)
    assert "50%" not in text
    result = parse_wrk(text)
    assert result.requests_per_second == 3186.29
    assert (result.p50_ms, result.p99_ms) == (None, None)


def test_parse_wrk_refused_is_an_error() -> None:
    result = parse_wrk(fixture("wrk_refused.txt"))
    assert result == LoadResult(error="wrk printed no Requests/sec line")


@pytest.mark.parametrize("text", ["", "garbage\n", "Requests/sec: n/a\n"])
def test_parse_wrk_garbage_is_an_error(text: str) -> None:
    assert parse_wrk(text).error == "wrk printed no Requests/sec line"


def test_parse_wrk_report_cut_before_the_rate_is_an_error() -> None:
    text = fixture("wrk.txt")
    assert parse_wrk(text[: text.index("Requests/sec:")]).error is not None


# --- trioload's JSON report ------------------------------------------------------------------


def test_parse_json_report_reads_trioload_output() -> None:
    """The JSON on stdout, ab's report and notes on stderr after it."""
    result = parse_json_report(fixture("trioload.txt"))
    assert result == LoadResult(
        requests_per_second=2840.253210277848,
        finished=200,
        failed=0,
        p50_ms=3.315,
        p99_ms=4.259,
    )


def test_parse_json_report_takes_the_last_object() -> None:
    first = json.dumps({"requests_per_second": 1.0, "finished": 1})
    last = json.dumps({"requests_per_second": 2.0, "finished": 2})
    result = parse_json_report(f"{first}\nlog line\n{last}\n{{ not json\n")
    assert (result.requests_per_second, result.finished) == (2.0, 2)


def test_parse_json_report_ignores_objects_not_at_a_line_start() -> None:
    text = 'warning: {"requests_per_second": 5.0}\n'
    assert parse_json_report(text).error == "no JSON report on stdout"


def test_parse_json_report_missing_keys_are_unknown_not_errors() -> None:
    result = parse_json_report('{"requests_per_second": 10, "latency_ms": {"total": {}}}')
    assert result == LoadResult(requests_per_second=10.0)


def test_parse_json_report_rejects_non_numbers() -> None:
    report = {
        "requests_per_second": "fast",
        "finished": True,
        "failed": None,
        "latency_ms": {"total": {"p50": [1], "p99": 2}},
    }
    result = parse_json_report(json.dumps(report))
    assert result == LoadResult(p99_ms=2.0)


@pytest.mark.parametrize("text", ["", "Traceback (most recent call last):\n", "[1, 2]\n"])
def test_parse_json_report_without_an_object_is_an_error(text: str) -> None:
    assert parse_json_report(text) == LoadResult(error="no JSON report on stdout")


def test_parse_json_report_truncated_object_is_an_error() -> None:
    text = fixture("trioload.txt")
    assert parse_json_report(text[: text.index('"hdr"')]).error == "no JSON report on stdout"
