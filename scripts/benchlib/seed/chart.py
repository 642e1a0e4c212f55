"""The seed table as a PNG: req/s against the seed's, and server CPU a request, per server.

matplotlib is the optional ``plot`` extra (``pip install -e '.[plot]'``): it is imported
only when a chart is drawn, and without it the chart is skipped with a one-line note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .report import SeedRow

SKIPPED = (
    "chart skipped: matplotlib is not installed"
    " (.venv/bin/pip install -e '.[plot]', or pip install matplotlib)"
)
SEED_LABEL = "seed (other machine)"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its height and how far the rounds strayed below and above it."""

    value: float
    below: float = 0.0
    above: float = 0.0


@dataclass(slots=True)
class ServerBars:
    """Everything the chart draws for one server."""

    server: str
    seed: float | None = None
    seed_rank: int | None = None
    #: req/s here, by client
    rps: dict[str, Bar] = field(default_factory=dict)
    #: server CPU µs a request (the ranking figure) and the client it was measured under
    cpu: Bar | None = None
    cpu_client: str = ""


def _bar(median: float | None, span: tuple[float, float] | None) -> Bar | None:
    if median is None:
        return None
    low, high = span if span is not None else (median, median)
    return Bar(median, median - low, high - median)


def chart_series(rows: Sequence[SeedRow]) -> list[ServerBars]:
    """Per server, in the rows' order: the seed's req/s, ours by client, and server CPU."""
    servers: dict[str, ServerBars] = {}
    for row in rows:
        bars = servers.setdefault(
            row.server, ServerBars(row.server, seed=row.seed_rps, seed_rank=row.seed_rank)
        )
        fig = row.figures
        if fig is None:
            continue
        if (rps := _bar(fig.requests_per_second, fig.rps_range)) is not None:
            bars.rps[row.client] = rps
        cpu = _bar(fig.server_cpu_us, fig.server_cpu_range)
        if bars.cpu is None and cpu is not None:  # the first client's, as the ranking uses
            bars.cpu, bars.cpu_client = cpu, row.client
    return list(servers.values())


def write_chart(rows: Sequence[SeedRow], clients: Sequence[str], path: Path, title: str) -> str:
    """Draw the two panels into ``path``; return what happened, in one line."""
    try:
        import matplotlib  # noqa: PLC0415  (optional extra: imported only when drawing)

        matplotlib.use("Agg")  # no display here; must precede pyplot's import
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return SKIPPED
    series = chart_series(rows)
    names = [
        f"{bars.server} (seed #{bars.seed_rank})" if bars.seed_rank else bars.server
        for bars in series
    ]
    # Horizontal bars: the servers' names read across, top (cheapest) to bottom.
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(15, 1.8 + 0.6 * len(series)), sharey=True,
        gridspec_kw={"width_ratios": [3, 2]},
    )  # fmt: skip
    groups = [SEED_LABEL, *clients]
    height = 0.8 / len(groups)
    for index, label in enumerate(groups):
        ys, bars = [], []
        for row_y, server in enumerate(series):
            bar = Bar(server.seed) if label == SEED_LABEL and server.seed else server.rps.get(label)
            if bar is not None:
                ys.append(row_y - 0.4 + height * (index + 0.5))
                bars.append(bar)
        left.barh(
            ys, [b.value for b in bars], height=height, label=label,
            xerr=[[b.below for b in bars], [b.above for b in bars]] if label != SEED_LABEL
            else None, capsize=2, color="0.7" if label == SEED_LABEL else None,
        )  # fmt: skip
    left.set_yticks(range(len(names)), names)
    left.invert_yaxis()
    left.set_title("requests/s: the seed's and here", loc="right", fontsize="medium")
    left.set_xlabel("requests/s (bars: median; whiskers: min-max over rounds)")
    left.xaxis.set_major_formatter(lambda value, _pos: f"{value / 1000:.0f}k")
    # Above the panel, so no bar can hide under it.
    left.legend(loc="lower left", bbox_to_anchor=(0, 1), ncol=len(groups), frameon=False)
    left.grid(axis="x", alpha=0.3)
    measured = [(y, s.cpu) for y, s in enumerate(series) if s.cpu is not None]
    right.barh(
        [y for y, _ in measured], [cpu.value for _, cpu in measured], height=0.6,
        xerr=[[cpu.below for _, cpu in measured], [cpu.above for _, cpu in measured]],
        capsize=3, color="tab:green",
    )  # fmt: skip
    for y, server in enumerate(series):
        if server.cpu is not None:
            other = f" ({server.cpu_client})" if server.cpu_client != clients[0] else ""
            where = (server.cpu.value + server.cpu.above, y)
            right.annotate(f" {server.cpu.value:.1f}{other}", where, va="center", fontsize=8)
        else:
            right.annotate(" not measured here", (0, y), va="center", fontsize=8, color="0.4")
    right.set_title("server CPU a request: the ranking", fontsize="medium")
    right.set_xlabel(f"server CPU µs/request (under {clients[0]}; min-max whiskers)")
    right.margins(x=0.15)
    right.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"chart written to {path}"
