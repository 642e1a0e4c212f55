"""``trioload plot``: the series read from reports (no matplotlib needed), the PNG drawn by the
real console script, and the one-line refusals."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trioload.conftest import known_tally, result_of, run_trioload
from trioload.config import LoadConfig
from trioload.output import plot
from trioload.output.plot import (
    NO_MATPLOTLIB,
    TimelinePoint,
    default_labels,
    percentile_ticks,
    run_series,
    steps,
)
from trioload.results.result import RunResult, format_json, to_json_dict
from trioload.results.tally import Tally
from trioload.results.timeline import Timeline

URL = "http://127.0.0.1:8080/x"  # result_of's
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None,
    reason="matplotlib (the plot extra) is not installed",
)


def known_report() -> dict[str, Any]:
    """The JSON of conftest's four known responses (10, 20, 30, 40 ms); no timeline."""
    report: dict[str, Any] = json.loads(format_json(result_of(known_tally())))
    return report


def record(tally: Tally, *values_ms: int) -> None:
    for value in values_ms:
        tally.record_response(1, value * 1000, value * 1000, value * 1000, 200, 88, 5, False)


def timed_report() -> dict[str, Any]:
    """A run from Unix time 100.0: four 10 ms responses in its first second, two of 30 ms by
    102.5, nothing from then to 103.5 (no entry), one of 20 ms by 104.0."""
    tally, timeline = Tally(), Timeline()
    record(tally, 10, 10, 10, 10)
    timeline.cut(tally, 100.0, 101.0)
    record(tally, 30, 30)
    timeline.cut(tally, 100.0, 102.5)
    timeline.cut(tally, 100.0, 103.5)
    record(tally, 20)
    timeline.cut(tally, 100.0, 104.0)
    config = LoadConfig(url=URL, concurrency=2, requests=7)
    result = RunResult(
        config, tally, 4.0, 0.1, 0.1, window_s=(100.0, 104.0), timeline=tuple(timeline.entries)
    )
    report: dict[str, Any] = json.loads(json.dumps(to_json_dict(result)))
    return report


def write(tmp_path: Path, name: str, report: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return str(path)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, which follows the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE
    assert head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


# -- series (sans-IO) --------------------------------------------------------------------------


def test_plot_series_of_a_report_is_a_monotone_staircase_up_to_its_max() -> None:
    report = known_report()
    series = run_series(report)
    assert (series.label, series.phase, series.count) == (URL, "total", 4)
    assert series.timeline == ()
    points = series.spectrum
    assert len(points) == 8  # two corners for each of the four buckets
    for before, after in pairwise(points):
        assert before.percentile <= after.percentile
        assert before.x <= after.x
        assert before.latency_ms <= after.latency_ms
    assert (points[0].percentile, points[0].x) == (0.0, 1.0)
    # A bucket's highest equivalent value, as the report's percentiles: 10 ms to 3 figures.
    assert points[0].latency_ms == pytest.approx(10.0, rel=1e-3)
    # Half the samples below: 1/(1-0.5) = 2. The last corner is capped at 4 samples.
    assert (points[4].percentile, points[4].x) == (50.0, 2.0)
    assert (points[-1].percentile, points[-1].x) == (100.0, 4.0)
    assert points[-1].latency_ms == report["latency_ms"]["total"]["max"]


@settings(max_examples=20, deadline=None)  # each example builds and decodes a histogram
@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=300))
def test_plot_spectrum_is_monotone_and_capped_for_any_run(values_ms: list[int]) -> None:
    tally = Tally()
    record(tally, *values_ms)
    report = json.loads(format_json(result_of(tally)))
    points = run_series(report).spectrum
    assert [p.latency_ms for p in points] == sorted(p.latency_ms for p in points)
    assert [p.x for p in points] == sorted(p.x for p in points)
    assert all(1.0 <= p.x <= len(values_ms) for p in points)
    assert points[-1].x == len(values_ms)
    assert points[-1].latency_ms == report["latency_ms"]["total"]["max"]


def test_plot_series_of_a_rate_run_is_its_latency_from_due_time() -> None:
    report = known_report()
    assert run_series(report).phase == "total"
    report["rate"] = 100.0
    # known_tally recorded no schedule: the corrected latency a --rate run leads with is absent.
    with pytest.raises(ValueError, match="no 'corrected' hdr histogram"):
        run_series(report)
    report["hdr"]["corrected"] = report["hdr"]["total"]
    assert run_series(report, "paced").phase == "corrected"
    assert run_series(report, "paced").label == "paced"


def test_plot_timeline_gives_throughput_and_p99_over_time() -> None:
    report = timed_report()
    points = run_series(report).timeline
    entries = report["timeline"]
    assert len(points) == len(entries) == 3  # the quiet second left no entry
    assert [(p.start_s, p.end_s) for p in points] == [(0.0, 1.0), (1.0, 2.5), (3.5, 4.0)]
    assert [p.requests_per_s for p in points] == [4.0, 2 / 1.5, 2.0]
    assert [p.p99_ms for p in points] == [entry["p99_ms"] for entry in entries]
    assert [p.p99_ms for p in points] == pytest.approx([10, 30, 20], rel=1e-3)


