"""From single runs to medians, and from medians to the rows and tables the bench prints.

Plain code: nothing here starts a process or reads a clock.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .tools import LoadResult

#: the client of a row that stands for all of a server's clients (it could not start).
ALL = "(all)"

#: a row's (part, server, client).
Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Row:
    """A (part, server, client) pair over all its rounds: medians, worst failures, peak RSS."""

    part: str
    server: str
    client: str
    runs: int = 0
    requests_per_second: float | None = None
    failed: int | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu_us: float | None = None
    client_cpu_us: float | None = None
    #: the user-mode part of ``client_cpu_us`` (the load generator's own code).
    client_user_us: float | None = None
    client_rss_kb: int | None = None
    #: lowest and highest p50 and server CPU over the rounds: how far apart runs were.
    p50_ms_range: tuple[float, float] | None = None
    server_cpu_us_range: tuple[float, float] | None = None
    note: str = ""

    @property
    def key(self) -> Key:
        return (self.part, self.server, self.client)

    @property
    def client_rss_mb(self) -> float | None:
        return None if self.client_rss_kb is None else self.client_rss_kb / 1024


def median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def worst(values: Sequence[int | None]) -> int | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def _range(values: Sequence[float | None]) -> tuple[float, float] | None:
    """Lowest and highest of the known values, or None when none is known."""
    present = [value for value in values if value is not None]
    return (min(present), max(present)) if present else None


#: how a row merges each figure of its rounds: their median, or the worst (the highest).
MERGED: dict[str, Callable[[Sequence[Any]], Any]] = {
    "requests_per_second": median, "failed": worst, "p50_ms": median, "p99_ms": median,
    "server_cpu_us": median, "client_cpu_us": median, "client_user_us": median,
    "client_rss_kb": worst,
}  # fmt: skip
#: the figures whose spread over the rounds a row keeps (``Row.p50_ms_range`` ...).
RANGED = ("p50_ms", "server_cpu_us")


def aggregate(results: Mapping[Key, Sequence[LoadResult]]) -> list[Row]:
    """One row per (part, server, client) from its runs' results, in the mapping's order; errors
    become the row's note."""
    rows = []
    for (part, server, client), runs in results.items():
        good = [run for run in runs if run.error is None]
        errors = sorted({run.error for run in runs if run.error is not None})
        note = f"{len(runs) - len(good)} of {len(runs)} runs failed: {'; '.join(errors)}"
        values = {name: [getattr(run, name) for run in good] for name in MERGED}
        figures = {name: merge(values[name]) for name, merge in MERGED.items()}
        figures |= {f"{name}_range": _range(values[name]) for name in RANGED}
        rows.append(Row(part, server, client, len(good), **figures, note=note if errors else ""))
    return rows


@dataclass(frozen=True, slots=True)
class Verdict:
    """One target of the issue: what was measured against what, and whether it holds."""

    target: str
    measured: str
    passed: bool | None  # None: could not be judged (a peer is missing or a run failed)

    @property
    def label(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


@dataclass(frozen=True, slots=True)
class Section:
    """A part's own verdicts and Markdown lines, beside the shared targets and results."""

    part: str
    verdicts: list[Verdict]
    lines: list[str]


class RowTable:
    """Rows by key, with the lookups the target checks need."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = {row.key: row for row in rows}

    def get(self, part: str, server: str, client: str) -> Row | None:
        return self.rows.get((part, server, client))

    def value(self, part: str, server: str, client: str, figure: str) -> tuple[float | None, str]:
        """The row's ``figure`` (``requests_per_second`` ...), or None and why it is missing
        (the server's own note, if it could not start)."""
        row = self.get(part, server, client) or self.get(part, server, ALL)
        if row is None:
            return None, f"{client} vs {server} was not run"
        value: float | None = getattr(row, figure)
        if value is None:
            return None, f"{client} vs {server}: {row.note or 'no figure reported'}"
        return value, ""


def cell(value: float | int | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


RESULT_HEADERS = [
    "part", "server", "client", "runs", "req/s", "failed (worst)", "p50 ms", "p99 ms",
    "server CPU µs/req", "client CPU µs/req", "client user µs/req", "client peak RSS MB", "note",
]  # fmt: skip
RESULT_NUMERIC = range(3, 12)


def result_cells(row: Row) -> list[str]:
    return [
        row.part, row.server, row.client, str(row.runs),
        cell(row.requests_per_second, ",.0f"), cell(row.failed, "d"),
        cell(row.p50_ms, ".2f"), cell(row.p99_ms, ".2f"), cell(row.server_cpu_us, ".1f"),
        cell(row.client_cpu_us, ".1f"), cell(row.client_user_us, ".1f"),
        cell(row.client_rss_mb, ".1f"), row.note,
    ]  # fmt: skip


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()
) -> str:
    """A GitHub-flavoured Markdown table; columns in ``numeric`` are right-aligned."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    separator = ["---:" if index in numeric else "---" for index in range(len(headers))]
    return "\n".join([line(headers), line(separator), *(line(row) for row in rows)])


def publish(report: str, markdown: Path | None) -> None:
    """Print the report, and write it to ``markdown`` too when asked."""
    print()
    print(report)
    if markdown is not None:
        markdown.write_text(report)
        print(f"report written to {markdown}")


def run_main(main: Callable[[], int]) -> None:
    """Exit with ``main()``'s status; Ctrl-C stops peers and clients (their finally blocks)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: peers and clients stopped", file=sys.stderr)
        sys.exit(130)
