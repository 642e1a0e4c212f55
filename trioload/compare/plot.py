"""``trioload plot compare.json -o out.png``: a comparison drawn. Per target, req/s and server
CPU a request as bars with their 95% intervals as whiskers, ranked from the top; under them,
the targets' latency by percentile (their counted runs' histograms added), overlaid as
``trioload plot`` draws runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trioload.compare.document import TargetFigures, target_figures
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


def draw_compare(document: dict[str, Any], output: str, title: str | None) -> None:
    """The figure, written to ``output`` as PNG. ValueError for a damaged document,
    ImportError without matplotlib."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    figures = target_figures(document)
    figure = Figure(figsize=(10, 10), layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subfigures(2, 1, height_ratios=[1, 1.3])  # type: ignore[misc]
    rps_axes, cpu_axes = top.subplots(1, 2)
    _bars(rps_axes, figures, "rps", "req/s (median, 95% interval)")
    _bars(cpu_axes, figures, "server_cpu", "server CPU µs/request (median, 95% interval)")
    runs = series(figures)
    if runs:
        draw_spectrum(runs, bottom.subplots())
    figure.suptitle(title or f"trioload compare: {document.get('run', '')}", fontsize="large")
    figure.savefig(output, format="png", dpi=100)


def _bars(axes: Any, figures: Sequence[TargetFigures], metric: str, what: str) -> None:
    names, medians, below, above, colors = [], [], [], [], []
    for number, target in enumerate(figures):
        triple = target.rps if metric == "rps" else target.server_cpu
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
