"""The seed table's ``trioload compare`` run, in and out: its command line (from the peers,
their ports and the load options), and the Markdown table of its JSON document (its targets in
its ranking beside the seed's rank and req/s, then the seed's peers that did not run and why).
Plain code: nothing here starts a process or reads a file."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..peers import PeerSpec
from ..report import markdown_table
from .peers import SeedPeer

#: nginx is the reference server everyone knows: a ratio against it reads at a glance.
PREFERRED_BASELINE = "nginx"
#: the CPU a server spends on a request ranks servers; req/s ranks the client when it is the
#: ceiling, as it is for every fast server at c=1000 with keep-alive off.
RANK_BY = "cpu"


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """What every target gets: ``-c``, ``-n``, the rounds, the pause and where the JSON goes."""

    requests: int
    concurrency: int
    rounds: int
    pause: float
    json_path: Path


def trioload_command(python: str = sys.executable) -> list[str]:
    """The venv's ``trioload`` console script beside ``python``, else ``python -m trioload``."""
    script = Path(python).parent / "trioload"
    return [str(script)] if script.exists() else [python, "-m", "trioload"]


def choose_baseline(names: Sequence[str]) -> str:
    """nginx when it is among ``names``, else the first."""
    return PREFERRED_BASELINE if PREFERRED_BASELINE in names else names[0]


def serve_command(spec: PeerSpec, port: int, cwd: Path) -> str:
    """The peer's command for ``--serve``, run from ``cwd``: ``env -C`` moves it to its own
    folder first where it has one (env execs it, so the process tree compare measures is the
    peer's alone)."""
    argv = spec.argv(port)
    if spec.cwd != cwd:
        argv = ["env", "-C", str(spec.cwd), *argv]
    return shlex.join(argv)


def compare_argv(
    trioload: Sequence[str],
    served: Sequence[tuple[PeerSpec, int]],
    options: LoadOptions,
    *,
    host: str,
    cwd: Path,
) -> list[str]:
    """``trioload compare`` over ``served`` (each peer with its port), ranked by server CPU a
    request, against nginx (or the first peer); compare runs from ``cwd``."""
    names = [spec.name for spec, _ in served]
    argv = [
        *trioload, "compare",
        "-c", str(options.concurrency), "-n", str(options.requests),
        "--rounds", str(options.rounds), "--rank-by", RANK_BY,
        "--pause", f"{options.pause:g}", "--baseline", choose_baseline(names),
        "--json", str(options.json_path),
    ]  # fmt: skip
    for spec, port in served:
        argv += ["--serve", f"{spec.name}={serve_command(spec, port, cwd)}"]
    argv += [f"{spec.name}=http://{host}:{port}/" for spec, port in served]
    return argv


#: the document's key of each interval column, and how its figures are written.
INTERVALS = (
    ("server_cpu_us_per_request", ".1f"),
    ("rps", ",.0f"),
    ("p99_ms", ".2f"),
)
#: the comparison shown against the baseline: the metric the table is ranked by.
VERSUS_METRIC = "server_cpu"


def headers(baseline: str) -> list[str]:
    return [
        "rank here", "server", "server CPU µs/req [95% CI]", "req/s [95% CI]",
        "p99 ms [95% CI]", f"vs {baseline} (server CPU)", "failed", "the seed's rank",
        "the seed's req/s", "differs from the seed",
    ]  # fmt: skip


#: the right-aligned columns: every figure but the ratio, whose interval reads better left.
NUMERIC = (0, 2, 3, 4, 6, 7, 8)


def interval(estimate: Mapping[str, Any] | None, fmt: str) -> str:
    """``median [low\u2013high]`` (an en dash), or "-" for a metric that was not measured."""
    if estimate is None:
        return "-"
    low, high = estimate["ci95"]
    return f"{estimate['median']:{fmt}} [{low:{fmt}}\u2013{high:{fmt}}]"


def versus(document: Mapping[str, Any]) -> dict[str, str]:
    """Each target's verdict against the baseline on server CPU a request: the ratio with its
    interval, "~" and the p-value when not significant, or why there is none."""
    found = {document["baseline"]: "baseline"}
    for comparison in document["comparisons"]:
        if comparison["metric"] == VERSUS_METRIC:
            found[comparison["name"]] = _verdict(comparison)
    return found


def _verdict(comparison: Mapping[str, Any]) -> str:
    """compare's verdict, with the p-value beside a "~" as compare's report shows it."""
    verdict, p_value = comparison["verdict"], comparison.get("p_value")
    if verdict is None:
        missing = comparison.get("missing")
        return f"- ({missing})" if missing else "-"
    return f"~ (p={p_value:.3f})" if verdict == "~" and p_value is not None else str(verdict)


def _failed(target: Mapping[str, Any]) -> str:
    died = target.get("died_after_round")
    text = f"{target['failed']:,}"
    return text if died is None else f"{text} (died after round {died})"


def rows(
    document: Mapping[str, Any], peers: Sequence[SeedPeer], seed_ranks: Mapping[str, int],
    skipped: Mapping[str, str],
) -> list[list[str]]:  # fmt: skip
    """The table's cells: the measured targets by rank, then the peers that did not run."""
    by_name = {peer.name: peer for peer in peers}
    verdicts = versus(document)

    def seed_cells(name: str) -> list[str]:
        peer = by_name.get(name)
        rps = peer.seed_rps if peer is not None else None
        return [str(seed_ranks.get(name, "-")), "-" if rps is None else f"{rps:,.0f}"]

    found = []
    for target in sorted(document["targets"], key=lambda target: target["rank"]):
        name = target["name"]
        figures = [interval(target[key], fmt) for key, fmt in INTERVALS]
        note = by_name[name].note if name in by_name else ""
        found.append([str(target["rank"]), name, *figures, verdicts.get(name, "-"),
                      _failed(target), *seed_cells(name), note])  # fmt: skip
    measured = {target["name"] for target in document["targets"]}
    for peer in peers:
        if peer.name not in measured:
            why = skipped.get(peer.name, "not run")
            found.append(["-", peer.name, "-", "-", "-", "-", "-", *seed_cells(peer.name), why])
    return found


def markdown(
    document: Mapping[str, Any], peers: Sequence[SeedPeer], seed_ranks: Mapping[str, int],
    skipped: Mapping[str, str],
) -> str:  # fmt: skip
    """The whole table, GitHub-flavoured."""
    cells = rows(document, peers, seed_ranks, skipped)
    return markdown_table(headers(document["baseline"]), cells, NUMERIC)
