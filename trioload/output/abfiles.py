"""ab's two data files: ``-e`` (CSV, the time within which each whole percentage of the
requests was served) and ``-g`` (gnuplot TSV, one line per request).

The CSV is built at the end from an HDR histogram (microseconds). The gnuplot file grows as
the run goes: ``GnuplotWriter`` takes one line per request on the engine's hot path and writes
them in blocks, so memory stays flat however long the run.
"""

from __future__ import annotations

import contextlib
import errno
import time
from io import FileIO

from hdrh.histogram import HdrHistogram

from trioload.results.result import filled_buckets, ranked_values

CSV_HEADER = "Percentage served,Time in ms"
GNUPLOT_HEADER = "starttime\tseconds\tctime\tdtime\tttime\twait\n"
#: the gnuplot writer hands the file this many bytes (or a little more) at a time.
GNUPLOT_BLOCK_BYTES = 64 * 1024

# apr_ctime's names: English whatever the locale (strftime's %a and %b follow the locale).
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # time.struct_time's tm_wday order
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_percent_csv(histogram: HdrHistogram) -> str:
    """ab's ``-e`` file: a header, then ``percent,milliseconds`` (``%.3f``) for 0..100.

    0 is the fastest request and 100 the slowest. Between, each percentage takes the same
    rule as the text report's table (the bucket holding the percentage's rounded share of
    the count), so the CSV and the report agree. No request: the header alone."""
    rows = [CSV_HEADER]
    rows += [f"{pct},{us / 1000:.3f}" for pct, us in enumerate(percent_times_us(histogram))]
    return "\n".join(rows) + "\n"


def percent_times_us(histogram: HdrHistogram) -> list[int]:
    """The time of each whole percentage 0..100 of ``histogram``'s count: 0 is the lowest
    value, 100 the highest, and between them the text report's rule (``ranked_values``)."""
    buckets, total = filled_buckets(histogram)
    if not total:
        return []
    highest = histogram.get_highest_equivalent_value
    between = ranked_values(buckets, total, range(1, 100))
    return [buckets[0][0], *(highest(value) for value in between), highest(buckets[-1][0])]


def ab_ctime(unix_s: float) -> str:
    """APR's ``apr_ctime``: local time as ``Wed Jun 30 21:49:08 1993`` (day zero-padded,
    unlike C's ``ctime``)."""
    tm = time.localtime(unix_s)
    return (
        f"{_DAYS[tm.tm_wday]} {_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:02d} "
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {tm.tm_year}"
    )


def gnuplot_line(
    start_unix_s: float, connect_us: int, processing_us: int, total_us: int, waiting_us: int
) -> str:
    """One request's line: its start (ctime, then Unix seconds), then connect, processing,
    total and waiting time in whole milliseconds; tab-separated."""
    return _date_columns(start_unix_s) + _time_columns(
        connect_us, processing_us, total_us, waiting_us
    )


def _date_columns(start_unix_s: float) -> str:
    return f"{ab_ctime(start_unix_s)}\t{int(start_unix_s)}\t"


def _time_columns(connect_us: int, processing_us: int, total_us: int, waiting_us: int) -> str:
    # ab's ap_round_ms: whole milliseconds, halves up.
    return (
        f"{(connect_us + 500) // 1000}\t{(processing_us + 500) // 1000}\t"
        f"{(total_us + 500) // 1000}\t{(waiting_us + 500) // 1000}\n"
    )


class GnuplotWriter:
    """ab's ``-g`` file, written as the run goes.

    A write error (a full disk) never reaches the run: the first one is kept in ``error``
    (the reason, as ``strerror`` says it) and later lines are dropped. The date column changes
    once a second, so it is formatted once a second."""

    def __init__(self, path: str, block_bytes: int = GNUPLOT_BLOCK_BYTES) -> None:
        self.path = path
        self.error: str | None = None
        self._block_bytes = block_bytes
        self._lines: list[str] = []
        self._pending = 0
        self._second = -1
        self._date = ""
        self._file: FileIO | None = None
        try:
            # Unbuffered: the blocks below are the buffering, and an error surfaces at once.
            self._file = open(path, "wb", buffering=0)  # noqa: SIM115 -- closed in close()
        except OSError as exc:
            self._fail(exc)
            return
        self._lines.append(GNUPLOT_HEADER)
        self._pending = len(GNUPLOT_HEADER)

    def write(
        self,
        start_unix_s: float,
        connect_us: int,
        processing_us: int,
        total_us: int,
        waiting_us: int,
    ) -> None:
        """One request's ``gnuplot_line``, its date columns made once a second."""
        if self._file is None:
            return
        second = int(start_unix_s)
        if second != self._second:
            self._second, self._date = second, _date_columns(start_unix_s)
        line = self._date + _time_columns(connect_us, processing_us, total_us, waiting_us)
        self._lines.append(line)
        self._pending += len(line)
        if self._pending >= self._block_bytes:
            self._flush()

    def close(self) -> None:
        """Write what is left and close the file (again: nothing)."""
        self._flush()
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError as exc:
                self._fail(exc)

    def _flush(self) -> None:
        """Hand the buffered lines to the file."""
        file = self._file
        if file is None:
            return
        view = memoryview("".join(self._lines).encode("ascii"))
        self._lines.clear()
        self._pending = 0
        try:
            while view:  # a regular file takes it all; a pipe or a signal may take less
                written = file.write(view)
                if not written:  # a non-blocking descriptor that is full: give up, not spin
                    raise BlockingIOError(errno.EAGAIN, "the file took no more bytes")
                view = view[written:]
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        """Keep the first error; drop the rest of the file."""
        if self.error is None:
            self.error = exc.strerror or str(exc)
        file, self._file = self._file, None
        self._lines.clear()
        if file is not None:
            with contextlib.suppress(OSError):  # the error that matters is already kept
                file.close()
