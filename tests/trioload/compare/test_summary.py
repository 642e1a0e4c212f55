"""A comparison's figures from its runs: ranking, medians, paired comparisons, warnings."""

from __future__ import annotations

import pytest

from tests.trioload.compare.conftest import REQUESTS, outcome_of, plan_for, record
from trioload.compare.outcome import RunRecord
from trioload.compare.summary import summarize

ROUNDS = 6
#: run-to-run wobble, the same for every target (a machine's drift, hitting all alike).
WOBBLE = [1.0, 1.04, 0.97, 1.02, 0.99, 1.03]


def rounds_of(name: str, rps: float, latency_ms: float, cpu_us: float | None) -> list[RunRecord]:
    runs = []
    for index, wobble in enumerate(WOBBLE):
        cpu_s = cpu_us * REQUESTS / 1e6 * wobble if cpu_us is not None else None
        runs.append(record(name, index, rps * wobble, latency_ms / wobble, cpu_s))
    return runs


def test_summarize_ranks_by_rps_with_each_metric_median() -> None:
    plan = plan_for("slow", "fast", rounds=ROUNDS)
    runs = rounds_of("slow", 1000, 8.0, 50.0) + rounds_of("fast", 2000, 4.0, 25.0)
    summary = summarize(plan, outcome_of(runs, ROUNDS))
    assert [t.name for t in summary.ranked] == ["fast", "slow"]
    fast = summary.ranked[0]
    assert fast.runs == ROUNDS
    assert fast.estimates["rps"].median == pytest.approx(2000 * 1.01, rel=0.01)
    lo, hi = fast.estimates["rps"].ci95
    assert lo <= fast.estimates["rps"].median <= hi
    assert fast.estimates["server_cpu"].median == pytest.approx(25.0 * 1.01, rel=0.02)
    assert fast.estimates["p99"].median == pytest.approx(4.0, rel=0.05)


def test_summarize_rank_by_cpu_or_p99_puts_the_least_first() -> None:
    runs = rounds_of("a", 3000, 9.0, 40.0) + rounds_of("b", 1000, 2.0, 20.0)
    by_cpu = summarize(plan_for("a", "b", rounds=ROUNDS, rank_by="cpu"), outcome_of(runs, ROUNDS))
    by_p99 = summarize(plan_for("a", "b", rounds=ROUNDS, rank_by="p99"), outcome_of(runs, ROUNDS))
    by_rps = summarize(plan_for("a", "b", rounds=ROUNDS), outcome_of(runs, ROUNDS))
    assert [t.name for t in by_cpu.ranked] == ["b", "a"]
    assert [t.name for t in by_p99.ranked] == ["b", "a"]
    assert [t.name for t in by_rps.ranked] == ["a", "b"]


def test_summarize_compares_every_target_with_the_baseline_paired_by_round() -> None:
    plan = plan_for("base", "double", "same", rounds=ROUNDS)
    runs = (
        rounds_of("base", 1000, 8.0, 50.0)
        + rounds_of("double", 2000, 4.0, 25.0)
        + rounds_of("same", 1000, 8.0, 50.0)
    )
    summary = summarize(plan, outcome_of(runs, ROUNDS))
    found = {(c.name, c.metric): c.comparison for c in summary.comparisons}
    assert {name for name, _ in found} == {"double", "same"}
    assert {metric for _, metric in found} == {"rps", "p99", "server_cpu"}
    double = found[("double", "rps")]
    assert double is not None and double.ratio == pytest.approx(2.0, rel=0.01)
    assert double.significant and double.ci95[0] > 1
    cpu = found[("double", "server_cpu")]
    assert cpu is not None and cpu.ratio == pytest.approx(0.5, rel=0.01) and cpu.significant
    same = found[("same", "rps")]
    assert same is not None and same.ratio == pytest.approx(1.0) and not same.significant


def test_summarize_counts_completed_rounds_only() -> None:
    plan = plan_for("a", "b", rounds=ROUNDS)
    runs = rounds_of("a", 1000, 5.0, None) + rounds_of("b", 1000, 5.0, None)
    warmup = [record("a", -1, 10.0), record("b", -1, 10.0)]
    cut_short = [record("a", ROUNDS, 1.0, interrupted=True)]
    summary = summarize(plan, outcome_of(warmup + runs + cut_short, ROUNDS))
    for target in summary.ranked:
        assert target.runs == ROUNDS
        assert target.estimates["rps"].median > 900  # neither the warm-up nor the cut run


