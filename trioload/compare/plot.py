"""``trioload plot compare.json -o out.png``: a comparison drawn. Per target, req/s and server
CPU a request as bars with their 95% intervals as whiskers, ranked from the top; under them,
the targets' latency by percentile (their counted runs' histograms added), overlaid as
``trioload plot`` draws runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from trioload.compare.document import TargetFigures, target_figures
from trioload.config import UsageError
from trioload.output.plot import RunSeries, draw_spectrum, spectrum


def series(figures: Sequence[TargetFigures]) -> list[RunSeries]:
    """Each target's latency spectrum, as the run plot draws one."""
    return [
        RunSeries(
            label=target.name,
            phase=target.phase,
            count=target.latency.get_total_count(),
            spectrum=tuple(spectrum(target.latency)),
            timeline=(),
        )
        for target in figures
        if target.latency.get_total_count()
    ]


def compare_drawing(document: dict[str, Any], output: str, title: str | None) -> Callable[[], None]:
    """The drawing of a comparison, its figures read already: UsageError for a damaged
    document now, rather than halfway through the drawing."""
    try:
        figures = target_figures(document)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return partial(draw_compare, figures, output, title or f"trioload compare: {document['run']}")


def draw_compare(figures: Sequence[TargetFigures], output: str, title: str) -> None:
    """The figure, written to ``output`` as PNG. ImportError without matplotlib."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(10, 10), layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subfigures(2, 1, height_ratios=[1, 1.3])  # type: ignore[misc]
    rps_axes, cpu_axes = top.subplots(1, 2)
    _bars(rps_axes, [(t, t.rps) for t in figures], "req/s (median, 95% interval)")
    cpu = [(t, t.server_cpu) for t in figures]
    _bars(cpu_axes, cpu, "server CPU µs/request (median, 95% interval)")
    runs = series(figures)
    if runs:
        draw_spectrum(runs, bottom.subplots())
    figure.suptitle(title, fontsize="large")
    figure.savefig(output, format="png", dpi=100)


#: a target and one of its figures: (median, lo, hi), or None where it was not measured.
Bar = tuple[TargetFigures, tuple[float, float, float] | None]


def _bars(axes: Any, bars: Sequence[Bar], what: str) -> None:
    names, medians, below, above, colors = [], [], [], [], []
    for number, (target, triple) in enumerate(bars):
        if triple is None:
            continue
        median, lo, hi = triple
        names.append(target.name)
        medians.append(median)
        below.append(median - lo)
        above.append(hi - median)
        colors.append(f"C{number}")  # the spectrum's colour for the same target
    if not names:
        axes.set_axis_off()
        axes.set_title(f"{what}: not measured")
        return
    # Horizontal, ranked from the top: a server's name is as long as it needs to be.
    axes.barh(names, medians, xerr=[below, above], color=colors, capsize=4, alpha=0.85)
    axes.invert_yaxis()
    axes.set_title(what, fontsize="medium")
    axes.set_xlim(left=0)
    axes.grid(True, axis="x", alpha=0.4)
