"""Sans-IO tally of a run: HDR histograms per phase, failure counters, byte counts.

Memory is constant in the number of requests: four histograms (microseconds, 3 significant
figures, up to an hour) and a handful of integers. Every request that ends is *finished*, and
is either *succeeded* (a response arrived and was framed correctly) or counted in one
``Failure`` column.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import compress
from typing import Any

from hdrh.histogram import HdrHistogram

PHASES = ("connect", "processing", "waiting", "total")
#: with a schedule (``-R``): latency from when each request was due (corrected for coordinated
#: omission), and how late each one started.
SCHEDULE_PHASES = ("corrected", "lag")
#: by the kernel's clock: how long after each response's bytes arrived trioload read them.
READ_LAG = "read_lag"
ALL_PHASES = (*PHASES, *SCHEDULE_PHASES, READ_LAG)
_LAG, _READ_LAG = ALL_PHASES.index("lag"), ALL_PHASES.index(READ_LAG)
#: the clock a run's response times were taken by: the kernel's receive timestamps, or the
#: engine's own reads (``perf_counter``). The JSON's ``clock`` and the report say which.
KERNEL_CLOCK = "kernel"
READ_CLOCK = "read"
#: a scheduled request that starts this many µs after it was due or later counts as late.
LATE_US = 1000


class Failure(StrEnum):
    """ab's failure columns; a failed request is counted in exactly one."""

    #: the connection could not be made (refused, unreachable, timed out while connecting).
    CONNECT = "connect"
    #: the connection broke, or timed out, before the whole response arrived.
    RECEIVE = "receive"
    #: the body's length differs from the first response's ("Document Length").
    LENGTH = "length"
    #: the response was not HTTP/1.x, or its framing was malformed.
    EXCEPTIONS = "exceptions"
    #: the request could not be sent whole (ab's "Write errors").
    WRITE = "write"


#: one hour in microseconds: no request outlives that, and the histogram stays small.
HIGHEST_US = 3_600_000_000
SIGNIFICANT_FIGURES = 3


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, SIGNIFICANT_FIGURES)


# hdrh's record_value is pure Python, and a request records four values: at that price the
# accounting would cost more than the rest of the request (docs/benchmarks.md). The bucket
# index of a value is a few integer operations, and for the values most requests take (under
# ``_TABLE_LIMIT`` µs) one look-up in a table built at import. The hot path counts into plain
# lists (a ctypes array's item is slower to bump) that ``_flush`` adds to the histograms' counts.
# These constants are the layout of ``new_histogram()``; ``bucket_index`` and the table are
# tested against hdrh's own index function.
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


def _index_table(limit: int) -> list[int]:
    """``bucket_index(v)`` for every ``0 <= v < limit`` (a power of two), built run by run:
    above the linear range, each bucket covers a run of equal indexes."""
    table = [1, *range(1, _LINEAR_LIMIT)]
    start = _LINEAR_LIMIT
    while start < limit:
        width = 1 << (start.bit_length() - _SUB_MAGNITUDE)
        for value in range(start, 2 * start, width):
            table += [bucket_index(value)] * width
        start *= 2
    return table


#: 2**17 µs = 131 ms: a 1 MB table covers the latencies of nearly every request.
_TABLE_LIMIT = 1 << 17
INDEX_TABLE = _index_table(_TABLE_LIMIT)


def _add_into(live: list[int], pending: list[int]) -> None:
    """Move what is left in ``pending`` (nothing, once ``_add_pending`` took it) into
    ``live``, zeroing ``pending``."""
    for index in compress(range(_COUNTS_LEN), pending):
        live[index] += pending[index]
        pending[index] = 0


