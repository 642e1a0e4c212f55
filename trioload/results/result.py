"""A run's result, and its JSON: built here, written here, and read back here.

``RunResult`` is what a finished (or interrupted) run measured, in one process or merged from
``-W`` worker processes. Its JSON is the machine-readable report, and also how a worker
process hands its tally to the parent: ``to_json_dict`` writes it, ``merge_reports`` reads it
back. The histograms travel whole (hdrh's compressed encoding), so merging is exact.

Counts are named apart: a request is *finished* when it ended either way (ab's "Complete
requests"), and *succeeded* when its response arrived whole. JSON key ``complete`` is the old
name of ``finished``, still written so that readers of earlier reports keep working.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hdrh.histogram import HdrHistogram

from trioload import segments
from trioload.config import LoadConfig
from trioload.results.tally import (
    ALL_PHASES,
    PHASES,
    READ_CLOCK,
    READ_LAG,
    Failure,
    Tally,
    new_histogram,
)
from trioload.results.timeline import Interval, merge_timelines

AB_PERCENTILES = (50, 66, 75, 80, 90, 95, 98, 99)
JSON_PERCENTILES = (*AB_PERCENTILES, 99.9, 99.99)


@dataclass(frozen=True)
class RunResult:
    """A finished (or interrupted) run, with what the report needs besides the counters."""

    config: LoadConfig
    tally: Tally
    elapsed_s: float
    cpu_user_s: float
    cpu_sys_s: float
    #: the clock its response times were taken by (``KERNEL_CLOCK``, ``READ_CLOCK``; runs
    #: merged from several: their clocks, comma-separated).
    clock: str = READ_CLOCK
    interrupted: bool = False
    #: (first request started, last one ended) as Unix time, in seconds.
    window_s: tuple[float, float] | None = None
    #: what finished in each ``--interval`` of the run (``trioload.results.timeline``).
    timeline: tuple[Interval, ...] = ()

    @cached_property
    def latency_ms(self) -> dict[str, dict[str, float]]:
        """Per phase summaries, computed once (each walks a histogram in pure Python); the
        schedule's phases only where a schedule recorded them."""
        histograms = self.tally.histograms
        return {
            phase: phase_summary(histograms[phase])
            for phase in ALL_PHASES
            if phase in PHASES or histograms[phase].get_total_count()
        }

    @property
    def lead_phase(self) -> str:
        return lead_phase_of(self.config.rate)

    @property
    def requests_per_second(self) -> float:
        return self.tally.finished / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def kbytes_per_second(self) -> float:
        """ab's "Transfer rate": every byte received, in KiB a second."""
        return self.tally.total_bytes / 1024 / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def client_set_the_pace(self) -> bool:
        """Whether trioload kept its core busy, so that the load generator, not the server,
        probably set the pace."""
        return self.client_cpu_share >= BUSY_CLIENT_SHARE and self.elapsed_s >= BUSY_MIN_ELAPSED_S

    @property
    def client_read_late(self) -> bool:
        """Whether trioload read responses late against the latencies it measured: it was
        busy. By the kernel's clock the latencies stay right, but each connection's next
        request went later than the server allowed. Not under a schedule (``-R``): it reads
        in ticks on purpose, and its requests go when due (a late one shows as lag)."""
        if self.config.rate is not None:
            return False
        read_lag = self.latency_ms.get(READ_LAG)
        total = self.latency_ms["total"]
        if not read_lag or not total:
            return False
        # Means: by how much the late reads stretched each connection's cycle, on average.
        return read_lag["mean"] >= max(LATE_READ_SHARE * total["mean"], LATE_READ_MIN_MS)

    @property
    def client_cpu_share(self) -> float:
        """Client CPU time over wall time, per process (1.0 = one core busy all along)."""
        if self.elapsed_s <= 0:
            return 0.0
        return (self.cpu_user_s + self.cpu_sys_s) / self.elapsed_s / self.config.workers


