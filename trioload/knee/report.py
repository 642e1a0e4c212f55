"""Sans-IO report of ``trioload knee``: the latency-against-offered-rate table, the answer
(the knee, the last step that passed and the first that failed, or why there is none), and
the JSON that keeps every step's whole result."""

from __future__ import annotations

import json
from typing import Any

from trioload.knee.outcome import KneeOutcome, KneePlan, Step
from trioload.knee.search import Ending
from trioload.knee.slo import CLIENT_BUSY_SHARE, CLIENT_LATE_SHARE
from trioload.results.result import to_json_dict

HEADERS = ("asked req/s", "made req/s", "p50 ms", "p99 ms", "failed", "client CPU", "verdict")


def knee_rps(outcome: KneeOutcome) -> float | None:
    """The server's knee: the highest rate that passed, where the search ended on it."""
    search = outcome.search
    if search is None or search.ending != Ending.KNEE:
        return None
    return search.passed


def client_bound(outcome: KneeOutcome) -> bool:
    return outcome.search is not None and outcome.search.ending == Ending.CLIENT_BOUND


def step_cells(step: Step) -> list[str]:
    result, verdict = step.result, step.verdict
    lead = result.latency_ms.get("corrected", {})
    finished = result.tally.finished
    failed = 100 * result.tally.failed / finished if finished else 0.0
    said = verdict.label if verdict.passed else verdict.label.upper()
    return [
        f"{step.rate:,.0f}",
        f"{result.requests_per_second:,.0f}",
        f"{lead['p50']:.3f}" if lead else "-",
        f"{lead['p99']:.3f}" if lead else "-",
        f"{failed:.2f}%",
        f"{result.client_cpu_share:.0%}",
        said + (f": {'; '.join(verdict.reasons)}" if verdict.reasons else ""),
    ]


def format_report(plan: KneePlan, outcome: KneeOutcome) -> str:
    config = plan.config
    slos = ", ".join(slo.label() for slo in plan.slos)
    lines = [
        f"trioload knee: {config.url}, -c {config.concurrency}"
        f"{', -k' if config.keep_alive else ''}"
        f"{f', -W {config.workers}' if config.workers > 1 else ''}; SLO: {slos}",
        f"Each step: {plan.warm_up_s:g} s of warm-up, then {plan.window_s:g} s measured at a "
        "constant rate (open loop; latency from when each request was due).",
    ]
    if outcome.probe_rps is not None:
        lines.append(
            f"The closed loop at -c {config.concurrency} made {outcome.probe_rps:,.0f} req/s: "
            "the search began at half of it."
        )
    rows = [list(HEADERS), *(step_cells(step) for step in sorted_steps(outcome))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS) - 1)]
    lines.append("")
    for row in rows:
        cells = [cell.rjust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines += ["", *answer(outcome)]
    return "\n".join(lines) + "\n"


def sorted_steps(outcome: KneeOutcome) -> list[Step]:
    """The steps by rate: the table reads as latency against offered load."""
    return sorted(outcome.steps, key=lambda step: step.rate)


def answer(outcome: KneeOutcome) -> list[str]:
    """The search's answer, in a sentence or two."""
    search = outcome.search
    ending = search.ending if search is not None else None
    passed, failed = (search.passed, search.failed) if search is not None else (None, None)
    last = f"the last step that passed: {passed:,.0f} req/s" if passed is not None else ""
    first = f"the first that failed: {failed:,.0f} req/s" if failed is not None else ""
    said = "; ".join(part for part in (last, first) if part)
    if outcome.interrupted:
        return [f"Interrupted: no knee named ({said or 'no step measured'})."]
    if outcome.error is not None:
        return [f"Stopped: {outcome.error}; no knee named{f' ({said})' if said else ''}."]
    if search is None or ending is None:
        return ["No step ran."]
    client = (
        f"Client-bound at {search.client_bound_at or 0:,.0f} req/s: add -W (trioload fell "
        f"behind its own schedule: its CPU at {CLIENT_BUSY_SHARE:.0%} of a core or more, or "
        f"over {CLIENT_LATE_SHARE:.0%} of the requests, most of the late ones, sent late "
        "although ready). "
        f"No server knee is named{f' ({said})' if said else ''}."
    )
    return [
        {
            Ending.KNEE: f"Knee: {passed or 0:,.0f} req/s ({said}).",
            Ending.CLIENT_BOUND: client,
            Ending.HELD: f"No knee up to --to: every SLO held ({said}); the knee is above.",
            Ending.NONE_PASSED: f"No knee: no step kept every SLO ({said}).",
            Ending.OUT_OF_STEPS: f"No knee within the steps allowed ({said}).",
        }[ending]
    ]


def format_json(plan: KneePlan, outcome: KneeOutcome) -> str:
    search = outcome.search
    document: dict[str, Any] = {
        "knee": True,  # what this document is (trioload plot tells it from a run's)
        "url": plan.config.url,
        "slo": [{"what": slo.what, "limit": slo.limit} for slo in plan.slos],
        "knee_rps": knee_rps(outcome),
        "client_bound": client_bound(outcome),
        "ending": None if search is None or search.ending is None else str(search.ending),
        "last_passed_rps": None if search is None else search.passed,
        "first_failed_rps": None if search is None else search.failed,
        "probe_rps": outcome.probe_rps,
        "warm_up_s": plan.warm_up_s,
        "window_s": plan.window_s,
        "interrupted": outcome.interrupted,
        "error": outcome.error,
        "steps": [
            {
                "rate": step.rate,
                "passed": step.verdict.passed,
                "client_bound": step.verdict.client_bound,
                "reasons": list(step.verdict.reasons),
                "result": to_json_dict(step.result),
            }
            for step in outcome.steps
        ],
    }
    return json.dumps(document, indent=2) + "\n"
