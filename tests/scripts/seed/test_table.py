"""The seed table in Markdown (``benchlib.seed.table``), from a compare document made by
compare's own code and from a hand-made one. No network, no process."""

from __future__ import annotations

import json
from typing import Any

from scripts.benchlib.seed.peers import NOT_PACKAGED, SeedPeer
from scripts.benchlib.seed.table import headers, interval, markdown, rows, versus
from tests.trioload.compare.conftest import outcome_of, plan_for, record
from trioload.compare.document import format_json
from trioload.compare.summary import summarize

PEERS = [
    SeedPeer("hyperlane", 47294.55, never=NOT_PACKAGED),
    SeedPeer("Tokio", 39984.12, note="backlog 4096"),
    SeedPeer("nginx", None, note="workers auto"),
    SeedPeer("trioserve", None),
    SeedPeer("Node std", 16605.69),
]
SEED_RANKS = {"hyperlane": 1, "Tokio": 2, "Node std": 3}


def estimate(median: float, low: float, high: float) -> dict[str, Any]:
    return {"median": median, "ci95": [low, high], "n": 5}


def target(name: str, rank: int, cpu: dict[str, Any] | None, **more: Any) -> dict[str, Any]:
    return {
        "name": name, "url": "http://127.0.0.1:1/", "rank": rank, "runs": [], "failed": 0,
        "died_after_round": None, "rps": estimate(17_600.4, 17_000.0, 18_100.0),
        "p50_ms": estimate(20.0, 19.0, 21.0), "p99_ms": estimate(57.125, 50.0, 60.5),
        "server_cpu_us_per_request": cpu, "client_cpu_share": None, **more,
    }  # fmt: skip


def comparison(
    name: str, metric: str, verdict: str | None, missing: str | None = None, p: float = 0.01
) -> Any:
    return {"name": name, "baseline": "nginx", "metric": metric, "verdict": verdict,
            "p_value": None if verdict is None else p, "missing": missing}  # fmt: skip


#: the documented keys, and only those the table reads, in the order compare writes them.
DOCUMENT: dict[str, Any] = {
    "kind": "trioload-compare",
    "baseline": "nginx",
    "targets": [
        target("Tokio", 2, estimate(36.04, 35.0, 37.5)),
        target("nginx", 1, estimate(25.0, 24.0, 26.5)),
        target("trioserve", 3, None, failed=1234, died_after_round=2),
        target("Node std", 4, estimate(44.0, 40.0, 50.0)),
    ],
    "comparisons": [
        comparison("Tokio", "rps", "~"),
        comparison("Tokio", "server_cpu", "1.44\u00d7 [1.38\u20131.52]"),
        comparison("trioserve", "server_cpu", None, "not measured"),
        comparison("Node std", "server_cpu", "~", p=0.0952),
    ],
    "warnings": [],
}


def by_server(cells: list[list[str]]) -> dict[str, dict[str, str]]:
    return {line[1]: dict(zip(headers("nginx"), line, strict=True)) for line in cells}


def test_rows_follow_compares_ranking_then_the_peers_that_did_not_run() -> None:
    cells = rows(DOCUMENT, PEERS, SEED_RANKS, {"hyperlane": NOT_PACKAGED})
    assert [line[:2] for line in cells] == [
        ["1", "nginx"], ["2", "Tokio"], ["3", "trioserve"], ["4", "Node std"],
        ["-", "hyperlane"],
    ]  # fmt: skip


def test_rows_show_intervals_the_ratio_to_nginx_and_the_seeds_figures() -> None:
    found = by_server(rows(DOCUMENT, PEERS, SEED_RANKS, {}))
    tokio = found["Tokio"]
    assert tokio["server CPU µs/req [95% CI]"] == "36.0 [35.0\u201337.5]"
    assert tokio["req/s [95% CI]"] == "17,600 [17,000\u201318,100]"
    assert tokio["p99 ms [95% CI]"] == "57.12 [50.00\u201360.50]"
    assert tokio["vs nginx (server CPU)"] == "1.44\u00d7 [1.38\u20131.52]"  # not rps' "~"
    assert (tokio["the seed's rank"], tokio["the seed's req/s"]) == ("2", "39,984")
    assert tokio["differs from the seed"] == "backlog 4096"
    assert found["nginx"]["vs nginx (server CPU)"] == "baseline"
    assert (found["nginx"]["the seed's rank"], found["nginx"]["the seed's req/s"]) == ("-", "-")


def test_rows_of_an_unmeasured_metric_failures_and_a_server_that_died() -> None:
    trioserve = by_server(rows(DOCUMENT, PEERS, SEED_RANKS, {}))["trioserve"]
    assert trioserve["server CPU µs/req [95% CI]"] == "-"
    assert trioserve["vs nginx (server CPU)"] == "- (not measured)"
    assert trioserve["failed"] == "1,234 (died after round 2)"


def test_rows_give_the_p_value_beside_a_difference_that_is_not_significant() -> None:
    node = by_server(rows(DOCUMENT, PEERS, SEED_RANKS, {}))["Node std"]
    assert node["vs nginx (server CPU)"] == "~ (p=0.095)"


def test_a_peer_that_did_not_run_keeps_the_seeds_figures_and_says_why() -> None:
    hyperlane = by_server(rows(DOCUMENT, PEERS, SEED_RANKS, {"hyperlane": NOT_PACKAGED}))
    line = list(hyperlane["hyperlane"].values())
    assert line[0] == "-" and set(line[2:7]) == {"-"}
    assert line[7:] == ["1", "47,295", NOT_PACKAGED]


def test_markdown_names_the_baseline_in_the_ratio_column() -> None:
    lines = markdown({**DOCUMENT, "baseline": "Tokio"}, PEERS, SEED_RANKS, {}).splitlines()
    assert lines[0].startswith("| rank here | server | server CPU µs/req [95% CI] |")
    assert "| vs Tokio (server CPU) |" in lines[0]
    assert lines[1].startswith("| ---: | --- | ---: |")
    assert len(lines) == 2 + len(PEERS)


def test_interval_of_nothing_is_a_dash() -> None:
    assert interval(None, ".1f") == "-"
    assert interval(estimate(1.25, 1.0, 2.0), ".2f") == "1.25 [1.00\u20132.00]"


def test_a_document_written_by_compare_itself() -> None:
    rounds = 5
    plan = plan_for("nginx", "Tokio", rounds=rounds, rank_by="cpu")
    runs = []
    for index in range(rounds):
        # 200 requests a run: 0.005 s of server CPU is 25 µs a request, 0.008 s 40 µs.
        runs.append(record("nginx", index, 17_000 + index, 5.0, 0.005 + index * 1e-5))
        runs.append(record("Tokio", index, 18_000 + index, 4.0, 0.008 + index * 1e-5))
    outcome = outcome_of(runs, rounds)
    document = json.loads(format_json(plan, outcome, summarize(plan, outcome)))
    assert versus(document)["Tokio"].startswith("1.6")  # 40 µs / 25 µs, significant
    found = by_server(rows(document, PEERS, SEED_RANKS, {}))
    assert [found[name]["rank here"] for name in ("nginx", "Tokio")] == ["1", "2"]
    assert found["nginx"]["server CPU µs/req [95% CI]"].startswith("25.")
    assert found["Tokio"]["the seed's rank"] == "2"
