"""The rate part's plain code: does trioload's ``-R`` schedule hold, or is the client the limit?

Each round measures trioload's closed-loop maximum against one server, then runs ``-R`` at
fractions of that round's maximum (``parts.run_rate``). Here: a run's figures from its JSON
report, their medians per load, the table and the verdict.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..report import Verdict, cell, median, worst
from ..tools import dig

DEFAULT_FRACTIONS = (0.25, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1)
#: the target: the schedule holds at every fraction up to this share of the closed-loop max ...
TARGET_FRACTION = 0.9
#: ... where holding means making this share of the asked rate ...
KEPT_SHARE = 0.99
#: ... and sending 99% of the requests at most this long after they were due.
LAG_P99_LIMIT_MS = 2.0
TARGET = (
    f"trioload -R keeps its schedule up to >= {TARGET_FRACTION:g}x its own closed-loop max "
    f"(made >= {KEPT_SHARE:g}x asked, lag p99 <= {LAG_P99_LIMIT_MS:g} ms)"
)
#: the CPU target: up to TARGET_FRACTION, a paced request costs at most this many closed-loop ones.
CPU_RATIO_LIMIT = 1.25
CPU_TARGET = f"trioload -R costs <= {CPU_RATIO_LIMIT:g}x the closed loop's client CPU a request"
#: fewest requests a run makes, however short: below this, p99 rests on a handful of samples.
MIN_REQUESTS = 1000
#: the first closed-loop run's size, before any maximum is known (it is not counted).
WARM_UP_REQUESTS = 5000
#: a closed loop's dip: its slowest whole window this long against its mean (how far the machine's
#: own capacity fell that long: a schedule above that falls behind, whatever the client does).
WINDOW_S = 0.25

#: a load: a fraction of the round's closed-loop max for ``-R``, or None for the closed loop.
Load = float | None


@dataclass(frozen=True, slots=True)
class Figures:
    """What one trioload run reported, or the medians over rounds; None where it did not say."""

    asked: float | None = None  # -R; None in a closed loop
    made: float | None = None
    kept: float | None = None  # made / asked, per run (the asked rate moves with each round's max)
    lag_p50_ms: float | None = None
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None
    late_pct: float | None = None
    due_p99_ms: float | None = None  # corrected: from when each request was due
    sent_p99_ms: float | None = None  # uncorrected: from when it was sent
    cpu_us: float | None = None  # trioload's own report: its run, not its start-up
    failed: int | None = None  # the worst round's, in medians
    dip: float | None = None  # the slowest whole window's req/s over the run's


def figures_from_report(report: Mapping[str, Any]) -> Figures:
    """The figures of trioload's ``--json`` report; a missing key leaves its figure unknown."""
    data = dict(report)
    asked, made = dig(data, "rate"), dig(data, "requests_per_second")
    finished, late, failed = dig(data, "finished"), dig(data, "late"), dig(data, "failed")
    user, system = dig(data, "client_cpu", "user_s"), dig(data, "client_cpu", "sys_s")
    cpu_s = None if user is None or system is None else user + system
    windows: list[dict[str, float]] = data.get("timeline", [])[1:-1]  # the whole ones
    windows = windows if dig(data, "interval_s") == WINDOW_S else []  # a dip run's, only
    rates = [w["finished"] / (w["end_unix_s"] - w["start_unix_s"]) for w in windows
             if w["end_unix_s"] > w["start_unix_s"]]  # fmt: skip
    # A window in which nothing finished leaves no entry: a gap is a window at 0 req/s.
    rates += [0.0 for w, n in itertools.pairwise(windows) if n["start_unix_s"] > w["end_unix_s"]]
    return Figures(
        asked=asked,
        made=made,
        kept=made / asked if made is not None and asked else None,
        lag_p50_ms=dig(data, "latency_ms", "lag", "p50"),
        lag_p99_ms=dig(data, "latency_ms", "lag", "p99"),
        lag_max_ms=dig(data, "latency_ms", "lag", "max"),
        # A closed loop has no schedule to be late for.
        late_pct=100 * late / finished if asked and late is not None and finished else None,
        due_p99_ms=dig(data, "latency_ms", "corrected", "p99"),
        sent_p99_ms=dig(data, "latency_ms", "total", "p99"),
        cpu_us=cpu_s / finished * 1e6 if cpu_s is not None and finished else None,
        failed=None if failed is None else int(failed),
        dip=min(rates) / made if rates and made else None,
    )


def median_figures(runs: Sequence[Figures]) -> Figures:
    """Each figure's median over the runs that reported it; failures: the worst run's."""
    merged: dict[str, Any] = {}
    for field in dataclasses.fields(Figures):
        values = [getattr(run, field.name) for run in runs]
        merged[field.name] = worst(values) if field.name == "failed" else median(values)
    return Figures(**merged)


def requests_for(rate: float, seconds: float) -> int:
    """How many requests keep a run going ``seconds`` at ``rate`` req/s (MIN_REQUESTS at least)."""
    return max(MIN_REQUESTS, round(rate * seconds))