def test_plot_timeline_gives_the_rate_asked_under_a_schedule() -> None:
    report = timed_report()
    assert all(point.asked_per_s is None for point in run_series(report).timeline)
    for entry, asked in zip(report["timeline"], (5.0, 3.0, 1.0), strict=True):
        entry["asked"] = asked
    points = run_series(report).timeline
    # each at its own length: the 1.5 s interval asked 2 a second, the last half second 2
    assert [p.asked_per_s for p in points] == [5.0, 2.0, 2.0]


def test_plot_timeline_steps_drop_to_zero_where_nothing_finished() -> None:
    points = run_series(timed_report()).timeline
    xs, ys = steps(points, lambda point: point.requests_per_s, 0.0)
    assert xs == [0.0, 1.0, 1.0, 2.5, 2.5, 3.5, 3.5, 4.0]
    assert ys == [4.0, 4.0, 2 / 1.5, 2 / 1.5, 0.0, 0.0, 2.0, 2.0]
    quiet = [TimelinePoint(0.0, 1.0, 5.0, None)]
    assert all(math.isnan(y) for y in steps(quiet, lambda point: point.p99_ms, math.nan)[1])


def test_plot_labels_default_to_the_url_and_tell_same_url_runs_apart() -> None:
    first, second = known_report(), known_report()
    assert default_labels(["x/a.json", "y/b.json"], [first, second]) == [
        f"{URL} (a.json)",
        f"{URL} (b.json)",
    ]
    second["url"] = "http://127.0.0.1:8081/"
    assert default_labels(["x/a.json", "y/b.json"], [first, second]) == [URL, second["url"]]


def test_plot_percentile_ticks_are_hdrhistograms_nines() -> None:
    assert percentile_ticks(4) == [(1.0, "0%"), (10.0, "90%")]
    assert [text for _, text in percentile_ticks(10_000)] == [
        "0%",
        "90%",
        "99%",
        "99.9%",
        "99.99%",
    ]
    assert percentile_ticks(10_001)[-1] == (100_000.0, "99.999%")


# -- the command ------------------------------------------------------------------------------


@needs_matplotlib
@pytest.mark.slow
async def test_plot_draws_two_runs_into_one_png_through_the_console_script(
    tmp_path: Path,
) -> None:
    first = write(tmp_path, "a.json", known_report())
    second = write(tmp_path, "b.json", timed_report())
    out = tmp_path / "out.png"
    run = await run_trioload(
        "plot", first, second, "-o", str(out), "--label", "one", "--label", "two", "--title", "t"
    )
    assert (run.returncode, run.stdout) == (0, f"{out}\n")
    # 10 x 10.5 inches at 100 dpi: the spectrum and, for b.json's timeline, two more panels.
    assert png_size(out) == (1000, 1050)


@needs_matplotlib
@pytest.mark.slow
async def test_plot_without_a_timeline_draws_the_spectrum_alone(tmp_path: Path) -> None:
    report = known_report()
    assert report["timeline"] == []
    out = tmp_path / "out.png"
    run = await run_trioload("plot", write(tmp_path, "a.json", report), "-o", str(out))
    assert (run.returncode, run.stdout) == (0, f"{out}\n")
    assert png_size(out) == (1000, 600)


async def test_plot_without_matplotlib_says_how_to_get_it(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    # A fresh interpreter in which importing matplotlib fails, as where it is not installed.
    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "from trioload.output.plot import main; sys.exit(main(sys.argv[1:]))"
    )
    done = await trio.run_process(
        [sys.executable, "-c", code, write(tmp_path, "a.json", known_report()), "-o", str(out)],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert done.returncode == 2
    assert (done.stdout, done.stderr.decode()) == (b"", NO_MATPLOTLIB + "\n")
    assert not out.exists()


def test_plot_label_count_mismatch_is_a_one_line_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = write(tmp_path, "a.json", known_report())
    with pytest.raises(SystemExit) as exited:
        plot.main([report, report, "--label", "one", "-o", str(tmp_path / "out.png")])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err == "trioload plot: 1 --label for 2 runs (one per run) (see trioload plot --help)\n"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{not json", "is not JSON, nor a log that ends with a JSON report"),
        ('{"url": "http://x/"}', "is not a trioload --json report (0.2 or later)"),
        (format_json(result_of(Tally())), "has no 'total' hdr histogram (no request finished?)"),
    ],
    ids=["not-json", "not-a-report", "no-histogram"],
)
def test_plot_refuses_a_file_it_cannot_draw_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, complaint: str
) -> None:
    path = tmp_path / "run.json"
    path.write_text(content)
    out = tmp_path / "out.png"
    assert plot.main([str(path), "-o", str(out)]) == 2
    assert capsys.readouterr() == ("", f"trioload plot: {path} {complaint}\n")
    assert not out.exists()


def test_plot_refuses_a_missing_file_and_an_unwritable_output_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "gone.json"
    assert plot.main([str(missing), "-o", str(tmp_path / "out.png")]) == 2
    assert capsys.readouterr().err == (
        f"trioload plot: cannot read {missing}: No such file or directory\n"
    )
    report = write(tmp_path, "a.json", known_report())
    nowhere = tmp_path / "no" / "out.png"
    assert plot.main([report, "-o", str(nowhere)]) == 2
    assert capsys.readouterr().err == (
        f"trioload plot: cannot write -o {nowhere}: no directory {str(nowhere.parent)!r}\n"
    )
