"""The bench's rate part, its plain code (``benchlib.bench.rate``): a trioload report into
figures, the medians over rounds, the run sizing, the verdict on the schedule and the table's
rows. Nothing here starts a process."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import pytest

from scripts import bench
from scripts.benchlib.bench import rate
from scripts.benchlib.bench.rate import (
    DEFAULT_FRACTIONS,
    HEADERS,
    MIN_REQUESTS,
    Figures,
    cells,
    cpu_verdict,
    figures_from_report,
    judge,
    keeps_schedule,
    median_figures,
    parse_fractions,
    requests_for,
    verdict_of,
)


def phase(p50: float, p99: float, top: float) -> dict[str, float]:
    return {"min": 0.001, "p50": p50, "p99": p99, "p99.9": top / 2, "max": top}


def report(rate: float | None = 1000.0, **replaced: Any) -> dict[str, Any]:
    """A trioload ``--json`` report as -R ``rate`` (None: closed loop) writes it."""
    latency = {"total": phase(0.5, 4.0, 9.0)}
    if rate is not None:
        latency |= {"corrected": phase(0.6, 5.0, 11.0), "lag": phase(0.01, 0.8, 3.0)}
    base: dict[str, Any] = {
        "rate": rate,
        "late": 20 if rate is not None else 0,
        "finished": 2000,
        "failed": 0,
        "requests_per_second": 995.0,
        "latency_ms": latency,
        "client_cpu": {"user_s": 0.03, "sys_s": 0.01, "share_of_core": 0.02},
    }
    return base | replaced


def at(kept: float | None, lag_p99: float | None = 0.5) -> Figures:
    """A load's medians: made ``kept`` x asked, ``lag_p99`` ms behind schedule at p99."""
    return Figures(asked=1000.0, kept=kept, lag_p99_ms=lag_p99)


# --- a report into figures -------------------------------------------------------------------


def test_figures_from_an_open_loop_report() -> None:
    figures = figures_from_report(report())
    assert figures.cpu_us == pytest.approx(20.0)  # 0.04 s over 2000 requests
    assert dataclasses.replace(figures, cpu_us=None) == Figures(
        asked=1000.0,
        made=995.0,
        kept=0.995,
        lag_p50_ms=0.01,
        lag_p99_ms=0.8,
        lag_max_ms=3.0,
        late_pct=1.0,  # 20 of 2000
        due_p99_ms=5.0,
        sent_p99_ms=4.0,
        failed=0,
    )


def test_a_closed_loop_report_has_no_schedule_figures() -> None:
    figures = figures_from_report(report(None))
    assert figures.asked is None
    assert figures.kept is None
    assert figures.lag_p99_ms is None
    assert figures.late_pct is None  # "late": 0 in a closed loop says nothing
    assert figures.due_p99_ms is None
    assert figures.made == 995.0
    assert figures.sent_p99_ms == 4.0
    assert figures.cpu_us == pytest.approx(20.0)


def test_missing_or_zero_counts_leave_per_request_figures_unknown() -> None:
    nothing_finished = figures_from_report(report(finished=0))
    assert nothing_finished.late_pct is None
    assert nothing_finished.cpu_us is None
    no_cpu = figures_from_report({k: v for k, v in report().items() if k != "client_cpu"})
    assert no_cpu.cpu_us is None
    assert no_cpu.kept == 0.995
    assert figures_from_report({}) == Figures()


# --- medians and sizing ----------------------------------------------------------------------


def test_medians_per_figure_with_the_worst_failures_and_unknowns_left_out() -> None:
    runs = [
        Figures(asked=100.0, made=99.0, kept=0.99, lag_p99_ms=3.0, failed=0),
        Figures(asked=300.0, made=150.0, kept=0.5, lag_p99_ms=None, failed=7),
        Figures(asked=200.0, made=200.0, kept=1.0, lag_p99_ms=1.0, failed=None),
    ]
    medians = median_figures(runs)
    assert medians.asked == 200.0
    assert medians.made == 150.0
    # The median of each round's made/asked, not the ratio of the medians (0.75).
    assert medians.kept == 0.99
    assert medians.lag_p99_ms == 2.0  # of the two rounds that reported it
    assert medians.failed == 7
    assert medians.late_pct is None


def test_medians_of_no_runs_are_unknown() -> None:
    assert median_figures([]) == Figures()


@pytest.mark.parametrize(
    ("rate", "seconds", "expected"),
    [(20_000.0, 5.0, 100_000), (7_000.4, 1.0, 7_000), (3_333.3, 3.0, 10_000), (50.0, 5.0, 1000)],
)
def test_requests_for_seconds_at_the_rate(rate: float, seconds: float, expected: int) -> None:
    assert requests_for(rate, seconds) == expected


def test_requests_for_never_goes_below_the_floor() -> None:
    assert requests_for(1.0, 0.5) == MIN_REQUESTS


def test_fractions_parse_sorted_without_repeats() -> None:
    assert parse_fractions("0.9, 0.5,0.9,1.1") == (0.5, 0.9, 1.1)