#: above this share of one core, the load generator probably set the pace, not the server.
BUSY_CLIENT_SHARE = 0.9
#: a shorter run's CPU share is mostly start-up (histograms, sockets): no warning then.
BUSY_MIN_ELAPSED_S = 0.5
#: a mean read lag this share of the mean latency or more (and not under the minimum, in ms)
#: says the client was busy.
LATE_READ_SHARE = 0.1
LATE_READ_MIN_MS = 0.1


def lead_phase_of(rate: float | None) -> str:
    """The latency a report leads with: from when due with a schedule (``-R``), else ab's
    total (a JSON report says which with its ``rate``)."""
    return "corrected" if rate is not None else "total"


def _ms(value_us: float) -> float:
    return value_us / 1000.0


def phase_summary(hist: HdrHistogram) -> dict[str, float]:
    """min, mean, sd, percentiles and max of one phase, in milliseconds.

    The figures are hdrh's (bucket midpoints for mean and sd, a bucket's highest equivalent
    value for a percentile), but found in one pass over the buckets that hold samples:
    hdrh's own getters walk every bucket once per figure in pure Python (~0.7 s a report).
    """
    buckets, total = filled_buckets(hist)
    if total == 0:
        return {}
    highest = hist.get_highest_equivalent_value
    middle = hist._hdr_median_equiv_value  # hdrh's own midpoint rule, for equal means
    midpoints = [(middle(v), n) for v, n in buckets]
    mean = sum(m * n for m, n in midpoints) / total
    variance = sum((m - mean) ** 2 * n for m, n in midpoints) / total
    summary = {"min": _ms(buckets[0][0]), "mean": _ms(mean), "sd": _ms(math.sqrt(variance))}
    values = ranked_values(buckets, total, JSON_PERCENTILES)
    for pct, value in zip(JSON_PERCENTILES, values, strict=True):
        summary[f"p{pct:g}"] = _ms(highest(value))
    summary["max"] = _ms(highest(buckets[-1][0]))
    return summary


def filled_buckets(hist: HdrHistogram) -> tuple[list[tuple[int, int]], int]:
    """(lowest value, count) of each bucket that holds samples, in order, and their total."""
    counts: Any = hist.counts
    value_at = hist.get_value_from_index
    buckets = [(value_at(i), n) for i, n in enumerate(counts) if n]
    return buckets, sum(n for _, n in buckets)


def ranked_values(
    buckets: list[tuple[int, int]], total: int, percents: Iterable[float]
) -> list[int]:
    """The bucket value (lowest) holding each of ``percents`` (ascending) of ``total``: the
    sample of rank round(p% of total), at least the first; one pass over ``buckets``."""
    values = []
    seen, value = 0, 0
    bucket = iter(buckets)
    for pct in percents:
        wanted = max(int(pct * total / 100 + 0.5), 1)
        while seen < wanted:
            value, count = next(bucket)
            seen += count
        values.append(value)
    return values


def to_json_dict(result: RunResult) -> dict[str, Any]:
    """The machine-readable report; ``hdr`` lets runs be merged histogram by histogram."""
    tally, config = result.tally, result.config
    histograms = tally.histograms
    scratch = new_histogram()
    return {
        "url": config.url,
        "method": config.method,
        "keep_alive": config.keep_alive,
        "concurrency": config.concurrency,
        "requests": config.requests,
        # this process's part of the schedule: the rates of runs side by side add up
        "rate": config.own_rate,
        # -R A:B or --stages: the whole test's shape, as --stages takes it (rate: the mean)
        "stages": config.stages,
        "segment": segments.record(config),
        "late": tally.late,
        "client_late": tally.client_late,
        "finished": tally.finished,
        "complete": tally.finished,  # the old name of "finished", for earlier readers
        "succeeded": tally.succeeded,
        "failed": tally.failed,
        "failures": {str(kind): count for kind, count in tally.failures.items()},
        "non_2xx": tally.non_2xx,
        "keep_alive_requests": tally.keep_alive_requests,
        "time_taken_s": result.elapsed_s,
        "requests_per_second": result.requests_per_second,
        "total_bytes": tally.total_bytes,
        "html_bytes": tally.html_bytes,
        "document_length": tally.document_length,
        "server_software": tally.server_software,
        "tls_protocol": tally.tls_protocol,
        "tls_temp_key": tally.tls_temp_key,
        "clock": result.clock,
        "latency_ms": result.latency_ms,
        "hdr": {
            phase: histograms[phase].encode().decode("ascii")
            for phase in ALL_PHASES
            if histograms[phase].get_total_count()
        },
        "client_cpu": {
            "user_s": result.cpu_user_s,
            "sys_s": result.cpu_sys_s,
            "share_of_core": result.client_cpu_share,
        },
        "workers": config.workers,
        "interrupted": result.interrupted,
        "window_unix_s": list(result.window_s) if result.window_s else None,
        "interval_s": config.interval,
        "timeline": [
            _timeline_entry(entry, result.lead_phase, scratch) for entry in result.timeline
        ],
    }


