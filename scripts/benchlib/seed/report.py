"""The seed table's rows: each server under each client beside the seed's figure and rank,
ranked by server CPU a request, as Markdown and as JSON (plain code, on ``report.Row``s)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..report import Row, cell, markdown_table
from .peers import SeedPeer

#: the client cell of a server that never ran (nothing was started, so no client either).
NO_CLIENT = "-"


@dataclass(frozen=True, slots=True)
class PeerFacts:
    """What was learned about a started peer besides the runs: its reply and listen backlog."""

    reply_bytes: int
    reply: str
    backlog: str


@dataclass(frozen=True, slots=True)
class SeedRow:
    """One line of the table: a server under one client, or a server that could not run."""

    server: str
    client: str
    seed_rank: int | None
    seed_rps: float | None
    figures: Row | None
    facts: PeerFacts | None
    note: str
    #: place by server CPU a request among the servers measured here (both clients share it).
    rank: int | None = None


def seed_ranks(peers: Sequence[SeedPeer]) -> dict[str, int]:
    """Each seed peer's place in the seed's ranking (req/s, highest first)."""
    figures = sorted((-peer.seed_rps, peer.name) for peer in peers if peer.seed_rps)
    return {name: rank for rank, (_, name) in enumerate(figures, start=1)}


def build_rows(
    peers: Sequence[SeedPeer],
    ranks: Mapping[str, int],
    rows: Sequence[Row],
    facts: Mapping[str, PeerFacts],
) -> list[SeedRow]:
    """One SeedRow per (server, client) the runner has a row for, in the peers' order;
    ``ranks``: the seed's ranking (``seed_ranks`` of every seed peer, not just those run)."""
    return [
        SeedRow(peer.name, row.client, ranks.get(peer.name), peer.seed_rps,
                row if row.requests_per_second is not None else None, facts.get(peer.name),
                "; ".join(note for note in (peer.note, row.note) if note))
        for peer in peers
        for row in rows
        if row.server == peer.name
    ]  # fmt: skip


def _cpu_key(group: Sequence[SeedRow]) -> float:
    """A server's ranking figure: the first client's server CPU a request that is known."""
    known = [row.figures.server_cpu_us for row in group if row.figures is not None]
    return next((value for value in known if value is not None), math.inf)


def by_server_cpu(rows: Sequence[SeedRow]) -> list[SeedRow]:
    """Servers cheapest first by server CPU a request, each server's clients kept together.

    When the client is the ceiling, req/s says more about the client than the server; the
    CPU a server spends per request ranks the servers themselves. Servers with no figure go
    last, in their given order.
    """
    groups: dict[str, list[SeedRow]] = {}
    for row in rows:
        groups.setdefault(row.server, []).append(row)
    ordered = sorted(groups.values(), key=_cpu_key)  # stable: ties keep the seed's order
    return [
        dataclasses.replace(row, rank=place if _cpu_key(group) != math.inf else None)
        for place, group in enumerate(ordered, start=1)
        for row in group
    ]


def as_json(row: SeedRow) -> dict[str, Any]:
    """One row for ``--json``: plain numbers (null when unknown), ranges as min/max."""
    fig, facts = row.figures, row.facts

    def spread(median: float | None, span: tuple[float, float] | None) -> dict[str, Any]:
        low, high = span if span is not None else (None, None)
        return {"median": median, "min": low, "max": high}

    return {
        "rank_by_server_cpu": row.rank,
        "server": row.server,
        "client": row.client,
        "seed_rank": row.seed_rank,
        "seed_requests_per_second": row.seed_rps,
        "runs": fig.runs if fig else 0,
        "requests_per_second": spread(fig.requests_per_second, fig.rps_range) if fig else None,
        "server_cpu_us_per_request": (
            spread(fig.server_cpu_us, fig.server_cpu_range) if fig else None
        ),
        "client_cpu_us_per_request": fig.client_cpu_us if fig else None,
        "failed_worst": fig.failed if fig else None,
        "latency_ms": {
            "p50": fig.p50_ms if fig else None,
            "p99": fig.p99_ms if fig else None,
            "p99.9": fig.p999_ms if fig else None,
        },
        "reply_bytes": facts.reply_bytes if facts else None,
        "reply": facts.reply if facts else None,
        "backlog": facts.backlog if facts else None,
        "note": row.note,
    }


HEADERS = [
    "rank (CPU)", "server", "client", "seed rank", "seed req/s", "req/s (min-max)",
    "server CPU µs/req (min-max)", "client CPU µs/req", "failed", "p50 ms", "p99 ms",
    "p99.9 ms", "reply", "backlog", "note",
]  # fmt: skip
NUMERIC = [0, 3, 4, 5, 6, 7, 8, 9, 10, 11]


def _spread(figure: dict[str, Any] | None, fmt: str) -> str:
    """ "median (min-max)", or just the median when there is one round or no range."""
    if figure is None or figure["median"] is None:
        return "-"
    median, low, high = figure["median"], figure["min"], figure["max"]
    if low is None or low == high:
        return format(median, fmt)
    return f"{median:{fmt}} ({low:{fmt}}-{high:{fmt}})"


def _ms(value: float | None) -> str:
    """A latency as its client gave it: ab's whole milliseconds stay whole."""
    return cell(value, ".0f" if value is not None and value.is_integer() else ".2f")


def cells(row: SeedRow) -> list[str]:
    """The Markdown cells of one row; "-" wherever a figure is unknown (ab has no p99.9)."""
    data = as_json(row)
    latency = data["latency_ms"]
    return [
        cell(row.rank, "d"),
        row.server,
        row.client,
        cell(row.seed_rank, "d"),
        cell(row.seed_rps, ",.0f"),
        _spread(data["requests_per_second"], ",.0f"),
        _spread(data["server_cpu_us_per_request"], ".1f"),
        cell(data["client_cpu_us_per_request"], ".1f"),
        cell(data["failed_worst"], "d"),
        *(_ms(latency[p]) for p in ("p50", "p99", "p99.9")),
        data["reply"] or "-",
        data["backlog"] or "-",
        row.note,
    ]


def markdown(rows: Sequence[SeedRow]) -> str:
    """The table, in the given order."""
    return markdown_table(HEADERS, [cells(row) for row in rows], NUMERIC)
