"""``trioload plot RUN.json [RUN2.json ...] -o out.png``: one PNG of the runs' --json reports.

The main panel is the HDR percentile spectrum, as HdrHistogram's plotter draws it: latency
against percentile on a log axis of 1/(1-p), so that 90%, 99%, 99.9%... are evenly spaced;
several runs overlaid. Where the reports carry a timeline, two panels under it show
throughput and p99 over time, in seconds since each run's start.

Reading (``run_series``: a parsed report to plain series) is kept apart from drawing, and
matplotlib, an optional extra, is imported only to draw.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from trioload.argtypes import OneLineParser
from trioload.compare.document import is_compare
from trioload.config import UsageError
from trioload.knee.plot import is_knee, knee_drawing
from trioload.output.outputs import check_writable
from trioload.results.merge import load_report, read_document
from trioload.results.result import lead_phase_of

DEFAULT_OUTPUT = "trioload-plot.png"
NO_MATPLOTLIB = "trioload plot needs matplotlib: pip install 'trioserve-trioload[plot]'"

DESCRIPTION = """\
Draw the --json reports of one or more runs into one PNG: the HDR percentile spectrum
(latency against percentile, on HdrHistogram's log axis of 1/(1-p)), runs overlaid; and,
where the reports have a timeline, throughput and p99 over time. The latency is the one the
text report leads with: from when each request was due with --rate, else ab's total.

Needs matplotlib: pip install 'trioserve-trioload[plot]'.
"""


@dataclass(frozen=True, slots=True)
class SpectrumPoint:
    """A corner of the spectrum's staircase: at ``percentile`` (0-100) the latency is
    ``latency_ms``; ``x`` is 1/(1-p), capped at the run's sample count (its resolution)."""

    percentile: float
    x: float
    latency_ms: float


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One ``--interval`` of a run, in seconds since the run's start."""

    start_s: float
    end_s: float
    requests_per_s: float
    #: None where nothing of the lead latency was recorded in the interval.
    p99_ms: float | None
    #: under a schedule, the rate it asked for in the interval; else None.
    asked_per_s: float | None = None


@dataclass(frozen=True, slots=True)
class RunSeries:
    """What the figure draws of one run."""

    label: str
    #: the latency drawn: "total", or "corrected" (from when due) for a --rate run.
    phase: str
    count: int
    spectrum: tuple[SpectrumPoint, ...]
    timeline: tuple[TimelinePoint, ...]


# -- reading (sans-IO) -------------------------------------------------------------------------


def run_series(report: dict[str, Any], label: str | None = None) -> RunSeries:
    """A parsed report's series; the label defaults to its URL. UsageError without the
    histogram to draw."""
    phase = lead_phase_of(report.get("rate"))
    encoded = (report.get("hdr") or {}).get(phase)
    if not encoded:
        raise UsageError(f"has no '{phase}' hdr histogram (no request finished?)")
    try:
        histogram = HdrHistogram.decode(encoded.encode("ascii"))
    except Exception:  # hdrh raises its own exceptions besides binascii's and zlib's
        raise UsageError(f"has a damaged '{phase}' hdr histogram") from None
    return RunSeries(
        label=report["url"] if label is None else label,
        phase=phase,
        count=histogram.get_total_count(),
        spectrum=tuple(spectrum(histogram)),
        timeline=tuple(timeline(report)),
    )


def spectrum(histogram: HdrHistogram) -> list[SpectrumPoint]:
    """The percentile spectrum as a staircase: each bucket's value from the percentile below
    its first sample to the percentile of its last (two corners per bucket holding samples).

    One pass over the counts, as ``phase_summary`` does: hdrh's percentile iterator walks
    every bucket per step in pure Python. A value is its bucket's highest equivalent, as in
    hdrh's percentiles and the text report.
    """
    counts: Any = histogram.counts
    total = histogram.get_total_count()
    value_at = histogram.get_value_from_index
    highest = histogram.get_highest_equivalent_value
    points: list[SpectrumPoint] = []
    seen = 0
    for index, count in enumerate(counts):
        if not count:
            continue
        latency_ms = highest(value_at(index)) / 1000.0
        points.append(_corner(seen, total, latency_ms))
        seen += count
        points.append(_corner(seen, total, latency_ms))
    return points


def _corner(seen: int, total: int, latency_ms: float) -> SpectrumPoint:
    # From the counts, not from a float percentile: 1 - p loses digits next to 100%. The
    # cap is the run's resolution: with N samples, nothing is known beyond 1/(1-p) = N.
    x = total / (total - seen) if seen < total else math.inf
    return SpectrumPoint(100.0 * seen / total, min(x, float(total)), latency_ms)


def timeline(report: dict[str, Any]) -> list[TimelinePoint]:
    """The report's timeline entries, timed from the run's start (its window's first
    request, else its first entry)."""
    entries = report.get("timeline") or []
    if not entries:
        return []
    window = report.get("window_unix_s")
    origin = window[0] if window else entries[0]["start_unix_s"]
    points = []
    for entry in entries:
        start, end = entry["start_unix_s"], entry["end_unix_s"]
        if end <= start:  # a zero-length last cut: no rate to speak of
            continue
        # each at its own length: a last, partial interval is no spike
        rate = entry["finished"] / (end - start)
        asked = entry.get("asked")
        asked_rate = None if asked is None else asked / (end - start)
        points.append(
            TimelinePoint(start - origin, end - origin, rate, entry.get("p99_ms"), asked_rate)
        )
    return points


def steps(
    points: Sequence[TimelinePoint], value: Callable[[TimelinePoint], float | None], gap: float
) -> tuple[list[float], list[float]]:
    """x and y of a step line holding each interval's value across the interval; where the
    timeline skips time (an interval in which nothing finished leaves no entry), it is
    ``gap`` there (0 for throughput; NaN for p99, which breaks the line). A missing value
    is NaN too."""
    xs: list[float] = []
    ys: list[float] = []
    for previous, point in zip([None, *points], points, strict=False):
        if previous is not None and point.start_s - previous.end_s > 1e-6:
            xs += [previous.end_s, point.start_s]
            ys += [gap, gap]
        figure = value(point)
        level = math.nan if figure is None else figure
        xs += [point.start_s, point.end_s]
        ys += [level, level]
    return xs, ys


def default_labels(paths: Sequence[str], reports: Sequence[dict[str, Any]]) -> list[str]:
    """Each run's URL; runs of the same URL are told apart by their file's name."""
    urls = [str(report["url"]) for report in reports]
    repeated = Counter(urls)
    return [
        f"{url} ({Path(path).name})" if repeated[url] > 1 else url
        for url, path in zip(urls, paths, strict=True)
    ]


def percentile_ticks(largest_x: float) -> list[tuple[float, str]]:
    """HdrHistogram's ticks: 1 (0%), 10 (90%), 100 (99%)... up to the first at or past
    ``largest_x``; 90% at least, so that a small run still has a scale."""
    last = 1
    while 10**last < largest_x:  # whole numbers: log10 may land a hair off a power of ten
        last += 1
    return [
        (10.0**power, f"{100 - 100 / 10**power:.{max(power - 2, 0)}f}%")
        for power in range(last + 1)
    ]


# -- drawing ----------------------------------------------------------------------------------


def draw(runs: Sequence[RunSeries], output: str, title: str | None) -> None:
    """The figure, written to ``output`` as PNG. ImportError without matplotlib."""
    # Figure and the Agg canvas, without pyplot: no backend to choose, no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    timed = any(run.timeline for run in runs)
    figure = Figure(figsize=(10, 10.5 if timed else 6), layout="constrained")
    FigureCanvasAgg(figure)
    if timed:
        top, rate_axes, p99_axes = figure.subplots(3, 1, gridspec_kw={"height_ratios": [2.2, 1, 1]})
        rate_axes.sharex(p99_axes)
        draw_timelines(runs, rate_axes, p99_axes)
    else:
        top = figure.subplots()
    draw_spectrum(runs, top)
    if title:
        figure.suptitle(title, fontsize="x-large")
    figure.savefig(output, format="png", dpi=100)


def draw_spectrum(runs: Sequence[RunSeries], axes: Any) -> None:
    """The percentile spectrum of each run, on HdrHistogram's 1/(1-p) axis."""
    from matplotlib.ticker import NullFormatter  # noqa: PLC0415

    phases = {run.phase for run in runs}
    for number, run in enumerate(runs):
        # The phase goes in the legend only when runs differ in it; else the y label says it.
        label = run.label if len(phases) == 1 else f"{run.label} ({phase_name(run.phase)})"
        xs = [point.x for point in run.spectrum]
        ys = [point.latency_ms for point in run.spectrum]
        axes.plot(xs, ys, color=f"C{number}", linewidth=1.6, label=label)
    largest = max(run.count for run in runs)
    ticks = percentile_ticks(largest)
    axes.set_xscale("log")
    axes.set_xticks([x for x, _ in ticks], [text for _, text in ticks])
    # To the next decade's tick: the curves stop at their own resolution, the scale goes on.
    axes.set_xlim(1, ticks[-1][0])
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_ylim(bottom=0)
    axes.set_xlabel("percentile")
    only = phases.pop() if len(phases) == 1 else None
    axes.set_ylabel(f"{phase_name(only)} latency (ms)" if only else "latency (ms)")
    axes.set_title("latency by percentile")
    axes.grid(True, which="major", alpha=0.4)
    axes.legend(loc="upper left", fontsize="small")


def draw_timelines(runs: Sequence[RunSeries], rate_axes: Any, p99_axes: Any) -> None:
    """Throughput and p99 over time, one line per run that has a timeline."""
    for number, run in enumerate(runs):
        if not run.timeline:
            continue
        color = f"C{number}"  # the spectrum's colour: its legend names the run
        xs, ys = steps(run.timeline, lambda point: point.requests_per_s, 0.0)
        rate_axes.plot(xs, ys, color=color, linewidth=1.4)
        if any(point.asked_per_s is not None for point in run.timeline):
            xs, ys = steps(run.timeline, lambda point: point.asked_per_s, math.nan)
            rate_axes.plot(xs, ys, color=color, linewidth=1.0, linestyle="--")
        xs, ys = steps(run.timeline, lambda point: point.p99_ms, math.nan)
        p99_axes.plot(xs, ys, color=color, linewidth=1.4)
    rate_axes.set_ylabel("requests/s: finished (dashed: asked)")
    for axes, what in ((rate_axes, None), (p99_axes, "p99 (ms)")):
        if what is not None:
            axes.set_ylabel(what)
        axes.set_ylim(bottom=0)
        axes.set_xlim(left=0)
        axes.grid(True, alpha=0.4)
    rate_axes.set_title("over time (each step: one --interval)")
    rate_axes.tick_params(labelbottom=False)
    p99_axes.set_xlabel("seconds since the run's start")


def phase_name(phase: str) -> str:
    return "from due time" if phase == "corrected" else phase


# -- command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="trioload plot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "reports",
        nargs="+",
        metavar="RUN.json",
        help="JSON reports written by trioload --json (or one by trioload compare or trioload "
        "knee --json)",
    )
    add(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="FILE",
        help=f"the PNG to write (default {DEFAULT_OUTPUT})",
    )
    add(
        "--label",
        action="append",
        metavar="TEXT",
        help="a run's name in the legend; once per run, in order (default: its URL)",
    )
    add("--title", metavar="TEXT", help="a title over the figure")
    return parser


