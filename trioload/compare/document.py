"""A comparison's JSON: written here, and read back here (``trioload plot compare.json``).

Nothing measured is dropped: every run keeps trioload's whole JSON result (histograms,
timeline, counters), the warm-up's too (``round`` -1, not counted), beside the summaries and
the comparisons the report shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hdrh.histogram import HdrHistogram

from trioload.compare import stats
from trioload.compare.outcome import Outcome, RunRecord
from trioload.compare.plan import ComparePlan, Target
from trioload.compare.summary import MetricComparison, Summary, TargetSummary
from trioload.results.result import lead_phase_of
from trioload.results.result import to_json_dict as run_json
from trioload.results.tally import new_histogram
from trioload.results.timeline import decode_into

#: what marks a comparison's JSON apart from a run's.
KIND = "trioload-compare"
#: JSON key of each metric's estimate in a target.
ESTIMATE_KEYS = {
    "rps": "rps",
    "p50": "p50_ms",
    "p99": "p99_ms",
    "server_cpu": "server_cpu_us_per_request",
    "client_cpu": "client_cpu_share",
}


def format_json(plan: ComparePlan, outcome: Outcome, summary: Summary) -> str:
    return json.dumps(to_json_dict(plan, outcome, summary), indent=2) + "\n"


def to_json_dict(plan: ComparePlan, outcome: Outcome, summary: Summary) -> dict[str, Any]:
    ranks = {target.name: place for place, target in enumerate(summary.ranked, 1)}
    counted = {id(run) for run in outcome.counted()}
    by_name = {target.name: target for target in summary.ranked}
    return {
        "kind": KIND,
        "run": plan.run_description,
        "rounds": plan.rounds,
        "rounds_completed": outcome.rounds_completed,
        "interrupted": outcome.interrupted,
        "order": "alternating" if plan.seed is None else f"shuffled, seed {plan.seed}",
        "warmup": plan.warmup,
        "pause_s": plan.pause_s,
        "baseline": plan.baseline,
        "rank_by": plan.rank_by,
        "targets": [
            _target(target, by_name[target.name], ranks[target.name], outcome, counted)
            for target in plan.targets
        ],
        "comparisons": [_comparison(c) for c in summary.comparisons],
        "warnings": list(summary.warnings),
    }


def _target(
    planned: Target, summary: TargetSummary, rank: int, outcome: Outcome, counted: set[int]
) -> dict[str, Any]:
    name = planned.name
    target: dict[str, Any] = {
        "name": name,
        "url": planned.url,
        "rank": rank,
        "serve": list(planned.serve) if planned.serve is not None else None,
        "pid": planned.pid,
        "runs": [_run(run, id(run) in counted) for run in outcome.runs if run.target == name],
        "runs_counted": summary.runs,
        "finished": summary.finished,
        "failed": summary.failed,
        "client_bound_runs": summary.client_bound_runs,
        "died_after_round": summary.died_after_round,
    }
    for metric, key in ESTIMATE_KEYS.items():
        estimate = summary.estimates.get(metric)
        target[key] = _estimate(estimate) if estimate is not None else None
    return target


def _run(run: RunRecord, counted: bool) -> dict[str, Any]:
    return {
        "round": run.round,
        "position": run.position,
        "counted": counted,
        "server_cpu_s": run.server_cpu_s,
        "server_cpu_us_per_request": run.server_cpu_us_per_request,
        "server_alive": run.server_alive,
        "result": run_json(run.result),
    }


def _estimate(estimate: stats.Estimate) -> dict[str, Any]:
    return {"median": estimate.median, "ci95": list(estimate.ci95), "n": estimate.n}


def _comparison(found: MetricComparison) -> dict[str, Any]:
    comparison = found.comparison
    return {
        "name": found.name,
        "baseline": found.baseline,
        "metric": found.metric,
        "ratio": comparison.ratio if comparison else None,
        "ci95": list(comparison.ci95) if comparison else None,
        "p_value": comparison.p_value if comparison else None,
        "significant": comparison.significant if comparison else False,
        "verdict": stats.verdict(comparison) if comparison else None,
        "missing": found.missing,
    }


# -- reading back ------------------------------------------------------------------------------


def is_compare(document: dict[str, Any]) -> bool:
    return document.get("kind") == KIND


@dataclass(frozen=True, slots=True)
class TargetFigures:
    """What a plot draws of one target: its estimates, and its counted runs' latencies."""

    name: str
    rps: tuple[float, float, float] | None  # median, lo, hi
    server_cpu: tuple[float, float, float] | None
    #: the lead latency of its counted runs, in one histogram.
    latency: HdrHistogram
    phase: str


def target_figures(document: dict[str, Any]) -> list[TargetFigures]:
    """Each target's figures, in ranked order; ValueError for a document that is not a whole
    comparison."""
    try:
        targets = sorted(document["targets"], key=lambda target: target["rank"])
        return [_figures(target) for target in targets]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a trioload compare document ({exc!r})") from None


def _figures(target: dict[str, Any]) -> TargetFigures:
    counted = [run["result"] for run in target["runs"] if run["counted"]]
    # every run of a comparison has the same flags, so the same lead latency
    phase = lead_phase_of(counted[0].get("rate")) if counted else "total"
    encodings = [encoded for result in counted if (encoded := result["hdr"].get(phase))]
    try:
        histogram = decode_into(new_histogram(), encodings)
    except Exception as exc:  # hdrh raises its own exceptions besides binascii's and zlib's
        raise ValueError(f"a histogram that does not decode ({exc!r})") from None
    return TargetFigures(
        target["name"], _triple(target["rps"]), _triple(target["server_cpu_us_per_request"]),
        histogram, phase,
    )  # fmt: skip


def _triple(estimate: dict[str, Any] | None) -> tuple[float, float, float] | None:
    if estimate is None:
        return None
    lo, hi = estimate["ci95"]
    return float(estimate["median"]), float(lo), float(hi)
