"""From runs to medians, and the ratio verdict every target goes through (``benchlib.report``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.benchlib import report
from scripts.benchlib.report import (
    RESULT_HEADERS,
    Key,
    Row,
    RowTable,
    markdown_table,
    publish,
    result_cells,
    run_main,
)
from scripts.benchlib.tools import LoadResult


def sample(
    rps: float | None = 1000.0,
    *,
    client: str = "ab",
    server: str = "nginx",
    part: str = "servers",
    failed: int | None = 0,
    p50: float | None = None,
    error: str | None = None,
    server_cpu: float | None = None,
    rss: int | None = None,
) -> tuple[Key, LoadResult]:
    """One run's result, and the (part, server, client) it belongs to."""
    result = LoadResult(requests_per_second=rps, failed=failed, p50_ms=p50, error=error,
                        server_cpu_us=server_cpu, client_rss_kb=rss)  # fmt: skip
    if error is not None:
        result = LoadResult(error=error)
    return (part, server, client), result


def aggregate(runs: list[tuple[Key, LoadResult]]) -> list[Row]:
    """``report.aggregate`` of these runs, grouped as the runner keeps them."""
    grouped: dict[Key, list[LoadResult]] = {}
    for key, result in runs:
        grouped.setdefault(key, []).append(result)
    return report.aggregate(grouped)


# --- aggregate -------------------------------------------------------------------------------


def test_aggregate_takes_medians_worst_failures_and_peak_rss() -> None:
    rows = aggregate(
        [
            sample(300.0, failed=0, p50=2.0, server_cpu=30.0, rss=900),
            sample(100.0, failed=7, p50=1.0, server_cpu=10.0, rss=1200),
            sample(200.0, failed=3, p50=4.0, server_cpu=20.0, rss=1000),
        ]
    )
    (row,) = rows
    assert row.runs == 3
    assert row.requests_per_second == 200.0
    assert row.failed == 7
    assert row.p50_ms == 2.0
    assert row.server_cpu_us == 20.0
    assert row.client_rss_kb == 1200
    assert row.p50_ms_range == (1.0, 4.0)
    assert row.note == ""


def test_aggregate_keeps_the_server_cpu_range_over_rounds() -> None:
    (row,) = aggregate(
        [sample(300.0, server_cpu=31.0), sample(100.0, server_cpu=29.0), sample(200.0)]
    )
    assert row.server_cpu_us_range == (29.0, 31.0)  # the unknown round is left out


def test_aggregate_median_of_an_even_count_is_the_middle_mean() -> None:
    (row,) = aggregate([sample(100.0), sample(400.0), sample(200.0), sample(300.0)])
    assert row.requests_per_second == 250.0


def test_aggregate_leaves_failed_runs_out_of_the_figures_and_notes_them() -> None:
    (row,) = aggregate(
        [sample(100.0), sample(error="killed after 60 s"), sample(error="exit 1: boom")]
    )
    assert row.runs == 1
    assert row.requests_per_second == 100.0
    assert row.note == "2 of 3 runs failed: exit 1: boom; killed after 60 s"


def test_aggregate_all_runs_failed_leaves_no_figures() -> None:
    (row,) = aggregate([sample(error="exit 1: boom"), sample(error="exit 1: boom")])
    assert row.runs == 0
    assert row.requests_per_second is None
    assert row.failed is None
    assert row.p50_ms_range is None
    assert row.note == "2 of 2 runs failed: exit 1: boom"


def test_aggregate_unknown_figures_are_skipped_not_zero() -> None:
    (row,) = aggregate([sample(100.0, failed=None), sample(None, failed=2), sample(300.0)])
    assert row.requests_per_second == 200.0
    assert row.failed == 2


def test_aggregate_one_row_per_pair_in_first_run_order() -> None:
    rows = aggregate(
        [
            sample(1.0, client="wrk"),
            sample(2.0, client="ab"),
            sample(3.0, client="wrk"),
            sample(4.0, client="ab", part="clients"),
        ]
    )
    assert [row.key for row in rows] == [
        ("servers", "nginx", "wrk"),
        ("servers", "nginx", "ab"),
        ("clients", "nginx", "ab"),
    ]
    assert [row.requests_per_second for row in rows] == [2.0, 2.0, 4.0]


# --- RowTable --------------------------------------------------------------------------------


def test_row_table_value_says_why_a_figure_is_missing() -> None:
    table = RowTable(
        [
            Row("servers", "nginx", "ab", runs=1, requests_per_second=5.0),
            Row("servers", "uvicorn", "ab", note="not available: no venv"),
            Row("servers", "trioserve", "ab", runs=1),
        ]
    )
    rps = "requests_per_second"
    assert table.value("servers", "nginx", "ab", rps) == (5.0, "")
    assert table.value("servers", "uvicorn", "ab", rps) == (
        None,
        "ab vs uvicorn: not available: no venv",
    )
    assert table.value("servers", "trioserve", "ab", rps) == (
        None,
        "ab vs trioserve: no figure reported",
    )
    assert table.value("servers", "nginx", "wrk", rps) == (None, "wrk vs nginx was not run")


# --- tables and output -----------------------------------------------------------------------


def test_result_cells_formats_figures_and_dashes_unknowns() -> None:
    row = Row(
        "clients", "nginx", "trioload", runs=3, requests_per_second=12345.6, failed=0,
        p50_ms=1.234, client_rss_kb=2048, note="x",
    )  # fmt: skip
    cells = result_cells(row)
    assert len(cells) == len(RESULT_HEADERS)
    assert cells == [
        "clients", "nginx", "trioload", "3", "12,346", "0", "1.23", "-", "-", "-", "-", "2.0",
        "x",
    ]  # fmt: skip


def test_markdown_table_aligns_numeric_columns_and_escapes_pipes() -> None:
    table = markdown_table(["name", "n"], [["a|b", "1"]], numeric=[1])
    assert table.splitlines() == ["| name | n |", "| --- | ---: |", "| a\\|b | 1 |"]


def test_publish_prints_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.md"
    publish("# report", target)
    assert target.read_text() == "# report"
    assert "# report" in capsys.readouterr().out


def test_run_main_exits_with_main_status() -> None:
    with pytest.raises(SystemExit) as exited:
        run_main(lambda: 3)
    assert exited.value.code == 3


def test_run_main_ctrl_c_exits_130() -> None:
    def interrupted() -> int:
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exited:
        run_main(interrupted)
    assert exited.value.code == 130
