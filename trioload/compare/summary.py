"""Sans-IO: the figures of a comparison from its runs. Per target the median over the counted
rounds of each metric with its 95% interval; per target against the baseline the ratio of
each compared metric with its interval, p-value and verdict; the table's order; the warnings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from trioload.compare import stats
from trioload.compare.outcome import Outcome, RunRecord
from trioload.compare.plan import RANKINGS, ComparePlan

#: the metrics compared against the baseline, and what each reads from a run.
Metric = Callable[[RunRecord], float | None]
METRICS: dict[str, Metric] = {
    "rps": lambda run: run.result.requests_per_second or None,
    "p50": lambda run: _latency(run, "p50"),
    "p99": lambda run: _latency(run, "p99"),
    "server_cpu": lambda run: run.server_cpu_us_per_request,
    "client_cpu": lambda run: run.result.client_cpu_share,
}
#: the metrics whose ratios against the baseline the report shows and the JSON keeps.
COMPARED = ("rps", "p99", "server_cpu")
#: which metric each ``--rank-by`` reads.
RANK_METRIC = {"rps": "rps", "cpu": "server_cpu", "p99": "p99"}
#: beyond this many rounds, advice to run more is no advice: the targets may be equal.
MAX_ADVISED_ROUNDS = 200
#: a median's interval wider than this (half-width over the median) is too wide to rank by ...
WIDE = 0.10
#: ... and the rounds advised would narrow it to this.
NARROW = 0.05


def values_of(runs: list[RunRecord], metric: str) -> list[float]:
    """The metric's value in each run that has it."""
    read = METRICS[metric]
    return [value for run in runs if (value := read(run)) is not None]


def _latency(run: RunRecord, key: str) -> float | None:
    result = run.result
    return result.latency_ms.get(result.lead_phase, {}).get(key)


@dataclass(frozen=True, slots=True)
class TargetSummary:
    """One target's figures over its counted runs."""

    name: str
    url: str
    #: runs counted (completed rounds, server alive).
    runs: int
    #: metric → its median and interval; absent when no run gave it.
    estimates: dict[str, stats.Estimate]
    finished: int
    failed: int
    #: runs in which trioload itself kept its core busy.
    client_bound_runs: int
    #: the round after which its server was found dead, if it was.
    died_after_round: int | None


@dataclass(frozen=True, slots=True)
class MetricComparison:
    """One target against the baseline on one metric, over the rounds both ran."""

    name: str
    baseline: str
    metric: str
    comparison: stats.Comparison | None
    #: why there is no comparison (too few paired rounds, a metric not measured).
    missing: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    plan: ComparePlan
    #: targets in ranked order (best first); those with no counted run last.
    ranked: tuple[TargetSummary, ...]
    comparisons: tuple[MetricComparison, ...]
    warnings: tuple[str, ...]
    rounds_completed: int
    interrupted: bool

    @property
    def failed(self) -> bool:
        return any(target.failed for target in self.ranked)

    @property
    def died(self) -> bool:
        return any(target.died_after_round is not None for target in self.ranked)


def summarize(plan: ComparePlan, outcome: Outcome) -> Summary:
    counted = outcome.counted()
    by_target = {t.name: [run for run in counted if run.target == t.name] for t in plan.targets}
    targets = [_target_summary(t.name, t.url, by_target[t.name], outcome) for t in plan.targets]
    ranked = _ranked(targets, plan.rank_by)
    comparisons = [
        _compare(name, plan.baseline, metric, by_target[name], by_target[plan.baseline])
        for name in (t.name for t in ranked)
        if name != plan.baseline
        for metric in COMPARED
    ]
    warnings = _warnings(plan, ranked, by_target, outcome)
    return Summary(
        plan, tuple(ranked), tuple(comparisons), tuple(warnings), outcome.rounds_completed,
        outcome.interrupted,
    )  # fmt: skip


def _target_summary(name: str, url: str, runs: list[RunRecord], outcome: Outcome) -> TargetSummary:
    estimates = {}
    for metric in METRICS:
        if values := values_of(runs, metric):
            estimates[metric] = stats.estimate(values)
    every = [run for run in outcome.runs if run.target == name and run.round >= 0]
    return TargetSummary(
        name=name,
        url=url,
        runs=len(runs),
        estimates=estimates,
        finished=sum(run.result.tally.finished for run in every),
        failed=sum(run.result.tally.failed for run in every),
        client_bound_runs=sum(run.result.client_set_the_pace for run in runs),
        died_after_round=outcome.died.get(name),
    )