def _add_pending(histograms: tuple[HdrHistogram, ...], pending: list[int]) -> None:
    """Add counts recorded straight into ``pending`` to each of ``histograms`` and clear it,
    then widen their totals, mins and maxes to cover them (hdrh's own ``add`` keeps them for
    merged histograms)."""
    # compress() skips the empty buckets in C: most of the 23,552 are empty.
    filled = list(compress(range(_COUNTS_LEN), pending))
    if not filled:
        return
    added = sum(pending[index] for index in filled)
    for histogram in histograms:
        counts: Any = histogram.counts
        for index in filled:
            counts[index] += pending[index]
        lowest, highest, total = filled[0], filled[-1], histogram.get_total_count()
        if total:
            lowest = min(lowest, bucket_index(histogram.get_min_value()))
            highest = max(highest, bucket_index(histogram.get_max_value()))
        histogram.set_internal_tacking_values(lowest, highest, total + added)
    for index in filled:
        pending[index] = 0


def clear_histogram(histogram: HdrHistogram) -> None:
    """Empty ``histogram`` in place, for reuse. hdrh's ``reset`` walks every bucket in pure
    Python; and a histogram dropped rather than reused lingers until a full garbage collection
    (it and its encoder refer to each other), ~190 kB each."""
    ctypes.memset(histogram.counts, 0, ctypes.sizeof(histogram.counts))
    histogram.total_count = 0
    histogram.min_value = sys.maxsize
    histogram.max_value = 0


def _new_pending() -> tuple[list[int], ...]:
    return tuple([0] * _COUNTS_LEN for _ in ALL_PHASES)


def _new_histograms() -> dict[str, HdrHistogram]:
    return {phase: new_histogram() for phase in ALL_PHASES}


def _bump(counts: list[int], value_us: int) -> None:
    counts[INDEX_TABLE[value_us] if value_us < _TABLE_LIMIT else bucket_index(value_us)] += 1


