"""Sans-IO reports of a finished run: ab's text layout line for line, and JSON for machines.

ab rounds every latency to whole milliseconds; the histograms keep microseconds, so the block
after ab's table adds what ab cannot show (p99.9, p99.99) and whether the client itself was
the bottleneck.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hdrh.histogram import HdrHistogram

from trioload.config import LoadConfig
from trioload.stats import PHASES, RunStats

AB_PERCENTILES = (50, 66, 75, 80, 90, 95, 98, 99)
JSON_PERCENTILES = (*AB_PERCENTILES, 99.9, 99.99)
#: above this share of one core, the load generator probably set the pace, not the server.
BUSY_CLIENT_SHARE = 0.9


@dataclass(frozen=True)
class RunResult:
    """A finished (or interrupted) run, with what the report needs besides the counters."""

    config: LoadConfig
    stats: RunStats
    elapsed_s: float
    cpu_user_s: float
    cpu_sys_s: float
    interrupted: bool = False
    #: (first request started, last one ended) on the system's monotonic clock, in seconds.
    window_s: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        self.stats.flush()  # every report reads the histograms: pending samples go in first

    @cached_property
    def latency_ms(self) -> dict[str, dict[str, float]]:
        """Per phase summaries, computed once (each walks a histogram in pure Python)."""
        return {phase: phase_summary(self.stats.histograms[phase]) for phase in PHASES}

    @property
    def requests_per_second(self) -> float:
        return self.stats.finished / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def client_cpu_share(self) -> float:
        """Client CPU time over wall time, per process (1.0 = one core busy all along)."""
        if self.elapsed_s <= 0:
            return 0.0
        return (self.cpu_user_s + self.cpu_sys_s) / self.elapsed_s / self.config.workers


def _ms(value_us: float) -> float:
    return value_us / 1000.0


def phase_summary(hist: HdrHistogram) -> dict[str, float]:
    """min, mean, sd, percentiles and max of one phase, in milliseconds.

    The figures are hdrh's (bucket midpoints for mean and sd, a bucket's highest equivalent
    value for a percentile), but found in one pass over the buckets that hold samples:
    hdrh's own getters walk every bucket once per figure in pure Python (~0.7 s a report).
    """
    counts: Any = hist.counts
    filled = [(i, n) for i, n in enumerate(counts) if n]
    total = sum(n for _, n in filled)
    if total == 0:
        return {}
    value_at = hist.get_value_from_index
    highest = hist.get_highest_equivalent_value
    middle = hist._hdr_median_equiv_value  # hdrh's own midpoint rule, for equal means
    buckets = [(value_at(i), n) for i, n in filled]
    midpoints = [(middle(v), n) for v, n in buckets]
    mean = sum(m * n for m, n in midpoints) / total
    variance = sum((m - mean) ** 2 * n for m, n in midpoints) / total
    summary = {"min": _ms(buckets[0][0]), "mean": _ms(mean), "sd": _ms(math.sqrt(variance))}
    seen = 0
    bucket = iter(buckets)
    value = 0
    for pct in JSON_PERCENTILES:
        wanted = max(int(pct * total / 100 + 0.5), 1)
        while seen < wanted:
            value, count = next(bucket)
            seen += count
        summary[f"p{pct:g}"] = _ms(highest(value))
    summary["max"] = _ms(highest(buckets[-1][0]))
    return summary


def format_text(result: RunResult) -> str:
    """The ab report, then trioload's own block."""
    config, stats = result.config, result.stats
    target = config.target
    elapsed = result.elapsed_s
    finished = stats.finished
    lines = [
        f"Server Software:        {stats.server_software}",
        f"Server Hostname:        {target.host}",
        f"Server Port:            {target.port}",
        "",
        f"Document Path:          {target.path}",
        f"Document Length:        {stats.document_length or 0} bytes",
        "",
        f"Concurrency Level:      {config.concurrency}",
        f"Time taken for tests:   {elapsed:.3f} seconds",
        f"Complete requests:      {finished}",
        f"Failed requests:        {stats.failed}",
    ]
    f = stats.failures
    if stats.failed:
        lines.append(
            f"   (Connect: {f['connect']}, Receive: {f['receive']}, "
            f"Length: {f['length']}, Exceptions: {f['exceptions']})"
        )
    if f["write"]:
        lines.append(f"Write errors:           {f['write']}")
    if stats.non_2xx:
        lines.append(f"Non-2xx responses:      {stats.non_2xx}")
    if config.keep_alive:
        lines.append(f"Keep-Alive requests:    {stats.keep_alive_requests}")
    per_request_ms = config.concurrency * elapsed * 1000 / finished if finished else 0.0
    across_ms = elapsed * 1000 / finished if finished else 0.0
    kbytes_s = stats.total_bytes / 1024 / elapsed if elapsed > 0 else 0.0
    lines += [
        f"Total transferred:      {stats.total_bytes} bytes",
        f"HTML transferred:       {stats.html_bytes} bytes",
        f"Requests per second:    {result.requests_per_second:.2f} [#/sec] (mean)",
        f"Time per request:       {per_request_ms:.3f} [ms] (mean)",
        f"Time per request:       {across_ms:.3f} [ms] (mean, across all concurrent requests)",
        f"Transfer rate:          {kbytes_s:.2f} [Kbytes/sec] received",
    ]
    if stats.complete:
        latency = result.latency_ms
        lines += ["", *_connection_times(latency), "", *_percentages(latency["total"])]
    lines += ["", *_beyond_ab(result)]
    return "\n".join(lines) + "\n"