def test_summarize_without_server_cpu_says_it_was_not_measured() -> None:
    plan = plan_for("a", "b", rounds=ROUNDS)
    runs = rounds_of("a", 1000, 5.0, None) + rounds_of("b", 1100, 5.0, None)
    summary = summarize(plan, outcome_of(runs, ROUNDS))
    assert all("server_cpu" not in t.estimates for t in summary.ranked)
    cpu = next(c for c in summary.comparisons if c.metric == "server_cpu")
    assert cpu.comparison is None and cpu.missing == "not measured"


def test_summarize_warns_of_failures_a_dead_server_and_an_interruption() -> None:
    plan = plan_for("a", "b", rounds=ROUNDS)
    runs = rounds_of("a", 1000, 5.0, None)
    runs += [record("b", i, 1000, failed=3) for i in range(2)]
    runs += [record("b", 2, 10, failed=REQUESTS, server_alive=False)]
    summary = summarize(plan, outcome_of(runs, 3, died={"b": 2}, interrupted=True))
    text = "\n".join(summary.warnings)
    assert "Interrupted: the figures cover the 3 rounds completed of 6" in text
    assert "b's server died in round 3" in text
    assert f"b: {6 + REQUESTS:,} of {3 * REQUESTS:,} requests failed" in text
    assert summary.failed and summary.died
    b = next(t for t in summary.ranked if t.name == "b")
    assert b.runs == 2  # the run against the dead server is not counted


def test_summarize_warns_when_neighbours_are_not_told_apart() -> None:
    plan = plan_for("a", "b", rounds=ROUNDS)
    noisy = [1.0, 1.3, 0.8, 1.2, 0.85, 1.1]
    runs = [record("a", i, 1000 * w) for i, w in enumerate(noisy)]
    runs += [record("b", i, 1010 * w) for i, w in enumerate(reversed(noisy))]
    summary = summarize(plan, outcome_of(runs, ROUNDS))
    assert any("not a significant difference" in warning for warning in summary.warnings)


def test_summarize_gives_no_warning_for_neighbours_told_apart() -> None:
    plan = plan_for("a", "b", rounds=ROUNDS)
    runs = rounds_of("a", 1000, 5.0, None) + rounds_of("b", 2000, 5.0, None)
    assert summarize(plan, outcome_of(runs, ROUNDS)).warnings == ()


def test_summarize_warns_when_the_client_set_the_pace() -> None:
    plan = plan_for("a", "b", rounds=ROUNDS)
    # 200 requests at 200 req/s: a second of run, and a second of client CPU.
    runs = [record("a", i, 200, cpu_s=1.0) for i in range(ROUNDS)]
    runs += [record("b", i, 200, cpu_s=0.1) for i in range(ROUNDS)]
    summary = summarize(plan, outcome_of(runs, ROUNDS))
    busy = [w for w in summary.warnings if "kept its core busy" in w]
    assert len(busy) == 1 and busy[0].startswith("a: ")


def test_summarize_says_a_server_died_in_the_warm_up() -> None:
    plan = plan_for("a", "b", rounds=ROUNDS)
    runs = [*rounds_of("a", 1000, 5.0, None), record("b", -1, 10, server_alive=False)]
    summary = summarize(plan, outcome_of(runs, ROUNDS, died={"b": -1}))
    assert any("b's server died in the warm-up" in warning for warning in summary.warnings)


def test_summarize_warns_of_an_interval_too_wide_to_rank_by() -> None:
    plan = plan_for("steady", "noisy", rounds=ROUNDS)
    noisy = [1.0, 1.6, 0.6, 1.4, 0.7, 1.2]
    runs = rounds_of("steady", 1000, 5.0, None)
    runs += [record("noisy", i, 3000 * w) for i, w in enumerate(noisy)]
    wide = [w for w in summarize(plan, outcome_of(runs, ROUNDS)).warnings if "too wide" in w]
    assert len(wide) == 1 and wide[0].startswith("noisy's rps interval is ±")
    assert "rounds would narrow it to ±5%" in wide[0]