def read_runs(paths: Sequence[str], labels: Sequence[str] | None) -> list[RunSeries]:
    """Each file's series; UsageError, naming the file, for one that cannot be drawn."""
    reports = [load_report(path) for path in paths]
    names = list(labels) if labels is not None else default_labels(paths, reports)
    runs = []
    for path, report, name in zip(paths, reports, names, strict=True):
        try:
            runs.append(run_series(report, name))
        except UsageError as exc:
            raise UsageError(f"{path} {exc}") from None
    return runs


def _one_document(paths: Sequence[str]) -> dict[str, Any] | None:
    """The ``trioload compare`` or ``trioload knee`` document, when the one file given is one."""
    if len(paths) != 1:
        return None
    try:
        document = read_document(paths[0])
    except UsageError:
        return None  # read_runs says what is wrong with it
    return document if is_compare(document) or is_knee(document) else None


def _drawing(args: argparse.Namespace, compared: dict[str, Any] | None) -> Callable[[], None]:
    """What to draw (``compared``: the one file is a comparison), every file read and checked
    first; UsageError naming what is wrong."""
    if compared is not None and is_knee(compared):
        return knee_drawing(compared, args.output, args.title)
    if compared is not None:
        # compare.plot draws with this module's spectrum: imported here, so the imports
        # between the two modules go one way.
        from trioload.compare.plot import compare_drawing  # noqa: PLC0415

        return compare_drawing(compared, args.output, args.title)
    runs = read_runs(args.reports, args.label)
    return partial(draw, runs, args.output, args.title)


def main(argv: list[str]) -> int:
    """Draw the runs' JSON reports (or one comparison's) into one PNG; the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    compared = _one_document(args.reports)
    if compared is None and args.label is not None and len(args.label) != len(args.reports):
        count = len(args.reports)
        parser.error(f"{len(args.label)} --label for {count} run{'s' * (count != 1)} (one per run)")
    try:
        check_writable({"-o": args.output})
        drawing = _drawing(args, compared)
    except UsageError as exc:
        print(f"trioload plot: {exc}", file=sys.stderr)
        return 2
    try:
        drawing()
    except ImportError:
        print(NO_MATPLOTLIB, file=sys.stderr)
        return 2
    except OSError as exc:  # checked above, but a disk can still fill up
        print(f"trioload plot: could not write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    print(args.output)
    return 0