def _connection_times(latency: dict[str, dict[str, float]]) -> list[str]:
    rows = ["Connection Times (ms)", "              min  mean[+/-sd] median   max"]
    for phase, label in zip(PHASES, ("Connect:", "Processing:", "Waiting:", "Total:"), strict=True):
        ms = latency[phase]
        rows.append(
            f"{label:<12}{round(ms['min']):5d} {round(ms['mean']):4d} {ms['sd']:5.1f}"
            f" {round(ms['p50']):6d} {round(ms['max']):7d}"
        )
    return rows


def _percentages(total: dict[str, float]) -> list[str]:
    rows = ["Percentage of the requests served within a certain time (ms)"]
    rows += [f"  {pct}%  {round(total[f'p{pct}']):5d}" for pct in AB_PERCENTILES]
    rows.append(f" 100%  {round(total['max']):5d} (longest request)")
    return rows


def _beyond_ab(result: RunResult) -> list[str]:
    rows = ["Beyond ab (HDR histogram, microsecond resolution, 3 significant figures)"]
    total = result.latency_ms["total"]
    if total:
        for pct in (50, 99, 99.9, 99.99):
            rows.append(f"  {f'{pct:g}%':<7} {total[f'p{pct:g}']:10.3f} ms")
        rows.append(f"  {'max':<7} {total['max']:10.3f} ms")
    share = result.client_cpu_share
    rows.append(
        f"Client CPU: {share:.0%} of a core per process "
        f"(user {result.cpu_user_s:.2f} s, sys {result.cpu_sys_s:.2f} s, "
        f"{result.config.workers} process{'es' if result.config.workers > 1 else ''})"
    )
    if share >= BUSY_CLIENT_SHARE:
        rows.append(
            "Warning: trioload kept its core busy: the load generator, not the server, "
            "set the pace (try --workers auto)."
        )
    rows.append(
        "Latencies are closed-loop, like ab's: a slow response delays the next request of its "
        "worker, so\nqueueing behind a stall is not counted (coordinated omission)."
    )
    if result.interrupted:
        rows.append("Interrupted: the figures cover the requests that finished before the signal.")
    return rows


def to_json_dict(result: RunResult) -> dict[str, Any]:
    """The machine-readable report; ``hdr`` lets runs be merged histogram by histogram."""
    stats, config = result.stats, result.config
    return {
        "url": config.url,
        "concurrency": config.concurrency,
        "requests": config.requests,
        "complete": stats.finished,
        "succeeded": stats.complete,
        "failed": stats.failed,
        "failures": dict(stats.failures),
        "non_2xx": stats.non_2xx,
        "keep_alive_requests": stats.keep_alive_requests,
        "time_taken_s": result.elapsed_s,
        "requests_per_second": result.requests_per_second,
        "total_bytes": stats.total_bytes,
        "html_bytes": stats.html_bytes,
        "document_length": stats.document_length,
        "server_software": stats.server_software,
        "latency_ms": result.latency_ms,
        "hdr": {
            phase: stats.histograms[phase].encode().decode("ascii")
            for phase in PHASES
            if stats.histograms[phase].get_total_count()
        },
        "client_cpu": {
            "user_s": result.cpu_user_s,
            "sys_s": result.cpu_sys_s,
            "share_of_core": result.client_cpu_share,
        },
        "workers": config.workers,
        "interrupted": result.interrupted,
        "window_monotonic_s": list(result.window_s) if result.window_s else None,
    }


def format_json(result: RunResult) -> str:
    return json.dumps(to_json_dict(result), indent=2) + "\n"