@pytest.mark.parametrize("text", ["", "0.5,x", "0,0.5", "-0.2", ","])
def test_fractions_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_fractions(text)


def test_defaults_are_the_briefs() -> None:
    opts = bench.parse_options(["--only", "rate"])
    assert opts.rate_server == "nginx"
    assert opts.rate_concurrency == 100
    assert opts.rounds == 3
    assert opts.rate_seconds == 5.0
    assert opts.rate_fractions == (0.25, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1) == DEFAULT_FRACTIONS
    assert opts.trioload.is_absolute()
    quick = bench.parse_options(["--quick", "--rate-fractions", "0.7,0.3"])
    assert (quick.rounds, quick.rate_seconds, quick.rate_fractions) == (1, 1.0, (0.3, 0.7))


# --- the verdict -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kept", "lag_p99", "expected"),
    [
        (0.99, 2.0, True),  # both limits are inclusive
        (1.02, 0.1, True),
        (0.989, 0.1, False),
        (1.0, 2.01, False),
        (None, 0.1, None),
        (1.0, None, None),
    ],
)
def test_keeps_schedule_at_the_limits(
    kept: float | None, lag_p99: float | None, expected: bool | None
) -> None:
    assert keeps_schedule(at(kept, lag_p99)) is expected


def test_pass_when_kept_up_to_0_9_and_behind_above() -> None:
    verdict = judge({0.25: at(1.0), 0.5: at(1.0), 0.9: at(0.995), 1.0: at(0.97, 4.0)})
    assert verdict.passed is True
    assert verdict.label == "PASS"
    assert verdict.measured == "kept up to 0.9x; behind at 1x: made 0.970x asked, lag p99 4.00 ms"
    assert verdict.target.startswith("trioload -R keeps its schedule up to >= 0.9x")


def test_fail_when_kept_only_up_to_0_8() -> None:
    verdict = judge({0.5: at(1.0), 0.8: at(1.0), 0.9: at(0.98, 3.0)})
    assert verdict.passed is False
    assert verdict.measured.startswith("kept up to 0.8x; behind at 0.9x")


def test_fail_when_falling_behind_at_0_7() -> None:
    verdict = judge({0.5: at(1.0), 0.7: at(0.95, 1.0), 0.8: at(1.0), 0.9: at(1.0)})
    assert verdict.passed is False
    assert verdict.label == "FAIL"
    # 0.8x and 0.9x held, but a miss below the target is a miss.
    assert verdict.measured.startswith("kept up to 0.5x; behind at 0.7x: made 0.950x asked")


def test_fail_on_lag_alone_even_when_the_rate_was_made() -> None:
    verdict = judge({0.25: at(1.0, 2.5), 0.8: at(1.0)})
    assert verdict.passed is False
    assert (
        verdict.measured
        == "kept at no fraction; behind at 0.25x: made 1.000x asked, lag p99 2.50 ms"
    )


def test_not_judged_when_the_fractions_stop_below_the_target() -> None:
    verdict = judge({0.25: at(1.0), 0.5: at(1.0)})
    assert verdict.passed is None
    assert verdict.measured == "n/a (kept up to 0.5x; the fractions stop at 0.5x)"


def test_not_judged_without_any_rate_load() -> None:
    assert judge({}).measured == "n/a (kept at no fraction; no -R load ran)"


def test_not_judged_when_a_fraction_below_the_target_has_no_figures() -> None:
    verdict = judge({0.5: at(1.0), 0.7: at(None), 0.8: at(1.0)})
    assert verdict.passed is None
    assert verdict.measured == "n/a (kept up to 0.5x; no figures at 0.7x)"


def test_missing_figures_above_the_target_still_pass_and_say_so() -> None:
    verdict = judge({0.8: at(1.0), 1.0: at(1.0), 1.1: at(None)})
    assert verdict.passed is True
    assert verdict.measured == "kept up to 1x; no figures at 1.1x"


def test_verdict_of_results_skips_the_closed_loop_and_failed_runs() -> None:
    behind = dataclasses.replace(at(0.5), made=500.0)
    results: dict[float | None, list[Figures | str]] = {
        None: [Figures(made=1000.0)],  # no schedule: would be "no figures" if judged
        0.5: [at(1.0), "killed after 60 s", at(1.0)],
        0.9: [at(1.0), behind, at(0.999)],
    }
    verdict = verdict_of(results)
    assert verdict.passed is True
    assert verdict.measured == "kept up to 0.9x"


def costing(cpu_us: float | None) -> list[Figures | str]:
    return [Figures(cpu_us=cpu_us), "killed after 60 s"]


def test_cpu_verdict_judges_the_worst_ratio_up_to_the_target_fraction() -> None:
    results = {None: costing(100.0), 0.25: costing(125.0), 0.5: costing(110.0)}
    verdict = cpu_verdict(results | {1.1: costing(300.0)})  # above 0.9x: not judged
    assert verdict.passed is True  # 1.25x is within
    assert verdict.measured == "worst 0.25x (0.25x: 1.25, 0.5x: 1.10)"
    assert verdict.target == "trioload -R costs <= 1.25x the closed loop's client CPU a request"
    failed = cpu_verdict(results | {0.9: costing(126.0)})
    assert failed.passed is False
    assert failed.measured.startswith("worst 0.9x")


