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

from trioload.engine.shape import Shape

#: an open loop's work comes in ticks. Every wake of the client costs CPU of its own (trio's
#: scheduler, the system calls, caches gone cold while it slept), more than a request's own
#: Python on a small machine; waking once per request or per response made a paced request
#: cost nearly twice a closed-loop one, and the client fell behind its own schedule well
#: below its closed-loop maximum. So the shard engine wakes at most once a tick for its
#: schedule: each wake sends every request due before the next wake (``EARLY_NS``), and
#: reads every response that arrived since the last one. Responses read late keep their
#: time (the kernel's clock stamps their arrival); a request sent early counts its latency
#: from its send, never from before it, and is never late for want of a wake.
TICK_NS = 2_000_000
#: trio waits in epoll, whose timeout is in whole milliseconds, rounded up: a wake comes up
#: to this much after the time asked for.
WAKE_SLACK_NS = 1_000_000
#: how early a request may be sent: a tick, and a late wake's slack. A wake sends what is due
#: up to this much after it, so that the next wake, a tick on and up to WAKE_SLACK_NS late,
#: comes before the next request is due (a late request's lateness, the client's, would
#: count in its corrected latency).
EARLY_NS = TICK_NS + WAKE_SLACK_NS
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
    #: the rate over time, where it is not the constant ``rate`` (``trioload.engine.shape``).
    shape: Shape | None = None

    def due_ns(self, index: int) -> int:
        """When this process's request ``index`` (from 0) is due, in ns after the epoch."""
        if self.shape is not None:
            return int(self.shape.due_s(index * self.parts + self.part) * 1e9)
        return int((index * self.parts + self.part) * 1e9 / self.rate)

    def asked_by(self, seconds: float) -> float:
        """How many of this process's requests are due by ``seconds`` after the epoch: its
        share of the whole schedule's (the parts' shares add up to the whole)."""
        whole = self.shape.asked_by(seconds) if self.shape is not None else self.rate * seconds
        return max(whole, 0.0) / self.parts


def tick_wake(
    first_due: int,
    last_due: int,
    last_pass: int,
    now: int,
    *,
    stop: int,
    stamped: bool,
    writing: bool = False,
) -> tuple[int, bool]:
    """When an engine holding requests not yet due (``first_due`` to ``last_due``) wakes
    for them, and whether a ready socket should wake it sooner (all in ns on one clock).

    Every request due up to ``EARLY_NS`` after the ``last_pass`` was sent then: the next wake
    sends the rest of the next tick's, and comes a tick after the last at the soonest (at
    ``stop``, ``-t``'s end, at the latest). Responses wait for it when they can: they are
    stamped by the kernel (``stamped``), the wake is at most a tick away, the requests it
    will send already hold their slots (a slot freed sooner would start none of them), and
    no connection is being made or written to (``writing``: those have no stamp to wait
    with, and their requests would be the later for it)."""
    wake = max(first_due - EARLY_NS, last_pass + TICK_NS)
    if stop:
        wake = min(wake, stop)
    reads_wait = stamped and not writing and wake - now <= TICK_NS and last_due > wake + EARLY_NS
    return wake, not reads_wait


def tight_concurrency_warning(rate: float, concurrency: int) -> str | None:
    """A warning, before the run, when ``-c`` leaves each request little time at ``-R``."""
    slot_time = concurrency / rate
    if slot_time >= TIGHT_SLOT_TIME_S:
        return None
    return (
        f"warning: -c {concurrency} at {rate:g} requests/s leaves each request "
        f"{slot_time * 1000:.3g} ms "
        f"on average (c/R); slower responses put the run behind its schedule (raise -c)"
    )
