"""Sans-IO text report of a run: ab's layout line for line, then what ab cannot show.

ab rounds every latency to whole milliseconds; the histograms keep microseconds, so the block
after ab's table adds what ab cannot show (p99.9, p99.99) and whether the client itself was
the bottleneck.
"""

from __future__ import annotations

from trioload.result import AB_PERCENTILES, RunResult
from trioload.tally import PHASES, Failure

#: above this share of one core, the load generator probably set the pace, not the server.
BUSY_CLIENT_SHARE = 0.9


def format_text(result: RunResult) -> str:
    """The ab report, then trioload's own block."""
    config, tally = result.config, result.tally
    target = config.target
    elapsed = result.elapsed_s
    finished = tally.finished
    lines = [
        f"Server Software:        {tally.server_software}",
        f"Server Hostname:        {target.host}",
        f"Server Port:            {target.port}",
        "",
        f"Document Path:          {target.path}",
        f"Document Length:        {tally.document_length or 0} bytes",
        "",
        f"Concurrency Level:      {config.concurrency}",
        f"Time taken for tests:   {elapsed:.3f} seconds",
        f"Complete requests:      {finished}",
        f"Failed requests:        {tally.failed}",
    ]
    f = tally.failures
    if tally.failed:
        lines.append(
            f"   (Connect: {f[Failure.CONNECT]}, Receive: {f[Failure.RECEIVE]}, "
            f"Length: {f[Failure.LENGTH]}, Exceptions: {f[Failure.EXCEPTIONS]})"
        )
    if f[Failure.WRITE]:
        lines.append(f"Write errors:           {f[Failure.WRITE]}")
    if tally.non_2xx:
        lines.append(f"Non-2xx responses:      {tally.non_2xx}")
    if config.keep_alive:
        lines.append(f"Keep-Alive requests:    {tally.keep_alive_requests}")
    per_request_ms = config.concurrency * elapsed * 1000 / finished if finished else 0.0
    across_ms = elapsed * 1000 / finished if finished else 0.0
    kbytes_s = tally.total_bytes / 1024 / elapsed if elapsed > 0 else 0.0
    lines += [
        f"Total transferred:      {tally.total_bytes} bytes",
        f"HTML transferred:       {tally.html_bytes} bytes",
        f"Requests per second:    {result.requests_per_second:.2f} [#/sec] (mean)",
        f"Time per request:       {per_request_ms:.3f} [ms] (mean)",
        f"Time per request:       {across_ms:.3f} [ms] (mean, across all concurrent requests)",
        f"Transfer rate:          {kbytes_s:.2f} [Kbytes/sec] received",
    ]
    if tally.succeeded:
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
        "connection, so\nqueueing behind a stall is not counted (coordinated omission)."
    )
    if result.interrupted:
        rows.append("Interrupted: the figures cover the requests that finished before the signal.")
    return rows
