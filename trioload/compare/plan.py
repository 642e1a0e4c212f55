"""What ``trioload compare`` was asked to do: the targets, each with its run's configuration, and
how the rounds go. Frozen, built by ``compare.command``, read by the rounds and the report."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from trioload.config import LoadConfig

#: what the table can be ranked by, and whether more is better.
RANKINGS = {"rps": True, "cpu": False, "p99": False}
#: rounds by default: enough for a 95% interval from order statistics (6 is the least) with
#: room to spare, and for the paired comparisons to tell ±5% apart on a quiet machine.
DEFAULT_ROUNDS = 10
#: the least ``--rounds``: fewer leaves no interval worth printing.
MIN_ROUNDS = 3
#: the warm-up run before the first round, as a share of each measured run (-n or -t).
DEFAULT_WARMUP = 0.1
#: seconds between two runs: the server's queues drain and its CPU figure covers its run alone.
DEFAULT_PAUSE_S = 1.0


@dataclass(frozen=True, slots=True)
class Target:
    """One server to compare: its name, and the run trioload makes against it each round."""

    name: str
    config: LoadConfig
    #: ``--serve``: the command trioload starts (and stops) for it.
    serve: tuple[str, ...] | None = None
    #: ``--pid``: a server already running, whose process tree's CPU is read.
    pid: int | None = None

    @property
    def url(self) -> str:
        return self.config.url


@dataclass(frozen=True, slots=True)
class ComparePlan:
    """The whole comparison: targets in the order given, the baseline, and the rounds."""

    targets: tuple[Target, ...]
    baseline: str
    rounds: int = DEFAULT_ROUNDS
    #: None: the order alternates (forward, backward, ...); else shuffled each round from it.
    seed: int | None = None
    rank_by: str = "rps"
    warmup: float = DEFAULT_WARMUP
    pause_s: float = DEFAULT_PAUSE_S
    json_path: str | None = None

    @property
    def run_description(self) -> str:
        """Each run's shape in flags, as the report's first line says it."""
        config = self.targets[0].config
        words = [f"-c {config.concurrency}"]
        if config.requests is not None:
            words.append(f"-n {config.requests}")
        if config.time_limit is not None and config.shape is None:
            words.append(f"-t {config.time_limit:g}")
        if config.rate is not None:
            words.append(config.rate_flags)
        if config.workers > 1:
            words.append(f"-W {config.workers}")
        words.append("-k" if config.keep_alive else "(keep-alive off)")
        return " ".join(words)

    def order(self, round_index: int) -> list[Target]:
        """The targets in the order round ``round_index`` (from 0) runs them: drift over the
        rounds (a warming machine, a neighbour's load) then hits every target alike."""
        targets = list(self.targets)
        if self.seed is not None:
            random.Random(self.seed * 1_000_003 + round_index).shuffle(targets)
        elif round_index % 2:
            targets.reverse()
        return targets

    def warmup_config(self, target: Target) -> LoadConfig | None:
        """The target's warm-up run: its run cut to ``warmup`` of its length; None for none."""
        config = target.config
        if self.warmup <= 0:
            return None
        requests = config.requests
        if requests is not None:
            # A connection's worth at least, and never more than the run itself.
            requests = min(requests, max(config.concurrency, round(requests * self.warmup)))
        limit = config.time_limit * self.warmup if config.time_limit is not None else None
        return replace(config, requests=requests, time_limit=limit)
