"""Sans-IO: what ``trioload knee`` was asked (``KneePlan``), and what its steps found
(``Step``, ``KneeOutcome``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from trioload.config import LoadConfig
from trioload.knee.search import KneeSearch
from trioload.knee.slo import Slo, Verdict
from trioload.results.result import RunResult


@dataclass(frozen=True)
class KneePlan:
    """What ``trioload knee`` was asked: the run every step makes (but its rate and length),
    the objectives, the range, and each step's warm-up and measured seconds."""

    config: LoadConfig
    slos: tuple[Slo, ...]
    lowest: float | None
    highest: float | None
    warm_up_s: float
    window_s: float
    probe_s: float
    json_path: str | None = None

    def step_config(self, rate: float, seconds: float) -> LoadConfig:
        """A constant ``rate`` for ``seconds``: the open loop, however many requests."""
        return dataclasses.replace(
            self.config, rate=rate, shape=None, time_limit=seconds, requests=None
        )


@dataclass(frozen=True)
class Step:
    """One measured window: the rate asked, what the run measured, and its verdict."""

    rate: float
    result: RunResult
    verdict: Verdict


@dataclass
class KneeOutcome:
    """What the search found so far (all of it, once ``run_knee`` returns)."""

    search: KneeSearch | None = None
    #: the closed loop's req/s at -c, when the first rate came from it.
    probe_rps: float | None = None
    steps: list[Step] = field(default_factory=list)
    interrupted: bool = False
    #: why the search stopped before its end (a probe whose requests all failed, a run that
    #: could not be made); None: it did not.
    error: str | None = None
