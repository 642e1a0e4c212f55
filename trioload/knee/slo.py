"""Sans-IO service-level objectives and a knee step's verdict.

An SLO bounds a latency percentile (``p50``, ``p99``, ``p99.9``, ...), the mean or the max,
from when each request was due (the open loop's corrected latency, the one a user waits), or
the share of requests that failed. A step passes when it keeps every SLO and the server
answered the rate asked. When it does not, the verdict also says whether trioload, not the
server, was the limit: its own CPU saturated, or it sent requests late although connections
held them ready (its loop behind, not a wait for a connection the server still held) while the
server answered within the SLOs once they were sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trioload.argtypes import parse_duration
from trioload.results.result import BUSY_CLIENT_SHARE, JSON_PERCENTILES, RunResult

#: a step made less than this share of the rate asked: the server did not keep up.
MADE_SHARE = 0.95
#: trioload's own limits, stated in the report: a process this busy (CPU share of a core,
#: as its report's warning) ...
CLIENT_BUSY_SHARE = BUSY_CLIENT_SHARE
#: ... or this share of the requests sent late although a connection held them ready (the
#: client's loop behind, not a wait for a connection the server still held), and most of the
#: late ones. A few are late when the machine is busy for a moment (at a step's start, say);
#: a client that fell behind makes most of them late, where a server that fell behind makes
#: most of them wait for a connection instead.
CLIENT_LATE_SHARE = 0.05

_FAILED = re.compile(r"failed=(\d+(?:\.\d*)?|\.\d+)%")
#: the percentiles a run's summary holds, as an SLO names them: p50 ... p99.99.
PERCENTILES = {f"p{pct:g}": pct for pct in JSON_PERCENTILES}


class SloError(ValueError):
    """An SLO's text that does not parse."""


@dataclass(frozen=True, slots=True)
class Slo:
    """One objective: ``what`` (a percentile like ``p99``, ``mean``, ``max``, or ``failed``)
    at most ``limit`` (ms; for ``failed``, a percentage of the requests)."""

    what: str
    limit: float

    @property
    def is_latency(self) -> bool:
        return self.what != "failed"

    def label(self) -> str:
        return (
            f"failed <= {self.limit:g}%"
            if not self.is_latency
            else f"{self.what} <= {self.limit:g} ms"
        )

    def measure(self, result: RunResult, phase: str) -> float | None:
        """The step's figure for this objective (latency from ``phase``); None: none measured."""
        if not self.is_latency:
            finished = result.tally.finished
            return 100 * result.tally.failed / finished if finished else None
        summary = result.latency_ms.get(phase)
        return None if summary is None or not result.tally.succeeded else summary[self.what]


def parse_slo(text: str) -> Slo:
    """``p99=20ms``, ``p99.9=1s``, ``mean=5ms``, ``max=2s`` or ``failed=0.1%`` (the
    percentiles a run's summary holds: p50, p66, p75, p80, p90, p95, p98, p99, p99.9,
    p99.99)."""
    text = text.strip()
    failed = _FAILED.fullmatch(text)
    if failed is not None:
        return Slo("failed", float(failed[1]))
    what, sep, limit = text.partition("=")
    name = what if what in ("mean", "max") else _percentile(what)
    if not sep or name is None:
        raise SloError(f"expected e.g. p99=20ms, mean=5ms or failed=0.1%, got {text!r}")
    if name not in PERCENTILES and name not in ("mean", "max"):
        raise SloError(f"{what}: a run reports {', '.join(PERCENTILES)}, got {text!r}")
    try:
        return Slo(name, parse_duration(limit, unit_required=True) * 1000)
    except ValueError as exc:
        raise SloError(f"{exc} in {text!r}") from None


def _percentile(what: str) -> str | None:
    """A percentile's name as the summary spells it (``p99.90`` is ``p99.9``); None if it
    is no percentile at all."""
    if not what.startswith("p"):
        return None
    try:
        return f"p{float(what[1:]):g}"
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """A step judged: whether it passed, whether trioload was the limit, and why."""

    passed: bool
    client_bound: bool
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return verdict_label(self.passed, self.client_bound)


def verdict_label(passed: bool, client_bound: bool) -> str:
    """A step's verdict in a word: "pass", "fail" or "client-bound"."""
    return "pass" if passed else "client-bound" if client_bound else "fail"


def judge(result: RunResult, slos: tuple[Slo, ...], asked: float) -> Verdict:
    """Judge a step that asked for ``asked`` req/s against ``slos``."""
    reasons = []
    for slo in slos:
        measured = slo.measure(result, "corrected")
        if measured is None:
            reasons.append(f"no {slo.what} measured")
        elif measured > slo.limit:
            unit = " ms" if slo.is_latency else "%"
            reasons.append(f"{slo.what} {measured:.3g}{unit} > {slo.limit:g}{unit}")
    made = result.requests_per_second
    if made < MADE_SHARE * asked:
        reasons.append(f"made {made:,.0f} of {asked:,.0f} req/s asked")
    passed = not reasons
    busy = result.client_cpu_share >= CLIENT_BUSY_SHARE
    sent = result.tally.histograms["lag"].get_total_count()
    # The client's own lateness failed the step only where the server answered within the
    # latency SLOs once the requests were sent.
    answered_in_time = all(
        (sent_ms := slo.measure(result, "total")) is not None and sent_ms <= slo.limit
        for slo in slos
        if slo.is_latency
    )
    own = result.tally.client_late
    late = answered_in_time and own > CLIENT_LATE_SHARE * sent and 2 * own >= result.tally.late
    client_bound = not passed and (busy or late)
    if client_bound:
        reasons.append(
            f"trioload's CPU {result.client_cpu_share:.0%} of a core"
            if busy
            else f"trioload itself sent {result.tally.client_late} requests late"
        )
    return Verdict(passed, client_bound, tuple(reasons))
