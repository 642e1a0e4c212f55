"""The HdrHistogram files: the interval log read back by hdrh's own reader, and the .hgrm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hdrh.log import HistogramLogReader

from trioload.output.hdrlog import format_hgrm, format_interval_log
from trioload.results.tally import Tally, new_histogram
from trioload.results.timeline import Timeline


def test_interval_log_reads_back_interval_by_interval(tmp_path: Path) -> None:
    tally, timeline = Tally(), Timeline()
    for second, values in enumerate(([120, 130], [5000], [7, 8, 9])):
        for value in values:
            tally.record_response(value, value, value, value, 200, 88, 5, False, value + 10)
        timeline.cut(tally, 1000.0, 1001.0 + second)
    path = tmp_path / "run.hlog"
    path.write_text(format_interval_log(timeline.entries, 1000.0))
    reader = HistogramLogReader(str(path), new_histogram())
    counts: dict[str, list[int]] = {}
    starts = []
    while (histogram := reader.get_next_interval_histogram()) is not None:
        counts.setdefault(histogram.get_tag(), []).append(histogram.get_total_count())
        starts.append(histogram.get_start_time_stamp() / 1000)
    assert counts["total"] == counts["corrected"] == [2, 1, 3]
    assert set(counts) == {"connect", "processing", "waiting", "total", "corrected"}
    totals = tally.histograms
    for tag, per_interval in counts.items():
        assert sum(per_interval) == totals[tag].get_total_count()
    assert reader.get_start_time_sec() == 1000.0
    assert sorted(set(starts)) == [1000.0, 1001.0, 1002.0]


def test_interval_log_header_is_format_1_3() -> None:
    text = format_interval_log([], 1795800000.0)
    assert text.startswith("#[Histogram log format version 1.3]\n#[StartTime: 1795800000.000")


def test_hgrm_lists_percentiles_in_milliseconds() -> None:
    histogram = new_histogram()
    for value_us in (1000, 2000, 3000, 4000):
        histogram.record_value(value_us)
    text = format_hgrm(histogram)
    assert text.splitlines()[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    peak_ms = histogram.get_max_value() / 1000  # the top bucket's highest equivalent value
    assert f"#[Max     = {peak_ms:12.3f}, TotalCount     =        4.000]" in text
    first = text.splitlines()[2].split()
    assert (float(first[0]), float(first[1]), int(first[2])) == (1.0, 0.0, 1)


def _hdrhistogram_jar() -> Path | None:
    """HdrHistogram's Java jar from a local Maven repository, if this machine has one."""
    jars = sorted(Path.home().glob(".m2/repository/org/hdrhistogram/HdrHistogram/*/*.jar"))
    return jars[-1] if jars and shutil.which("java") else None


def test_interval_log_reads_in_hdrhistograms_own_log_processor(tmp_path: Path) -> None:
    jar = _hdrhistogram_jar()
    if jar is None:
        pytest.skip("needs java and HdrHistogram's jar in ~/.m2 (HistogramLogProcessor)")
    tally, timeline = Tally(), Timeline()
    for second, values in enumerate(([1200, 1300], [5000], [700, 800, 900])):
        for value in values:
            tally.record_response(value, value, value, value, 200, 88, 5, False)
        timeline.cut(tally, 1000.0, 1001.0 + second)
    log = tmp_path / "run.hlog"
    log.write_text(format_interval_log(timeline.entries, 1000.0))
    processor = "org.HdrHistogram.HistogramLogProcessor"
    argv = ["java", "-cp", str(jar), processor, "-i", str(log), "-tag", "total"]
    argv += ["-outputValueUnitRatio", "1000", "-csv"]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    last = done.stdout.strip().splitlines()[-1].split(",")
    # The last row: the max (in ms), percentile 1.0, and every value of every interval.
    assert (float(last[1]), int(last[2])) == (1.0, 6)
    assert float(last[0]) == pytest.approx(5.0, rel=1e-3)
