"""``scripts/seed_table.py``: its command line, which peers it hands to compare, and the report
around the table. Nothing here opens a socket or runs compare."""

from __future__ import annotations

import pytest

from scripts import seed_table
from scripts.benchlib.machine import OUT_DIR
from scripts.benchlib.peers import PeerSpec
from scripts.benchlib.seed.peers import NOT_PACKAGED, BuildError, SeedPeer

# --- the command line ------------------------------------------------------------------------


def test_parse_args_defaults_to_five_rounds_and_json_and_chart_in_bench_out() -> None:
    args = seed_table.parse_args([])
    assert (args.rounds, args.concurrency, args.requests) == (5, 1000, 1_000_000)
    assert args.json == OUT_DIR / "seed-table.json"
    assert args.png == OUT_DIR / "seed-table.png"
    assert args.markdown is None
    assert not args.no_png


def test_parse_args_takes_the_load_and_the_outputs() -> None:
    args = seed_table.parse_args(["-n", "20000", "-c", "100", "--rounds", "3", "--no-png"])
    assert (args.requests, args.concurrency, args.rounds, args.no_png) == (20_000, 100, 3, True)


# --- the peers handed to compare -------------------------------------------------------------


def fails(host: str) -> PeerSpec:
    raise BuildError("cargo build failed: no registry")


def runs(host: str) -> PeerSpec:
    return PeerSpec("Tokio", lambda port: ["seed-tokio", str(port)])


def absent(host: str) -> PeerSpec:
    return PeerSpec("trioserve", lambda port: [], missing="not installed")


def test_prepare_builds_what_can_run_and_says_why_the_rest_cannot() -> None:
    peers = [
        SeedPeer("hyperlane", 1.0, never=NOT_PACKAGED),
        SeedPeer("Go std", 2.0, missing=lambda: "go not installed", prepare=runs),
        SeedPeer("Gin", 3.0, prepare=fails),
        SeedPeer("trioserve", None, prepare=absent),
        SeedPeer("Tokio", 4.0, prepare=runs),
    ]  # fmt: skip
    specs, skipped = seed_table.prepare(peers)
    assert [spec.name for spec in specs] == ["Tokio"]
    assert skipped == {
        "hyperlane": NOT_PACKAGED,
        "Go std": "skipped: go not installed (--install adds it)",
        "Gin": "build failed: cargo build failed: no registry",
        "trioserve": "not installed",
    }


def test_free_ports_are_distinct() -> None:
    ports = seed_table.free_ports(5)
    assert len(set(ports)) == 5
    assert all(1024 <= port < 65536 for port in ports)


# --- the report ------------------------------------------------------------------------------


def test_report_gives_the_command_the_machine_the_table_and_compares_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(seed_table, "tool_version", lambda argv: "trioload 9.9")
    estimate = {"median": 25.0, "ci95": [24.0, 26.0], "n": 5}
    target = {"name": "nginx", "rank": 1, "failed": 0, "rps": None, "p99_ms": None,
              "server_cpu_us_per_request": estimate}  # fmt: skip
    document = {
        "run": "-c 1000 -n 20000 (keep-alive off)", "rounds": 5, "rounds_completed": 4,
        "order": "alternating", "warmup": 0.1, "baseline": "nginx", "targets": [target],
        "comparisons": [], "warnings": ["nginx and Tokio overlap on server_cpu"],
    }  # fmt: skip
    text = seed_table.report(document, "scripts/seed_table.py -n 20000", [SeedPeer("nginx", None)],
                             ranks={}, skipped={}, trioload=["trioload"])  # fmt: skip
    assert "`scripts/seed_table.py -n 20000`" in text
    assert "-c 1000 -n 20000 (keep-alive off), 4 of 5 rounds" in text
    assert "warm-up run of 10%" in text
    assert "- trioload: trioload 9.9" in text
    assert "- CPUs: " in text
    assert "| 1 | nginx | 25.0 [24.0\u201326.0] | - | - | baseline |" in text
    assert text.rstrip().endswith("- nginx and Tokio overlap on server_cpu")
