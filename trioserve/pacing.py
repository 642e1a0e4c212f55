"""Sans-IO: when the server stalls (``--stall-every S --stall-for S``); no clock, no sockets.

A stall is a known outage to measure a load generator against: a client that counts its
latency from when it sent (closed loop) hides the requests it did not send during the stall,
while one that counts from when each request was due shows them (coordinated omission).

Counted from ``start`` (when the server began listening), the stalls cover

    [start + k*every - length, start + k*every)    for k = 1, 2, ...

so the first one begins at ``every - length`` and each ends where a period ends. The server
asks ``stall_end(start, now)`` whenever it reaches ``next_stall(start, now)``; both answer for
any ``now``, the boundaries included, from the same arithmetic, so a wake-up at a stall's end
is never taken for a moment inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StallSchedule:
    """Stalls of ``length`` seconds at the end of every ``every`` seconds."""

    every: float
    length: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.every) and 0 < self.length < self.every):
            raise ValueError(
                f"a stall schedule needs 0 < length < every (finite), "
                f"got length {self.length} and every {self.every}"
            )

    def stall_end(self, start: float, now: float) -> float | None:
        """The end of the stall ``now`` falls in, or None when the server may run."""
        k = self._period(start, now)
        if self._stall_start(start, k) <= now:
            return self._period_end(start, k)
        return None

    def next_stall(self, start: float, now: float) -> float:
        """The start of the first stall that begins after ``now``."""
        k = self._period(start, now)
        if self._stall_start(start, k) <= now:
            k += 1  # this period's stall has begun (now is in it)
        return self._stall_start(start, k)

    def _period(self, start: float, now: float) -> int:
        """The k >= 1 whose period, [end of k - 1, end of k), holds ``now`` (k = 1 before it)."""
        every = self.every
        k = max(1, math.floor((now - start) / every) + 1)
        # The division rounds: settle k on the bounds exactly as ``_period_end`` computes them.
        while k > 1 and self._period_end(start, k - 1) > now:
            k -= 1
        while self._period_end(start, k) <= now:
            k += 1
        return k

    def _period_end(self, start: float, k: int) -> float:
        return start + k * self.every

    def _stall_start(self, start: float, k: int) -> float:
        return self._period_end(start, k) - self.length
