"""The one ``trioload compare`` run the seed table is: its command line, from the peers, their
ports and the load options. Plain code: nothing here starts a process."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..peers import PeerSpec

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
