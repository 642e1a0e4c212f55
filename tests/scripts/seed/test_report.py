"""The seed table's rows (``benchlib.seed.report``): built, ranked by server CPU, rendered as
Markdown and JSON."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from scripts.benchlib.report import Row
from scripts.benchlib.seed.peers import NOT_PACKAGED, SeedPeer
from scripts.benchlib.seed.report import (
    HEADERS,
    NO_CLIENT,
    PeerFacts,
    SeedRow,
    as_json,
    build_rows,
    by_server_cpu,
    cells,
    markdown,
)


def row(server: str, client: str = "trioload", **figures: Any) -> Row:
    """A runner row from one round at 1000 req/s, with the given figures replaced."""
    return dataclasses.replace(
        Row("seed", server, client, runs=1, requests_per_second=1000.0), **figures
    )


def noted(server: str, client: str, note: str) -> Row:
    """A runner row for a pair that never ran: a note and no figures."""
    return Row("seed", server, client, note=note)


def seed_row(server: str, client: str, cpu: float | None) -> SeedRow:
    figures = row(server, client, server_cpu_us=cpu)
    return SeedRow(server, client, None, None, figures, None, "")


# --- rows ------------------------------------------------------------------------------------


def test_build_rows_joins_notes_and_keeps_the_peers_order() -> None:
    peers = [SeedPeer("Go std", 19316.27, note="somaxconn"), SeedPeer("hyperlane", 47294.55)]
    rows = [noted("hyperlane", NO_CLIENT, NOT_PACKAGED), row("Go std", note="1 of 3 failed")]
    facts = {"Go std": PeerFacts(88, "exact 88 B", "4096")}
    built = build_rows(peers, {"hyperlane": 1, "Go std": 6}, rows, facts)
    assert [(r.server, r.client) for r in built] == [("Go std", "trioload"), ("hyperlane", "-")]
    assert built[0].note == "somaxconn; 1 of 3 failed"
    assert built[0].seed_rank == 6
    assert built[0].facts == facts["Go std"]
    assert built[1].figures is None
    assert built[1].facts is None


def test_build_rows_row_without_a_req_s_has_no_figures() -> None:
    built = build_rows([SeedPeer("x", None)], {}, [noted("x", "ab", "failed to start")], {})
    assert built[0].figures is None
    assert built[0].note == "failed to start"


def test_by_server_cpu_ranks_cheapest_first_and_keeps_clients_together() -> None:
    rows = [
        seed_row("slow", "trioload", 90.0),
        seed_row("slow", "ab", 80.0),
        seed_row("never", NO_CLIENT, None),
        seed_row("fast", "trioload", 30.0),
        seed_row("fast", "ab", 40.0),
    ]
    ranked = by_server_cpu(rows)
    assert [(r.server, r.client, r.rank) for r in ranked] == [
        ("fast", "trioload", 1),
        ("fast", "ab", 1),
        ("slow", "trioload", 2),
        ("slow", "ab", 2),
        ("never", "-", None),
    ]


def test_by_server_cpu_ranks_by_the_first_clients_figure_not_the_lowest() -> None:
    rows = [seed_row("x", "trioload", 90.0), seed_row("x", "ab", 10.0)]
    rows.append(seed_row("y", "trioload", 50.0))
    assert [r.server for r in by_server_cpu(rows)] == ["y", "x", "x"]


def test_by_server_cpu_falls_back_to_the_next_client_with_a_figure() -> None:
    rows = [seed_row("a", "trioload", 50.0), seed_row("b", "trioload", None)]
    rows.append(seed_row("b", "ab", 20.0))
    assert [r.server for r in by_server_cpu(rows)] == ["b", "b", "a"]


def test_cells_show_median_with_min_max_and_dash_for_unknowns() -> None:
    figures = row(
        "nginx", "ab", requests_per_second=17600.4, rps_range=(17000.0, 18000.0),
        server_cpu_us=25.04, server_cpu_range=(25.04, 25.04), failed=0, p50_ms=57.0,
        p99_ms=1031.0, client_cpu_us=59.0,
    )  # fmt: skip
    seed_row_ = SeedRow("nginx", "ab", None, None, figures, PeerFacts(140, "140 B", "4096"), "")
    by_header = dict(zip(HEADERS, cells(dataclasses.replace(seed_row_, rank=1)), strict=True))
    assert by_header["req/s (min-max)"] == "17,600 (17,000-18,000)"
    assert by_header["server CPU µs/req (min-max)"] == "25.0"  # one value: no range shown
    assert by_header["p50 ms"] == "57"  # ab's whole milliseconds stay whole
    assert by_header["p99.9 ms"] == "-"  # ab reports no p99.9
    assert by_header["seed req/s"] == "-"
    assert by_header["rank (CPU)"] == "1"
    assert by_header["reply"] == "140 B"


def test_cells_of_a_server_that_never_ran_are_dashes_but_the_seeds() -> None:
    never = SeedRow("hyperlane", NO_CLIENT, 1, 47294.55, None, None, NOT_PACKAGED)
    line = cells(never)
    assert line[3:5] == ["1", "47,295"]
    assert set(line[5:14]) == {"-"}
    assert line[-1] == NOT_PACKAGED


def test_markdown_has_one_line_per_row_under_the_headers() -> None:
    rows = [seed_row("a", "trioload", 1.0), seed_row("a", "ab", 2.0)]
    lines = markdown(rows).splitlines()
    assert lines[0].startswith("| rank (CPU) | server | client |")
    assert len(lines) == 2 + len(rows)
    assert "| a | ab |" in lines[3]


def test_as_json_gives_ranges_as_min_max_and_null_for_unknowns() -> None:
    figures = row("x", "ab", rps_range=(900.0, 1100.0), server_cpu_us=30.0, p99_ms=4.0)
    data = as_json(SeedRow("x", "ab", 3, 5.0, figures, PeerFacts(141, "141 B", "4096"), "n"))
    assert data["requests_per_second"] == {"median": 1000.0, "min": 900.0, "max": 1100.0}
    assert data["server_cpu_us_per_request"] == {"median": 30.0, "min": None, "max": None}
    assert data["latency_ms"] == {"p50": None, "p99": 4.0, "p99.9": None}
    assert (data["reply_bytes"], data["seed_rank"], data["runs"]) == (141, 3, 1)
    json.dumps(data)  # plain values only


def test_as_json_of_a_server_that_never_ran() -> None:
    data = as_json(SeedRow("Rocket", NO_CLIENT, 3, 31979.27, None, None, NOT_PACKAGED))
    assert data["requests_per_second"] is None
    assert data["runs"] == 0
    assert data["note"] == NOT_PACKAGED
