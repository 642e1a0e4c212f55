"""``trioload plot knee.json -o knee.png``: the hockey stick. Latency from when due (p50 and
p99) against the rate offered, one point per step (a circle passed, a cross failed, a
triangle where trioload was the limit), each latency SLO as a line, the knee as a line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from trioload.config import UsageError
from trioload.knee.slo import verdict_label


def is_knee(document: dict[str, Any]) -> bool:
    """Whether a JSON document is ``trioload knee --json``'s."""
    return document.get("knee") is True and isinstance(document.get("steps"), list)


@dataclass(frozen=True, slots=True)
class KneePoint:
    """One step: the rate asked, its p50 and p99 from when due (None: none measured)."""

    rate: float
    p50_ms: float | None
    p99_ms: float | None
    mark: str  # "pass", "fail" or "client-bound"


def knee_points(document: dict[str, Any]) -> list[KneePoint]:
    """The steps by rate; ValueError for a step the document does not describe."""
    points = []
    for step in document["steps"]:
        lead = step["result"]["latency_ms"].get("corrected") or {}
        mark = verdict_label(step["passed"], step["client_bound"])
        points.append(KneePoint(float(step["rate"]), lead.get("p50"), lead.get("p99"), mark))
    return sorted(points, key=lambda point: point.rate)


def knee_drawing(document: dict[str, Any], output: str, title: str | None) -> Callable[[], None]:
    """The drawing of a knee search, read first: UsageError for a damaged document."""
    try:
        points = knee_points(document)
        slos = [
            (str(s["what"]), float(s["limit"])) for s in document["slo"] if s["what"] != "failed"
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"is not a whole trioload knee document ({exc})") from None
    title = title or f"trioload knee: {document.get('url', '')}"
    return partial(draw_knee, points, slos, document.get("knee_rps"), output, title)


_MARKERS = {"pass": "o", "fail": "x", "client-bound": "^"}


def draw_knee(
    points: list[KneePoint],
    slos: list[tuple[str, float]],
    knee: float | None,
    output: str,
    title: str,
) -> None:
    """The figure, written to ``output`` as PNG. ImportError without matplotlib."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(9, 6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    rates = [point.rate for point in points]
    for name, color, value in (("p50", "C0", "p50_ms"), ("p99", "C1", "p99_ms")):
        ys = [getattr(point, value) for point in points]
        axes.plot(rates, [y if y is not None else float("nan") for y in ys], color=color,
                  linewidth=1.2, label=f"{name} from due time")  # fmt: skip
        for point, y in zip(points, ys, strict=True):
            if y is not None:
                axes.plot(point.rate, y, _MARKERS[point.mark], color=color)
    for what, limit in slos:
        axes.axhline(
            limit, color="C3", linestyle="--", linewidth=1.0, label=f"SLO {what} {limit:g} ms"
        )
    if knee is not None:
        axes.axvline(knee, color="C2", linewidth=1.2, label=f"knee {knee:,.0f} req/s")
    axes.set_yscale("log")
    axes.set_xlabel("rate offered (requests/s); o passed, x failed, ^ client-bound")
    axes.set_ylabel("latency (ms, log scale)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    figure.suptitle(title, fontsize="large")
    figure.savefig(output, format="png", dpi=100)