@dataclass
class Tally:
    """What a run measured so far; merged across worker processes with ``merge``."""

    _histograms: dict[str, HdrHistogram] = field(default_factory=_new_histograms, repr=False)
    #: the same, for the counts since the last ``take_interval_in_steps`` (the timeline's).
    _interval: dict[str, HdrHistogram] = field(default_factory=_new_histograms, repr=False)
    succeeded: int = 0
    failures: dict[Failure, int] = field(default_factory=lambda: dict.fromkeys(Failure, 0))
    non_2xx: int = 0
    keep_alive_requests: int = 0
    total_bytes: int = 0
    html_bytes: int = 0
    #: body length of the first good response; later ones that differ are Length failures.
    document_length: int | None = None
    server_software: str = ""
    #: ``-l``: bodies may differ in length (no Length failures), as for dynamic pages.
    variable_length: bool = False
    #: over https, ab's "SSL/TLS Protocol" (protocol, cipher, its secret bits) and "Server
    #: Temp Key" (where Python's ssl module can tell it), from the first connection.
    tls_protocol: str = ""
    tls_temp_key: str = ""
    #: scheduled requests (``-R``) that started ``LATE_US`` or more after they were due.
    late: int = 0
    #: of those, the ones late although a connection held them ready before they were due:
    #: the client's own lateness (its loop behind), not a wait for a free connection.
    client_late: int = 0
    #: per phase, counts recorded since the last ``_flush`` (same layout as the histograms').
    _pending: tuple[list[int], ...] = field(default_factory=_new_pending, repr=False)
    #: zeroed lists that take ``_pending``'s place when an interval is cut.
    _spare: tuple[list[int], ...] = field(default_factory=_new_pending, repr=False)

    @property
    def histograms(self) -> dict[str, HdrHistogram]:
        """The histogram of each phase, with every response recorded so far."""
        self._flush()
        return self._histograms

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def finished(self) -> int:
        """Requests that ended either way (ab's "Complete requests" counts these)."""
        return self.succeeded + self.failed

    def record_response(  # noqa: PLR0917 -- positional: keywords cost, and it runs per request
        self,
        connect_us: int,
        processing_us: int,
        waiting_us: int,
        total_us: int,
        status: int,
        wire_bytes: int,
        body_bytes: int,
        keep_alive: bool,
        corrected_us: int = -1,
        read_lag_us: int = -1,
    ) -> None:
        """A response that arrived whole; a body length unlike the first is a Length failure.

        ``corrected_us``: with a schedule, the latency from when the request was due;
        ``read_lag_us``: by the kernel's clock, how long after its arrival it was read."""
        if read_lag_us >= 0:  # whatever the response: the lag is the client's
            _bump(self._pending[_READ_LAG], read_lag_us)
        self.total_bytes += wire_bytes
        if self.document_length is None:
            self.document_length = body_bytes
        elif body_bytes != self.document_length and not self.variable_length:
            self.failures[Failure.LENGTH] += 1
            return
        self.succeeded += 1
        self.html_bytes += body_bytes
        if not 200 <= status < 300:
            self.non_2xx += 1
        if keep_alive:
            self.keep_alive_requests += 1
        table, limit = INDEX_TABLE, _TABLE_LIMIT
        connect, processing, waiting, total, corrected, _, _ = self._pending
        connect[table[connect_us] if connect_us < limit else bucket_index(connect_us)] += 1
        processing[
            table[processing_us] if processing_us < limit else bucket_index(processing_us)
        ] += 1
        waiting[table[waiting_us] if waiting_us < limit else bucket_index(waiting_us)] += 1
        total[table[total_us] if total_us < limit else bucket_index(total_us)] += 1
        if corrected_us >= 0:
            _bump(corrected, corrected_us)

    def record_lag(self, lag_us: int, held: bool = False) -> None:
        """A scheduled request started ``lag_us`` after it was due (``held``: a connection
        held it ready before then)."""
        _bump(self._pending[_LAG], lag_us)
        if lag_us >= LATE_US:
            self.late += 1
            self.client_late += held

    def _flush(self) -> None:
        """Move the pending counts into the histograms (the run's and the interval's) and
        bring their total, min and max up to date (before any is read)."""
        for phase, pending in zip(ALL_PHASES, self._pending, strict=True):
            _add_pending((self._histograms[phase], self._interval[phase]), pending)

    def take_interval_in_steps(self) -> Generator[None, None, dict[str, str]]:
        """The histograms of what was recorded since the last call, in hdrh's compressed
        encoding (the phases that have counts), a phase at a time: the counts are taken when
        it starts (what is recorded after goes to the next interval), then each phase is
        added and encoded between yields, and the generator returns the encodings. Why: the
        whole of it takes milliseconds, and a run driving it from its event loop goes on
        between the phases (an open loop stalled that long falls behind its schedule)."""
        taken, self._pending = self._pending, self._spare
        encoded = {}
        done = 0
        try:
            for phase, pending in zip(ALL_PHASES, taken, strict=True):
                histogram = self._interval[phase]
                _add_pending((self._histograms[phase], histogram), pending)
                if histogram.get_total_count():
                    encoded[phase] = histogram.encode().decode("ascii")
                    clear_histogram(histogram)
                done += 1
                yield
        finally:
            # Abandoned halfway, the phases not taken yet go to the next interval; either
            # way the spares are never the lists the run records into.
            for pending, live in zip(taken[done:], self._pending[done:], strict=True):
                _add_into(live, pending)
            self._spare = taken  # zeroed
        return encoded

    def record_failure(self, kind: Failure, wire_bytes: int = 0) -> None:
        self.failures[kind] += 1
        self.total_bytes += wire_bytes

    def merge(self, other: Tally) -> None:
        """Add another process's run into this one."""
        ours, theirs = self.histograms, other.histograms
        for phase in ALL_PHASES:
            ours[phase].add(theirs[phase])
        self.succeeded += other.succeeded
        for kind in Failure:
            self.failures[kind] += other.failures[kind]
        self.non_2xx += other.non_2xx
        self.keep_alive_requests += other.keep_alive_requests
        self.late += other.late
        self.client_late += other.client_late
        self.total_bytes += other.total_bytes
        self.html_bytes += other.html_bytes
        if self.document_length is None:
            self.document_length = other.document_length
        self.server_software = self.server_software or other.server_software
        self.tls_protocol = self.tls_protocol or other.tls_protocol
        self.tls_temp_key = self.tls_temp_key or other.tls_temp_key
