"""ab's -e CSV and -g gnuplot files: their formats as ab.c writes them, and a gnuplot writer
that keeps the file growing during the run and never lets a write error end it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

from trioload.output.abfiles import (
    GNUPLOT_HEADER,
    GnuplotWriter,
    ab_ctime,
    format_percent_csv,
    gnuplot_line,
)
from trioload.results.tally import new_histogram


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for the test (ab's dates are local time)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def histogram_of(*values_us: int) -> HdrHistogram:
    histogram = new_histogram()
    for value in values_us:
        histogram.record_value(value)
    return histogram


def test_format_percent_csv_has_a_header_and_a_row_per_whole_percent() -> None:
    rows = format_percent_csv(histogram_of(10_000, 20_000, 30_000, 40_000)).split("\n")
    assert rows[0] == "Percentage served,Time in ms"
    assert rows[-1] == ""  # the file ends with a newline
    body = rows[1:-1]
    assert [row.split(",")[0] for row in body] == [str(pct) for pct in range(101)]
    assert body[0] == "0,10.000"  # the fastest
    assert body[1] == "1,10.007"  # HDR: the highest value of the 10 ms bucket (3 figures)
    assert body[50] == "50,20.015"
    assert body[100] == "100,40.031"  # the slowest, like the report's "max"


def test_format_percent_csv_keeps_microseconds_to_three_decimals() -> None:
    rows = format_percent_csv(histogram_of(1_234, 1_999)).split("\n")
    assert rows[1] == "0,1.234"
    assert rows[101] == "100,1.999"


def test_format_percent_csv_agrees_with_hdrh_at_every_percent() -> None:
    histogram = histogram_of(*[(i * 7919) % 250_000 + 1 for i in range(2_000)])
    rows = format_percent_csv(histogram).split("\n")[1:-1]
    for pct in range(1, 100):
        expected = histogram.get_value_at_percentile(pct) / 1000
        assert rows[pct] == f"{pct},{expected:.3f}"


def test_format_percent_csv_without_requests_is_the_header_alone() -> None:
    assert format_percent_csv(new_histogram()) == "Percentage served,Time in ms\n"


@pytest.mark.usefixtures("utc")
def test_ab_ctime_is_aprs_ctime_with_a_zero_padded_day() -> None:
    assert ab_ctime(741476948.7) == "Wed Jun 30 21:49:08 1993"
    assert ab_ctime(1_000_000_000) == "Sun Sep 09 01:46:40 2001"


@pytest.mark.usefixtures("utc")
def test_gnuplot_line_is_tab_separated_in_whole_rounded_milliseconds() -> None:
    line = gnuplot_line(1_000_000_000.9, 1_499, 1_500, 2_999, 500)
    assert line == "Sun Sep 09 01:46:40 2001\t1000000000\t1\t2\t3\t1\n"
    assert GNUPLOT_HEADER == "starttime\tseconds\tctime\tdtime\tttime\twait\n"
    assert len(line.rstrip("\n").split("\t")) == len(GNUPLOT_HEADER.split("\t"))


def test_gnuplot_writer_writes_the_header_and_the_lines_of_gnuplot_line(tmp_path: Path) -> None:
    path = tmp_path / "run.tsv"
    writer = GnuplotWriter(str(path))
    requests = [(1_700_000_000.25, 1_000, 9_000, 10_000, 5_000), (1_700_000_001.5, 0, 1, 2, 3)]
    for request in requests:
        writer.write(*request)
    writer.close()
    assert writer.error is None
    assert path.read_text() == GNUPLOT_HEADER + "".join(gnuplot_line(*r) for r in requests)


def test_gnuplot_writer_writes_blocks_before_close(tmp_path: Path) -> None:
    path = tmp_path / "run.tsv"
    writer = GnuplotWriter(str(path), block_bytes=1_000)
    writer.write(1_700_000_000.0, 1_000, 2_000, 3_000, 1_000)
    assert path.stat().st_size == 0  # under a block: still buffered
    for _ in range(100):
        writer.write(1_700_000_000.0, 1_000, 2_000, 3_000, 1_000)
    grown = path.stat().st_size
    assert grown >= 1_000  # blocks reached the file during the "run"
    writer.close()
    assert path.stat().st_size > grown  # the rest, at close
    assert path.read_text().count("\n") == 1 + 101


def test_gnuplot_writer_keeps_the_first_write_error_and_never_raises() -> None:
    # /dev/full takes the open and refuses every write: a disk that filled up mid-run.
    writer = GnuplotWriter("/dev/full", block_bytes=100)
    for _ in range(50):
        writer.write(1_700_000_000.0, 1_000, 2_000, 3_000, 1_000)
    assert writer.error == "No space left on device"
    writer.close()
    writer.close()
    assert writer.error == "No space left on device"


def test_gnuplot_writer_error_at_close_is_kept_too() -> None:
    writer = GnuplotWriter("/dev/full")
    writer.write(1_700_000_000.0, 1_000, 2_000, 3_000, 1_000)
    assert writer.error is None  # buffered
    writer.close()
    assert writer.error == "No space left on device"


def test_gnuplot_writer_that_cannot_open_keeps_the_reason(tmp_path: Path) -> None:
    writer = GnuplotWriter(str(tmp_path))  # a directory
    writer.write(1_700_000_000.0, 1_000, 2_000, 3_000, 1_000)
    writer.close()
    assert writer.error is not None
    assert re.search("directory", writer.error, re.IGNORECASE)
