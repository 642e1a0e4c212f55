"""The comparison's JSON: what it keeps, and what a plot reads back from it."""

from __future__ import annotations

import json

import pytest

from tests.trioload.compare.conftest import REQUESTS, outcome_of, plan_for, record
from trioload.compare.document import format_json, is_compare, target_figures
from trioload.compare.summary import summarize

ROUNDS = 4


def document_of() -> dict[str, object]:
    plan = plan_for("base", "fast", rounds=ROUNDS)
    runs = [record("base", -1, 500), record("fast", -1, 500)]
    for index in range(ROUNDS):
        runs.append(record("base", index, 1000 + index, 8.0, 0.01))
        runs.append(record("fast", index, 2000 + index, 4.0, 0.005))
    outcome = outcome_of(runs, ROUNDS)
    parsed: dict[str, object] = json.loads(format_json(plan, outcome, summarize(plan, outcome)))
    return parsed


def test_format_json_keeps_every_run_whole_and_the_summaries() -> None:
    document = document_of()
    assert is_compare(document)
    targets = document["targets"]
    assert isinstance(targets, list)
    base, fast = targets
    assert (base["name"], base["rank"], fast["rank"]) == ("base", 2, 1)
    assert len(base["runs"]) == ROUNDS + 1  # the warm-up is kept, and marked not counted
    assert [run["counted"] for run in base["runs"]] == [False] + [True] * ROUNDS
    assert base["runs"][1]["result"]["finished"] == REQUESTS
    assert "hdr" in base["runs"][1]["result"]
    assert set(base["rps"]) == {"median", "ci95", "n"}
    assert base["rps"]["ci95"][0] <= base["rps"]["median"] <= base["rps"]["ci95"][1]
    assert base["server_cpu_us_per_request"]["median"] == pytest.approx(50.0, rel=0.01)


def test_format_json_comparisons_carry_ratio_interval_p_and_verdict() -> None:
    comparisons = document_of()["comparisons"]
    assert isinstance(comparisons, list)
    assert {c["metric"] for c in comparisons} == {"rps", "p99", "server_cpu"}
    rps = next(c for c in comparisons if c["metric"] == "rps")
    assert (rps["name"], rps["baseline"]) == ("fast", "base")
    assert rps["ratio"] == pytest.approx(2.0, rel=0.01)
    assert len(rps["ci95"]) == 2 and 0 <= rps["p_value"] <= 1
    assert isinstance(rps["significant"], bool)


def test_target_figures_add_the_counted_runs_latencies() -> None:
    figures = target_figures(document_of())
    assert [f.name for f in figures] == ["fast", "base"]
    fast = figures[0]
    assert fast.latency.get_total_count() == ROUNDS * REQUESTS  # not the warm-up's
    assert fast.rps is not None and fast.rps[1] <= fast.rps[0] <= fast.rps[2]
    assert fast.latency.get_value_at_percentile(50) == pytest.approx(4000, rel=0.01)


def test_target_figures_refuse_a_run_report() -> None:
    with pytest.raises(ValueError, match="not a trioload compare document"):
        target_figures({"url": "http://127.0.0.1/", "hdr": {}})
