"""Sans-IO HdrHistogram files: the interval log (``--hdr-log``) and the percentile
distribution (``--hgrm``), in the layouts HdrHistogram's own tools read.

- The interval log is format 1.3: a header (version, StartTime, BaseTime, legend), then one
  line per interval and phase, tagged with the phase: ``Tag=total,start,length,max,payload``.
  Timestamps are seconds from StartTime; ``max`` is in milliseconds; the payload is the
  interval's histogram in hdrh's compressed encoding, with values in microseconds (so
  HistogramLogProcessor wants ``-outputValueUnitRatio 1000`` for milliseconds). The
  ``hdrhistogram`` package's writer only writes format 1.2 without tags, so the lines are
  formatted here; its reader is what the tests read them back with.
- The ``.hgrm`` file is hdrh's own ``output_percentile_distribution``, in milliseconds.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime

from hdrh.histogram import HdrHistogram

from trioload.results.tally import ALL_PHASES, new_histogram
from trioload.results.timeline import Interval

LOG_FORMAT_VERSION = "1.3"
US_PER_MS = 1000.0


def format_interval_log(timeline: Iterable[Interval], start_unix: float) -> str:
    """The interval log of a run that began at ``start_unix``."""
    started = datetime.fromtimestamp(start_unix, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    lines = [
        f"#[Histogram log format version {LOG_FORMAT_VERSION}]",
        f"#[StartTime: {start_unix:.3f} (seconds since epoch), {started}]",
        f"#[BaseTime: {start_unix:.3f} (seconds since epoch)]",
        "#[Values in microseconds; Interval_Max in milliseconds]",
        '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"',
    ]
    scratch = new_histogram()
    for entry in timeline:
        offset = entry.start_unix_s - start_unix
        length = entry.end_unix_s - entry.start_unix_s
        for phase in ALL_PHASES:
            histogram = entry.histogram(phase, scratch)
            if histogram is None:
                continue
            peak = histogram.get_max_value() / US_PER_MS
            lines.append(f"Tag={phase},{offset:.3f},{length:.3f},{peak:.3f},{entry.hdr[phase]}")
    return "\n".join(lines) + "\n"


def format_hgrm(histogram: HdrHistogram) -> str:
    """The percentile distribution of ``histogram`` (µs) in milliseconds, ``.hgrm`` layout."""
    out = io.BytesIO()
    histogram.output_percentile_distribution(out, US_PER_MS)
    return out.getvalue().decode("ascii")
