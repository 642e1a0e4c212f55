"""Sans-IO knee search: which constant rate to try next, and what the steps found.

A climb first: from the first rate, each step ``GROWTH`` times the last that passed, until one
fails (or ``--to`` passed). Then bisection between the highest that passed and the lowest
that failed, until they are within ``RESOLUTION`` of each other: the knee is the highest rate
that passed. A first step that fails is halved instead, down to ``--from`` where one was given
(or to ``FLOOR_SHARE`` of the first), so that a first guess too high still finds the knee.
A step where trioload itself was the limit ends the search: above it, nothing measured would
be the server's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

#: each climbing step asks for this many times the last that passed.
GROWTH = 1.5
#: bisection stops once the lowest failing rate is within this share above the highest pass.
RESOLUTION = 0.02
#: a search that starts too high halves its rate down to this share of its first, at most.
FLOOR_SHARE = 1 / 64
#: at most this many steps, whatever happens.
MAX_STEPS = 40


class Ending(StrEnum):
    """How a search ended."""

    #: the knee lies between the highest pass and the lowest failure, within RESOLUTION.
    KNEE = "knee"
    #: every step passed, up to ``--to``: the knee is above it.
    HELD = "held"
    #: no step passed, down to the lowest rate tried.
    NONE_PASSED = "none passed"
    #: trioload itself fell behind: the rest is the client's limit, not the server's.
    CLIENT_BOUND = "client-bound"
    #: MAX_STEPS ran out before any of the above.
    OUT_OF_STEPS = "out of steps"


@dataclass
class KneeSearch:
    """The rates tried so far and what each did; ``next_rate`` says what comes next."""

    first: float
    #: ``--from``: the lowest rate to try (a failing first step goes no lower).
    lowest: float | None = None
    #: ``--to``: the highest rate to try.
    highest: float | None = None
    passed: float | None = None  # the highest rate that passed
    failed: float | None = None  # the lowest rate that failed
    client_bound_at: float | None = None
    steps: list[tuple[float, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.highest is not None:  # a first guess (the probe's) above --to starts there
            self.first = min(self.first, self.highest)

    def record(self, rate: float, passed: bool, client_bound: bool = False) -> None:
        """What the step at ``rate`` did."""
        self.steps.append((rate, passed))
        if client_bound:
            self.client_bound_at = rate
        elif passed:
            self.passed = rate if self.passed is None else max(self.passed, rate)
        else:
            self.failed = rate if self.failed is None else min(self.failed, rate)

    @property
    def ending(self) -> Ending | None:
        """How the search ended; None while it goes on."""
        if self.client_bound_at is not None:
            return Ending.CLIENT_BOUND
        if self.passed is not None and self.failed is not None:
            if self.failed <= self.passed * (1 + RESOLUTION):
                return Ending.KNEE
        elif self.passed is not None and self.highest is not None and self.passed >= self.highest:
            return Ending.HELD
        elif self.failed is not None and self.passed is None and self._down() is None:
            return Ending.NONE_PASSED
        if len(self.steps) >= MAX_STEPS:
            return Ending.OUT_OF_STEPS
        return None

    def next_rate(self) -> float | None:
        """The rate of the next step; None once the search has ended."""
        if self.ending is not None:
            return None
        if not self.steps:
            return self.first
        if self.failed is None:  # climbing
            assert self.passed is not None
            rate = self.passed * GROWTH
            return rate if self.highest is None else min(rate, self.highest)
        if self.passed is None:  # every step so far failed: go down
            return self._down()
        return (self.passed + self.failed) / 2

    def _down(self) -> float | None:
        """Half the lowest failure, not below ``--from`` (or the floor); None: nowhere left."""
        assert self.failed is not None
        floor = self.lowest if self.lowest is not None else self.first * FLOOR_SHARE
        if self.failed <= floor:
            return None
        return max(self.failed / 2, floor)