def test_cpu_verdict_without_figures_is_not_judged() -> None:
    assert cpu_verdict({None: costing(None), 0.5: costing(110.0)}).passed is None
    assert cpu_verdict({0.5: costing(110.0)}).measured == "n/a (no CPU figures)"


# --- the table -----------------------------------------------------------------------------


def test_cells_of_the_closed_loop_row_leave_schedule_columns_empty() -> None:
    row = cells(None, [figures_from_report(report(None)), "no JSON report (exit 2): boom"])
    assert len(row) == len(HEADERS)
    by_header = dict(zip(HEADERS, row, strict=True))
    assert by_header["load"] == "closed loop"
    assert by_header["runs"] == "1/2"
    assert by_header["asked req/s"] == "-"
    assert by_header["lag p99 ms"] == "-"
    assert by_header["made req/s"] == "995"
    assert by_header["p99 from sent ms"] == "4.00"
    assert by_header["client CPU µs/req"] == "20.0"


def test_cells_of_a_rate_row_show_the_medians() -> None:
    slower = figures_from_report(report(requests_per_second=900.0, late=200))
    row = cells(0.8, [figures_from_report(report()), slower, figures_from_report(report())])
    by_header = dict(zip(HEADERS, row, strict=True))
    assert by_header["load"] == "-R 0.8x"
    assert by_header["runs"] == "3/3"
    assert by_header["asked req/s"] == "1,000"
    assert by_header["made/asked"] == "0.995"
    assert by_header["late %"] == "1.00"
    assert by_header["lag p99 ms"] == "0.800"
    assert by_header["p99 from due ms"] == "5.00"
    assert by_header["failed (worst)"] == "0"


def test_the_target_reads_its_limits() -> None:
    assert rate.TARGET == (
        "trioload -R keeps its schedule up to >= 0.9x its own closed-loop max"
        " (made >= 0.99x asked, lag p99 <= 2 ms)"
    )


# --- the dip -------------------------------------------------------------------------------


def window(start: float, seconds: float, finished: int) -> dict[str, float]:
    return {"start_unix_s": start, "end_unix_s": start + seconds, "finished": finished}


def test_dip_is_the_slowest_whole_window_over_the_runs_rate() -> None:
    # the first and last windows are partial: however slow, they are left out
    timeline = [window(0, 0.1, 1), window(0.1, 0.25, 250), window(0.35, 0.25, 200)]
    timeline += [window(0.6, 0.25, 260), window(0.85, 0.05, 1)]
    dip = figures_from_report(report(None, timeline=timeline, interval_s=0.25)).dip
    assert dip == pytest.approx(800 / 995)
    # windows of another length are no dip run's: their slowest says nothing of 0.25 s
    assert figures_from_report(report(None, timeline=timeline, interval_s=1.0)).dip is None


def test_dip_counts_a_window_that_left_no_entry_as_0_and_skips_empty_ones() -> None:
    # whole windows at 1,000, 960 and 1,000 req/s; a wall-clock step left one 0 s long
    timeline = [window(0, 0.1, 50), window(0.1, 0.25, 250), window(0.35, 0.25, 240)]
    timeline += [window(0.6, 0, 0), window(0.6, 0.25, 250), window(0.85, 0.1, 1)]
    assert figures_from_report(
        report(None, timeline=timeline, interval_s=0.25)
    ).dip == pytest.approx(960 / 995)
    del timeline[2]  # nothing finished in 0.35-0.6 s: no entry, a gap
    assert figures_from_report(report(None, timeline=timeline, interval_s=0.25)).dip == 0.0


def test_dip_is_unknown_without_a_whole_window() -> None:
    assert figures_from_report(report(None)).dip is None
    two = [window(0, 0.2, 150), window(0.2, 0.1, 90)]
    assert figures_from_report(report(None, timeline=two, interval_s=0.25)).dip is None
    assert (
        figures_from_report(
            report(None, timeline=two[:1] * 3, requests_per_second=0, interval_s=0.25)
        ).dip
        is None
    )


def test_a_miss_tells_the_closed_loops_dip() -> None:
    results: dict[float | None, list[Figures | str]] = {
        None: [Figures(made=1000.0, dip=0.8), Figures(made=990.0, dip=0.84)],
        0.9: [at(0.96, 50.0)],
    }
    verdict = verdict_of(results)
    assert verdict.passed is False
    assert verdict.measured == (
        "kept at no fraction; behind at 0.9x: made 0.960x asked, lag p99 50.00 ms"
        " (the closed loop's own dip: 0.82x)"
    )
    assert judge({0.9: at(0.96, 50.0)}).measured.endswith("lag p99 50.00 ms")
