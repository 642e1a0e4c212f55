"""The seed table's chart (``benchlib.seed.chart``): the bars it draws, and that it is skipped,
not fatal, without matplotlib."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scripts.benchlib.report import Row
from scripts.benchlib.seed.chart import SKIPPED, Bar, chart_series, write_chart
from scripts.benchlib.seed.report import NO_CLIENT, SeedRow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def measured(server: str, client: str, rps: float, cpu: float | None) -> SeedRow:
    figures = Row(
        "seed", server, client, runs=3, requests_per_second=rps, rps_range=(rps - 100, rps + 50),
        server_cpu_us=cpu, server_cpu_range=None if cpu is None else (cpu - 1, cpu + 2),
    )  # fmt: skip
    return SeedRow(server, client, 2, 18017.33, figures, None, "", rank=1)


ROWS = [
    measured("Apache", "trioload", 1000.0, 30.0),
    measured("Apache", "ab", 2000.0, 40.0),
    SeedRow("hyperlane", NO_CLIENT, 1, 47294.55, None, None, "not packaged here"),
]


def test_chart_series_bars_carry_the_rounds_spread() -> None:
    apache, _ = chart_series(ROWS)
    assert apache.seed == 18017.33
    assert apache.rps == {"trioload": Bar(1000.0, 100.0, 50.0), "ab": Bar(2000.0, 100.0, 50.0)}


def test_chart_series_server_cpu_is_the_first_clients_figure() -> None:
    apache, _ = chart_series(ROWS)
    assert (apache.cpu, apache.cpu_client) == (Bar(30.0, 1.0, 2.0), "trioload")


def test_chart_series_falls_back_to_a_later_clients_cpu() -> None:
    rows = [measured("x", "trioload", 10.0, None), measured("x", "ab", 20.0, 7.0)]
    (bars,) = chart_series(rows)
    assert (bars.cpu, bars.cpu_client) == (Bar(7.0, 1.0, 2.0), "ab")


def test_chart_series_keeps_servers_that_never_ran_with_the_seeds_figure() -> None:
    _, hyperlane = chart_series(ROWS)
    assert (hyperlane.server, hyperlane.seed) == ("hyperlane", 47294.55)
    assert hyperlane.rps == {}
    assert hyperlane.cpu is None


def test_write_chart_without_matplotlib_is_skipped_with_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes ``import matplotlib`` fail
    path = tmp_path / "chart.png"
    assert write_chart(ROWS, ["trioload", "ab"], path, "t") == SKIPPED
    assert "[plot]" in SKIPPED
    assert not path.exists()


def test_write_chart_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "out" / "chart.png"
    assert write_chart(ROWS, ["trioload", "ab"], path, "t") == f"chart written to {path}"
    assert path.read_bytes().startswith(PNG_MAGIC)