def _timeline_entry(entry: Interval, lead_phase: str, scratch: HdrHistogram) -> dict[str, Any]:
    """An interval for the JSON: its counts, the lead latency's p50, p99 and max, and its
    histograms (so that timelines merge exactly)."""
    histogram = entry.histogram(lead_phase, scratch)
    summary = phase_summary(histogram) if histogram is not None else {}
    figures = {f"{key}_ms": summary.get(key) for key in ("p50", "p99", "max")}
    return {**entry.to_json(), **figures}


def format_json(result: RunResult) -> str:
    return json.dumps(to_json_dict(result), indent=2) + "\n"


def tally_from_json(report: dict[str, Any]) -> Tally:
    """Rebuild the tally that wrote ``report``."""
    tally = Tally()
    histograms = tally.histograms
    for phase in ALL_PHASES:
        encoded = report["hdr"].get(phase)
        if encoded:
            histograms[phase] = HdrHistogram.decode(encoded.encode("ascii"))
    tally.succeeded = report["succeeded"]
    for kind in Failure:
        tally.failures[kind] = report["failures"][kind]
    tally.non_2xx = report["non_2xx"]
    tally.keep_alive_requests = report["keep_alive_requests"]
    tally.late = report["late"]
    tally.client_late = report.get("client_late", 0)  # reports before it: none counted
    tally.total_bytes = report["total_bytes"]
    tally.html_bytes = report["html_bytes"]
    tally.document_length = report["document_length"]
    tally.server_software = report["server_software"]
    tally.tls_protocol = report.get("tls_protocol", "")
    tally.tls_temp_key = report.get("tls_temp_key", "")
    return tally


def run_windows(reports: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """The (start, end) Unix times of the reports whose runs made requests."""
    return [(w[0], w[1]) for r in reports if (w := r.get("window_unix_s"))]


def merged_window(windows: list[tuple[float, float]]) -> tuple[float, float] | None:
    """From the first start to the last end of ``windows``."""
    if not windows:
        return None
    return min(w[0] for w in windows), max(w[1] for w in windows)


def union_length(windows: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one window (the time over which merged runs sent)."""
    covered, reach = 0.0, -math.inf
    for start, end in sorted(windows):
        if end > reach:
            covered += end - max(start, reach)
            reach = end
    return covered


def merge_reports(config: LoadConfig, reports: list[dict[str, Any]], wall_s: float) -> RunResult:
    """One result from the JSON reports of runs that went on side by side (``-W`` workers, or
    ``trioload merge``): histograms added, counts summed, the rate over the union of the
    runs' windows."""
    tally = Tally()
    for report in reports:
        tally.merge(tally_from_json(report))
    windows = run_windows(reports)
    timelines = [[Interval.from_json(e) for e in r.get("timeline", [])] for r in reports]
    return RunResult(
        config=config,
        tally=tally,
        # The runs' own windows leave out their start-up (interpreter, imports).
        elapsed_s=union_length(windows) if windows else wall_s,
        cpu_user_s=sum(report["client_cpu"]["user_s"] for report in reports),
        cpu_sys_s=sum(report["client_cpu"]["sys_s"] for report in reports),
        clock=",".join(sorted({report.get("clock", READ_CLOCK) for report in reports})),
        interrupted=any(report["interrupted"] for report in reports),
        window_s=merged_window(windows),
        timeline=tuple(merge_timelines(timelines, config.interval)),
    )