def _ranked(targets: list[TargetSummary], rank_by: str) -> list[TargetSummary]:
    metric, more_is_better = RANK_METRIC[rank_by], RANKINGS[rank_by]

    def key(target: TargetSummary) -> tuple[bool, float]:
        estimate = target.estimates.get(metric)
        if estimate is None:
            return (True, 0.0)
        return (False, -estimate.median if more_is_better else estimate.median)

    return sorted(targets, key=key)


def _compare(
    name: str, baseline: str, metric: str, runs: list[RunRecord], base_runs: list[RunRecord]
) -> MetricComparison:
    """``name`` against ``baseline`` on the rounds where both have the metric."""
    read = METRICS[metric]
    base_by_round = {run.round: read(run) for run in base_runs}
    pairs = [
        (value, base)
        for run in runs
        if (value := read(run)) is not None and (base := base_by_round.get(run.round)) is not None
    ]
    if not pairs:
        return MetricComparison(name, baseline, metric, None, "not measured")
    if len(pairs) < 2:
        return MetricComparison(name, baseline, metric, None, "one paired round")
    values, bases = zip(*pairs, strict=True)
    return MetricComparison(name, baseline, metric, stats.compare(values, bases))


def _warnings(
    plan: ComparePlan,
    ranked: list[TargetSummary],
    by_target: dict[str, list[RunRecord]],
    outcome: Outcome,
) -> list[str]:
    warnings = []
    if outcome.interrupted:
        warnings.append(
            f"Interrupted: the figures cover the {outcome.rounds_completed} rounds completed "
            f"of {plan.rounds}."
        )
    for target in ranked:
        if target.died_after_round is not None:
            when = (
                "the warm-up"
                if target.died_after_round < 0
                else f"round {target.died_after_round + 1}"
            )
            warnings.append(
                f"{target.name}'s server died in {when}: its later rounds are missing, the "
                "figures cover the rounds before."
            )
        if target.failed:
            warnings.append(
                f"{target.name}: {target.failed:,} of {target.finished:,} requests failed "
                "over its runs."
            )
        if target.client_bound_runs:
            warnings.append(
                f"{target.name}: trioload kept its core busy in {target.client_bound_runs} of "
                f"{target.runs} runs: the load generator, not the server, may have set the "
                "pace (try -W)."
            )
    warnings += _wide_intervals(plan, ranked, by_target)
    warnings += _too_close(plan, ranked, by_target)
    return warnings


def _wide_intervals(
    plan: ComparePlan, ranked: list[TargetSummary], by_target: dict[str, list[RunRecord]]
) -> list[str]:
    """Targets whose interval on the ranked metric is too wide to rank by, and about how many
    rounds would narrow it to ``NARROW``."""
    metric = RANK_METRIC[plan.rank_by]
    warnings = []
    for target in ranked:
        estimate = target.estimates.get(metric)
        if estimate is None or estimate.median <= 0 or estimate.n < 2:
            continue
        halfwidth = estimate.relative_halfwidth
        if halfwidth <= WIDE:
            continue
        rounds = stats.rounds_for_width(values_of(by_target[target.name], metric), NARROW)
        advice = f"about {rounds} rounds would narrow it to ±{NARROW:.0%}" if rounds else ""
        warnings.append(
            f"{target.name}'s {metric} interval is ±{halfwidth:.0%} of its median, too wide to "
            f"rank by{': ' + advice if advice else ''}."
        )
    return warnings


def _too_close(
    plan: ComparePlan, ranked: list[TargetSummary], by_target: dict[str, list[RunRecord]]
) -> list[str]:
    """Neighbours in the ranking that the ranked metric does not tell apart (over the rounds
    both ran, as against the baseline), and about how many rounds would, from the width each
    median's interval would need to come down to."""
    metric = RANK_METRIC[plan.rank_by]
    warnings = []
    for upper, lower in pairwise(ranked):
        found = _compare(lower.name, upper.name, metric, by_target[lower.name],
                         by_target[upper.name])  # fmt: skip
        if found.comparison is None or found.comparison.significant:
            continue
        a, b = upper.estimates[metric], lower.estimates[metric]
        gap = abs(a.median - b.median) / max(a.median, b.median)
        needed = [
            stats.rounds_for_width(values, gap / 2)
            for target in (upper, lower)
            if gap > 0 and len(values := values_of(by_target[target.name], metric)) > 1
        ]
        rounds = max((n for n in needed if n is not None), default=None)
        if gap <= 0 or rounds is None or rounds > MAX_ADVISED_ROUNDS:
            advice = "they may well be equal"
        else:
            advice = f"about {max(rounds, plan.rounds + 1)} rounds would tell them apart"
        warnings.append(
            f"{upper.name} and {lower.name} are {gap:.1%} apart on {metric}, not a significant "
            f"difference at 95%: {advice}."
        )
    return warnings
