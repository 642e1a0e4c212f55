"""Sans-IO rate shapes: stages of constant or linearly ramping rate (``-R A:B``, ``--stages``).

A shape says how many requests are asked for by each moment of the run: in a stage that goes
from rate ``a`` to rate ``b`` over ``T`` seconds, ``a·t + (b - a)·t²/(2T)`` by ``t``. Request
``k`` of the run (from 0) is due when that count reaches ``k``, as with a constant ``-R``,
where request ``k`` is due at ``k / rate``: the shape only bends the clock the requests are
counted on, so ``-W`` workers and ``--segment`` parts still take every ``parts``-th request
of one schedule, and together send exactly the shape.

The text forms: ``-R 200:1000`` ramps from 200 to 1000 req/s over the run's ``-t``;
``--stages 10s@100,30s@100:1000,20s@1000`` runs its stages in order (k6's ramping arrival
rate), each ``DURATION@RATE`` or ``DURATION@FROM:TO``; a duration is seconds, with an
optional unit (``trioload.argtypes.parse_duration``).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from trioload.argtypes import parse_duration


class ShapeError(ValueError):
    """A shape's text that does not parse, or a shape that asks for nothing."""


@dataclass(frozen=True, slots=True)
class Stage:
    """``seconds`` of rate going linearly from ``start`` to ``end`` req/s (equal: constant)."""

    seconds: float
    start: float
    end: float

    @property
    def requests(self) -> float:
        """How many requests the stage asks for."""
        return (self.start + self.end) / 2 * self.seconds

    def asked_by(self, t: float) -> float:
        """Requests asked for by ``t`` seconds into the stage (``0 <= t <= seconds``)."""
        return self.start * t + (self.end - self.start) * t * t / (2 * self.seconds)

    def time_of(self, count: float) -> float:
        """Seconds into the stage at which ``count`` requests have been asked for (the root
        of ``asked_by``, in the form that holds for a constant rate and a ramp from 0)."""
        if count <= 0:
            return 0.0
        slope = (self.end - self.start) / self.seconds
        root = math.sqrt(max(self.start * self.start + 2 * slope * count, 0.0))
        return 2 * count / (self.start + root)


@dataclass(frozen=True)
class Shape:
    """A run's rate over time: its stages, in order, from the schedule's epoch."""

    stages: tuple[Stage, ...]
    #: each stage's start (seconds) and the requests asked for before it.
    _starts: tuple[float, ...] = field(init=False, repr=False)
    _counts: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts, counts, t, n = [], [], 0.0, 0.0
        for stage in self.stages:
            starts.append(t)
            counts.append(n)
            t, n = t + stage.seconds, n + stage.requests
        object.__setattr__(self, "_starts", tuple(starts))
        object.__setattr__(self, "_counts", tuple(counts))
        if n < 1:
            raise ShapeError("the shape asks for no request at all")

    @property
    def seconds(self) -> float:
        return sum(stage.seconds for stage in self.stages)

    @property
    def requests(self) -> float:
        """How many requests the whole shape asks for."""
        return sum(stage.requests for stage in self.stages)

    @property
    def mean_rate(self) -> float:
        return self.requests / self.seconds

    @property
    def peak_rate(self) -> float:
        return max(max(stage.start, stage.end) for stage in self.stages)

    def due_s(self, index: int) -> float:
        """When request ``index`` of the run (from 0) is due, in seconds after the epoch;
        past the last stage for a request the shape does not ask for."""
        # the last stage that starts at or before it (past any pause that asks for nothing)
        where = bisect.bisect_right(self._counts, index) - 1
        stage = self.stages[where]
        left = index - self._counts[where]
        if left >= stage.requests:
            return self.seconds + 1.0  # asked for by no stage: after the run
        return self._starts[where] + stage.time_of(left)

    def asked_by(self, t: float) -> float:
        """Requests asked for by ``t`` seconds after the epoch."""
        if t <= 0:
            return 0.0
        where = bisect.bisect_right(self._starts, t) - 1
        stage = self.stages[where]
        return self._counts[where] + stage.asked_by(min(t - self._starts[where], stage.seconds))

    def label(self) -> str:
        """The shape as ``--stages`` would take it."""
        return ",".join(
            f"{stage.seconds:g}s@{_rate_text(stage.start, stage.end)}" for stage in self.stages
        )


def _rate_text(start: float, end: float) -> str:
    return f"{start:g}" if start == end else f"{start:g}:{end:g}"


def parse_rate(text: str) -> tuple[float, float]:
    """``-R``'s value: ``N`` req/s, or a ramp ``A:B``; (start, end), equal for a constant."""
    first, sep, second = text.partition(":")
    start = _rate(first, text)
    end = _rate(second, text) if sep else start
    if not sep and start <= 0:
        raise ShapeError(f"a rate must be above zero: {text!r}")
    if start <= 0 and end <= 0:
        raise ShapeError(f"a ramp must rise above zero somewhere: {text!r}")
    return start, end


def _rate(word: str, text: str) -> float:
    try:
        rate = float(word)
    except ValueError:
        raise ShapeError(f"not a rate (req/s, or A:B for a ramp): {text!r}") from None
    if rate < 0 or not math.isfinite(rate):
        raise ShapeError(f"a rate must be zero or more: {text!r}")
    return rate


def parse_stages(text: str) -> Shape:
    """``--stages``: comma-separated ``DURATION@RATE`` or ``DURATION@FROM:TO``."""
    stages, parts = [], text.split(",")
    for part in parts:
        duration, sep, rate = part.strip().partition("@")
        if not sep or not rate:
            raise ShapeError(f"a stage is DURATION@RATE or DURATION@FROM:TO, got {part!r}")
        start, end = parse_rate(rate) if ":" in rate else (_rate(rate, part),) * 2
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise ShapeError(str(exc)) from None
        stages.append(Stage(seconds, start, end))
    shape = Shape(tuple(stages))
    if stages[-1].requests == 0:  # the run would end with the stage before, and say so wrong
        raise ShapeError(f"the last stage asks for nothing: leave {parts[-1].strip()!r} out")
    return shape