def parse_fractions(text: str) -> tuple[float, ...]:
    """``--rate-fractions``: comma-separated positive shares of the closed-loop max, ascending."""
    try:
        fractions = sorted({float(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from exc
    if not fractions or fractions[0] <= 0:
        raise argparse.ArgumentTypeError(f"give positive fractions, e.g. 0.5,0.9: {text!r}")
    return tuple(fractions)


def keeps_schedule(figures: Figures) -> bool | None:
    """Whether a load kept its schedule (made and lag within the target); None: unknown."""
    if figures.kept is None or figures.lag_p99_ms is None:
        return None
    return figures.kept >= KEPT_SHARE and figures.lag_p99_ms <= LAG_P99_LIMIT_MS


def judge(by_fraction: Mapping[float, Figures], dip: float | None = None) -> Verdict:
    """The target on the medians: the schedule must hold at every fraction up to TARGET_FRACTION
    at least (a miss below it fails, even if one above held); a miss tells the closed loop's dip."""
    highest: float | None = None
    missed = unknown = ""
    for fraction in sorted(by_fraction):
        figures = by_fraction[fraction]
        keeps = keeps_schedule(figures)
        if keeps is None:
            unknown = f"no figures at {fraction:g}x"
            break
        if not keeps:
            missed = (
                f"behind at {fraction:g}x: made {figures.kept:.3f}x asked,"
                f" lag p99 {figures.lag_p99_ms:.2f} ms"
            ) + (f" (the closed loop's own dip: {dip:.2f}x)" if dip is not None else "")
            break
        highest = fraction
    reached = highest is not None and highest >= TARGET_FRACTION
    kept = f"kept up to {highest:g}x" if highest is not None else "kept at no fraction"
    if not reached and not missed:
        stop = "no -R load ran" if highest is None else f"the fractions stop at {highest:g}x"
        return Verdict(TARGET, f"n/a ({kept}; {unknown or stop})", None)
    return Verdict(TARGET, "; ".join(part for part in (kept, missed, unknown) if part), reached)


def medians(results: Mapping[Load, Sequence[Figures | str]]) -> dict[Load, Figures]:
    """Each load's medians over the runs that reported (runs that failed are counted out)."""
    return {
        load: median_figures([r for r in runs if isinstance(r, Figures)])
        for load, runs in results.items()
    }


def verdict_of(results: Mapping[Load, Sequence[Figures | str]]) -> Verdict:
    """The schedule's target judged on each ``-R`` load's medians."""
    by_load = medians(results)
    by_fraction = {load: figures for load, figures in by_load.items() if load is not None}
    return judge(by_fraction, by_load.get(None, Figures()).dip)


def cpu_verdict(results: Mapping[Load, Sequence[Figures | str]]) -> Verdict:
    """The CPU a request of each ``-R`` load up to TARGET_FRACTION against the closed loop's."""
    by_load = medians(results)
    closed = by_load.get(None, Figures()).cpu_us
    ratios = {
        load: f.cpu_us / closed for load, f in by_load.items() if load and f.cpu_us and closed
    }
    ratios = {load: ratio for load, ratio in ratios.items() if load <= TARGET_FRACTION}
    if not ratios:
        return Verdict(CPU_TARGET, "n/a (no CPU figures)", None)
    worst = max(ratios, key=ratios.__getitem__)
    shown = ", ".join(f"{load:g}x: {ratio:.2f}" for load, ratio in sorted(ratios.items()))
    return Verdict(CPU_TARGET, f"worst {worst:g}x ({shown})", ratios[worst] <= CPU_RATIO_LIMIT)


def load_label(load: Load) -> str:
    return "closed loop" if load is None else f"-R {load:g}x"


#: the table's figure columns: header, ``Figures`` field, format.
COLUMNS = (
    ("asked req/s", "asked", ",.0f"), ("made req/s", "made", ",.0f"),
    ("made/asked", "kept", ".3f"), ("lag p50 ms", "lag_p50_ms", ".3f"),
    ("lag p99 ms", "lag_p99_ms", ".3f"), ("lag max ms", "lag_max_ms", ".2f"),
    ("late %", "late_pct", ".2f"), ("p99 from due ms", "due_p99_ms", ".2f"),
    ("p99 from sent ms", "sent_p99_ms", ".2f"), ("client CPU µs/req", "cpu_us", ".1f"),
    ("failed (worst)", "failed", "d"), (f"dip ({WINDOW_S:g} s)", "dip", ".2f"),
)  # fmt: skip
HEADERS = ["load", "runs", *(header for header, _, _ in COLUMNS)]
NUMERIC = range(1, len(HEADERS))


def cells(load: Load, runs: Sequence[Figures | str]) -> list[str]:
    """One table row: a load's medians over the runs that reported (errors are counted out)."""
    good = [run for run in runs if isinstance(run, Figures)]
    medians = median_figures(good)
    figures = [cell(getattr(medians, name), fmt) for _, name, fmt in COLUMNS]
    return [load_label(load), f"{len(good)}/{len(runs)}", *figures]
