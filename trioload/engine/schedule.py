"""Sans-IO open-model schedule (``-R``): when each request is due, and whether ``-c`` can keep up.

With a rate, request k of the run is due at ``epoch + k / rate``, whether or not the server kept
up with the ones before it (wrk2's model). A request is still sent only when one of the ``-c``
slots is free, so a stalled server makes the due requests queue in trioload: their latency is
measured from when they were due (*corrected* for coordinated omission), and also from when
they were sent (*uncorrected*, ab's figure).

With ``-W``, worker ``part`` of ``parts`` takes every ``parts``-th request of the one schedule,
from a shared epoch, so together the workers still send one even stream.
"""

from __future__ import annotations

from dataclasses import dataclass

#: a request may be sent up to this much before it is due. trio waits in epoll, whose timeout
#: is in whole milliseconds, rounded up: waking for the exact due time would make nearly every
#: request up to 1 ms late, and that lateness (the client's, not the server's) would count in
#: its corrected latency. Waking this much early and sending at once keeps requests within
#: 1 ms of the schedule, on the early side; a request's latency never counts from before it
#: was sent.
EARLY_NS = 1_000_000
#: below this much time per request and slot (c / rate), a schedule is likely to fall behind:
#: each of the ``-c`` slots must then finish a request that fast, on average, to keep up.
TIGHT_SLOT_TIME_S = 0.010


@dataclass(frozen=True, slots=True)
class Schedule:
    """The due times of one process's requests."""

    #: requests per second of the whole run (every worker together).
    rate: float
    #: this process's place among the run's ``parts`` worker processes.
    part: int = 0
    parts: int = 1

    def due_ns(self, index: int) -> int:
        """When this process's request ``index`` (from 0) is due, in ns after the epoch."""
        return int((index * self.parts + self.part) * 1e9 / self.rate)


def tight_concurrency_warning(rate: float, concurrency: int) -> str | None:
    """A warning, before the run, when ``-c`` leaves each request little time at ``-R``."""
    slot_time = concurrency / rate
    if slot_time >= TIGHT_SLOT_TIME_S:
        return None
    return (
        f"warning: -c {concurrency} at -R {rate:g} leaves each request {slot_time * 1000:.3g} ms "
        f"on average (c/R); slower responses put the run behind its schedule (raise -c)"
    )
