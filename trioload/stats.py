"""Sans-IO accounting of a run: HDR histograms per phase, failure counters, byte counts.

Memory is constant in the number of requests: four histograms (microseconds, 3 significant
figures, up to an hour) and a handful of integers. Every request started ends up either in
``complete`` (a response arrived and was framed correctly) or in one failure column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

PHASES = ("connect", "processing", "waiting", "total")
FAILURE_KINDS = ("connect", "receive", "length", "exceptions", "write")
#: one hour in microseconds: no request outlives that, and the histogram stays small.
HIGHEST_US = 3_600_000_000
SIGNIFICANT_FIGURES = 3
PENDING_MAX = 50_000


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, SIGNIFICANT_FIGURES)


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
    #: per phase, microseconds → count, not yet in the histogram (see ``record_response``).
    _pending: tuple[dict[int, int], ...] = field(
        default_factory=lambda: tuple({} for _ in PHASES), repr=False
    )

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
        # Recording into hdrh costs ~1 µs of pure Python per value: count repeats in a dict
        # (C speed) and hand them to the histograms in bulk. The dicts hold at most
        # PENDING_MAX distinct values, so memory stays constant.
        connect, processing, waiting, total = self._pending
        connect[connect_us] = connect.get(connect_us, 0) + 1
        processing[processing_us] = processing.get(processing_us, 0) + 1
        waiting[waiting_us] = waiting.get(waiting_us, 0) + 1
        total[total_us] = total.get(total_us, 0) + 1
        if len(total) >= PENDING_MAX or len(connect) >= PENDING_MAX:
            self.flush()

    def flush(self) -> None:
        """Move pending samples into the histograms (done before any histogram is read)."""
        for phase, pending in zip(PHASES, self._pending, strict=True):
            histogram = self.histograms[phase]
            for value, count in pending.items():
                histogram.record_value(max(value, 1), count)
            pending.clear()

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
