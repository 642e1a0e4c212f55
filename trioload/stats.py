"""Sans-IO accounting of a run: HDR histograms per phase, failure counters, byte counts.

Memory is constant in the number of requests: four histograms (microseconds, 3 significant
figures, up to an hour) and a handful of integers. Every request started ends up either in
``complete`` (a response arrived and was framed correctly) or in one failure column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

PHASES = ("connect", "processing", "waiting", "total")
FAILURE_KINDS = ("connect", "receive", "length", "exceptions", "write")
#: one hour in microseconds: no request outlives that, and the histogram stays small.
HIGHEST_US = 3_600_000_000
SIGNIFICANT_FIGURES = 3


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, SIGNIFICANT_FIGURES)


# hdrh's record_value costs ~0.9 µs of pure Python per value (four per request). The bucket
# index of a value is a few integer operations, so the hot path increments the histogram's
# counts array directly and ``flush`` brings its total, min and max up to date afterwards.
# These constants are the layout of ``new_histogram()``; ``bucket_index`` is tested against
# hdrh's own index function.
_LAYOUT = new_histogram()
#: values below this have their own bucket (index == value).
_LINEAR_LIMIT: int = _LAYOUT.sub_bucket_count
_HALF_MAGNITUDE: int = _LAYOUT.sub_bucket_half_count_magnitude
_HALF_COUNT: int = _LAYOUT.sub_bucket_half_count
_SUB_MAGNITUDE = _HALF_MAGNITUDE + 1
_COUNTS_LEN: int = _LAYOUT.counts_len
assert _LAYOUT.unit_magnitude == 0, "the fast index assumes 1 µs units"
del _LAYOUT


def bucket_index(value_us: int) -> int:
    """Index of ``value_us`` in the counts of a ``new_histogram()`` (clamped to its range)."""
    if value_us < _LINEAR_LIMIT:
        return value_us if value_us > 0 else 1
    value_us = min(value_us, HIGHEST_US)
    shift = value_us.bit_length() - _SUB_MAGNITUDE
    return ((shift + 1) << _HALF_MAGNITUDE) + (value_us >> shift) - _HALF_COUNT


def _sync_tracking(histogram: HdrHistogram) -> None:
    """Recompute total, min and max from the counts (after direct increments or a merge)."""
    counts: Any = histogram.counts
    total = sum(counts)
    if total == 0:
        return
    lowest = next(i for i in range(_COUNTS_LEN) if counts[i])
    highest = next(i for i in range(_COUNTS_LEN - 1, -1, -1) if counts[i])
    histogram.set_internal_tacking_values(lowest, highest, total)


@dataclass
class RunStats:
    """What a run measured so far; merged across worker processes with ``merge``."""

    histograms: dict[str, HdrHistogram] = field(
        default_factory=lambda: {phase: new_histogram() for phase in PHASES}
    )
    complete: int = 0
    failures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAILURE_KINDS, 0))
    non_2xx: int = 0
    keep_alive_requests: int = 0
    total_bytes: int = 0
    html_bytes: int = 0
    #: body length of the first good response; later ones that differ are Length failures.
    document_length: int | None = None
    server_software: str = ""

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def finished(self) -> int:
        """Requests that ended either way (ab's "Complete requests" counts these)."""
        return self.complete + self.failed

    def record_response(
        self,
        *,
        connect_us: int,
        processing_us: int,
        waiting_us: int,
        total_us: int,
        status: int,
        wire_bytes: int,
        body_bytes: int,
        keep_alive: bool,
    ) -> None:
        """A response that arrived whole; a body length unlike the first is a Length failure."""
        self.total_bytes += wire_bytes
        if self.document_length is None:
            self.document_length = body_bytes
        elif body_bytes != self.document_length:
            self.failures["length"] += 1
            return
        self.complete += 1
        self.html_bytes += body_bytes
        if not 200 <= status < 300:
            self.non_2xx += 1
        if keep_alive:
            self.keep_alive_requests += 1
        histograms = self.histograms
        histograms["connect"].counts[bucket_index(connect_us)] += 1
        histograms["processing"].counts[bucket_index(processing_us)] += 1
        histograms["waiting"].counts[bucket_index(waiting_us)] += 1
        histograms["total"].counts[bucket_index(total_us)] += 1

    def flush(self) -> None:
        """Bring each histogram's total, min and max up to date (before any is read)."""
        for histogram in self.histograms.values():
            _sync_tracking(histogram)

    def record_failure(self, kind: str, wire_bytes: int = 0) -> None:
        self.failures[kind] += 1
        self.total_bytes += wire_bytes

    def merge(self, other: RunStats) -> None:
        """Add another process's run into this one."""
        self.flush()
        other.flush()
        for phase in PHASES:
            self.histograms[phase].add(other.histograms[phase])
        self.complete += other.complete
        for kind in FAILURE_KINDS:
            self.failures[kind] += other.failures[kind]
        self.non_2xx += other.non_2xx
        self.keep_alive_requests += other.keep_alive_requests
        self.total_bytes += other.total_bytes
        self.html_bytes += other.html_bytes
        if self.document_length is None:
            self.document_length = other.document_length
        self.server_software = self.server_software or other.server_software
