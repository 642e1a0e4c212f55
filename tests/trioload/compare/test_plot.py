"""``trioload plot compare.json``: a comparison drawn, or a damaged one refused before drawing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.trioload.compare.test_document import document_of
from trioload.compare.document import target_figures
from trioload.compare.plot import series
from trioload.output import plot


def test_series_draws_each_target_with_counted_runs() -> None:
    runs = series(target_figures(document_of()))
    assert [run.label for run in runs] == ["fast", "base"]
    assert all(run.spectrum and run.timeline == () for run in runs)


def test_plot_draws_a_comparison_into_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    document, png = tmp_path / "compare.json", tmp_path / "compare.png"
    document.write_text(json.dumps(document_of()))
    assert plot.main([str(document), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_refuses_a_damaged_comparison_before_drawing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = {**document_of(), "targets": [{"name": "a"}]}
    document, png = tmp_path / "compare.json", tmp_path / "compare.png"
    document.write_text(json.dumps(damaged))
    assert plot.main([str(document), "-o", str(png)]) == 2
    assert "not a trioload compare document" in capsys.readouterr().err
    assert not png.exists()
