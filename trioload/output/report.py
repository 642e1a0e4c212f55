"""Sans-IO text report of a run: ab's layout line for line, then what ab cannot show.

ab rounds every latency to whole milliseconds; the histograms keep microseconds, so the block
after ab's table adds what ab cannot show (p99.9, p99.99) and whether the client itself was
the bottleneck. ab's switches apply to ab's part: ``-d`` drops the percentage table, ``-S`` the
sd and median columns and ab's warnings (and trioload's busy-client warning; its percentiles
stay), ``-l`` reports the length as Variable.
"""

from __future__ import annotations

from trioload.config import LoadConfig
from trioload.engine.tls import sni_name
from trioload.results.result import AB_PERCENTILES, RunResult
from trioload.results.tally import KERNEL_CLOCK, LATE_US, PHASES, READ_CLOCK, READ_LAG, Failure


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
        *(f"{label:<24}{value}" for label, value in tls_fields(result)),
        "",
        f"Document Path:          {target.path}",
        f"Document Length:        {document_length(result)}",
        "",
        f"Concurrency Level:      {config.concurrency}",
        f"Time taken for tests:   {elapsed:.3f} seconds",
        f"Complete requests:      {finished}",
        f"Failed requests:        {tally.failed}",
    ]
    f = tally.failures
    if tally.failed:
        lines.append(failure_columns(f))
    if f[Failure.WRITE]:
        lines.append(f"Write errors:           {f[Failure.WRITE]}")
    if tally.non_2xx:
        lines.append(f"Non-2xx responses:      {tally.non_2xx}")
    if config.keep_alive:
        lines.append(f"Keep-Alive requests:    {tally.keep_alive_requests}")
    per_request_ms = config.concurrency * elapsed * 1000 / finished if finished else 0.0
    across_ms = elapsed * 1000 / finished if finished else 0.0
    lines += [
        f"Total transferred:      {tally.total_bytes} bytes",
        f"HTML transferred:       {tally.html_bytes} bytes",
        f"Requests per second:    {result.requests_per_second:.2f} [#/sec] (mean)",
        f"Time per request:       {per_request_ms:.3f} [ms] (mean)",
        f"Time per request:       {across_ms:.3f} [ms] (mean, across all concurrent requests)",
        f"Transfer rate:          {result.kbytes_per_second:.2f} [Kbytes/sec] received",
    ]
    if tally.succeeded:
        lines += ["", *_connection_times(result.latency_ms, config.show_confidence)]
        if config.show_percentiles:
            lead = result.lead_phase
            lines += ["", *_percentages(result.latency_ms[lead], lead)]
    lines += ["", *_beyond_ab(result)]
    return "\n".join(lines) + "\n"


def tls_fields(result: RunResult) -> list[tuple[str, str]]:
    """Over https, what ab says of the TLS session after "Server Port:", as (label, value):
    the protocol once a handshake succeeded, the temporary key where the ssl module could
    tell it, the SNI name where one was sent. The HTML report shows the same."""
    config, tally = result.config, result.tally
    if not config.target.tls:
        return []
    name = sni_name(config)
    fields = [
        ("SSL/TLS Protocol:", tally.tls_protocol),
        ("Server Temp Key:", tally.tls_temp_key),
        ("TLS Server Name:", name or ""),
    ]
    return [(label, value) for label, value in fields if value]


def document_length(result: RunResult) -> str:
    """ab's "Document Length": the first response's body, or Variable with ``-l``."""
    if result.config.variable_length:
        return "Variable"
    return f"{result.tally.document_length or 0} bytes"


def failure_columns(failures: dict[Failure, int]) -> str:
    """ab's breakdown of "Failed requests" (Write errors have their own line)."""
    return (
        f"   (Connect: {failures[Failure.CONNECT]}, Receive: {failures[Failure.RECEIVE]}, "
        f"Length: {failures[Failure.LENGTH]}, Exceptions: {failures[Failure.EXCEPTIONS]})"
    )


_TIME_LABELS = ("Connect:", "Processing:", "Waiting:", "Total:")
#: the words ab's sanity check uses for each phase.
_SANE_NAMES = ("initial connection", "processing", "waiting", "total")


def _connection_times(latency: dict[str, dict[str, float]], confidence: bool) -> list[str]:
    """ab's "Connection Times" table: with ``confidence``, sd and median columns, then ab's
    warnings; without (-S), ab's min, avg and max alone."""
    rows = ["Connection Times (ms)"]
    if not confidence:
        rows.append("              min   avg   max")
        # ab's format has no space before max: "%5d %5d%5d".
        rows += [
            f"{label:<12}{round(ms['min']):5d} {round(ms['mean']):5d}{round(ms['max']):5d}"
            for label, ms in _rows(latency)
        ]
        return rows
    rows.append("              min  mean[+/-sd] median   max")
    rows += [
        f"{label:<12}{round(ms['min']):5d} {round(ms['mean']):4d} {ms['sd']:5.1f}"
        f" {round(ms['p50']):6d} {round(ms['max']):7d}"
        for label, ms in _rows(latency)
    ]
    for phase, name in zip(PHASES, _SANE_NAMES, strict=True):
        rows += _sanity_warning(latency[phase], name)
    return rows


def _rows(latency: dict[str, dict[str, float]]) -> list[tuple[str, dict[str, float]]]:
    """(label, figures) of each of ab's four phases, in ab's order."""
    return [(label, latency[phase]) for phase, label in zip(PHASES, _TIME_LABELS, strict=True)]


def _sanity_warning(ms: dict[str, float], name: str) -> list[str]:
    """ab's check that a phase's mean and median are close, on the rounded figures it
    prints: more than one standard deviation apart is a warning, more than two an error."""
    apart = abs(round(ms["mean"]) - round(ms["p50"]))
    if apart > 2 * ms["sd"]:
        return [
            f"ERROR: The median and mean for the {name} time are more than twice the standard",
            "       deviation apart. These results are NOT reliable.",
        ]
    if apart > ms["sd"]:
        return [
            f"WARNING: The median and mean for the {name} time are not within a normal deviation",
            "        These results are probably not that reliable.",
        ]
    return []


def _percentages(total: dict[str, float], phase: str) -> list[str]:
    rows = ["Percentage of the requests served within a certain time (ms)"]
    if phase == "corrected":
        rows[0] += ", from when each was due"
    rows += [f"  {pct}%  {round(total[f'p{pct}']):5d}" for pct in AB_PERCENTILES]
    rows.append(f" 100%  {round(total['max']):5d} (longest request)")
    return rows


_BEYOND_PERCENTILES = ("p50", "p99", "p99.9", "p99.99", "max")


def _beyond_ab(result: RunResult) -> list[str]:
    rows = ["Beyond ab (HDR histogram, microsecond resolution, 3 significant figures)"]
    latency = result.latency_ms
    total = latency["total"]
    scheduled = result.config.rate is not None
    rows += _segment(result.config)
    if scheduled:
        rows += _schedule(result)
    if total:
        corrected = latency.get("corrected", {})
        if scheduled and corrected:
            rows.append(f"  {'':<7} {'from due':>10}    {'from sent':>10}")
        for key in _BEYOND_PERCENTILES:
            label = key[1:] + "%" if key != "max" else key
            row = f"  {label:<7} "
            if scheduled and corrected:
                row += f"{corrected[key]:10.3f} ms "
            rows.append(f"{row}{total[key]:10.3f} ms")
    share = result.client_cpu_share
    rows.append(
        f"Client CPU: {share:.0%} of a core per process "
        f"(user {result.cpu_user_s:.2f} s, sys {result.cpu_sys_s:.2f} s, "
        f"{result.config.workers} process{'es' if result.config.workers > 1 else ''})"
    )
    rows.append(_clock(result))
    # -S: "do not show ... warnings"
    if result.client_set_the_pace and result.config.show_confidence:
        rows.append(
            "Warning: trioload kept its core busy: the load generator, not the server, "
            "set the pace (try --workers auto)."
        )
    if result.client_read_late and result.config.show_confidence:
        read_lag, total = latency[READ_LAG], latency["total"]
        rows.append(
            f"Warning: trioload read responses late (read lag mean {read_lag['mean']:.3f} ms, "
            f"latency mean {total['mean']:.3f} ms): it was busy, so each connection's next "
            "request went later than the server allowed (try --workers auto)."
        )
    rows.append(_OPEN_LOOP if scheduled else _CLOSED_LOOP)
    if result.interrupted:
        rows.append("Interrupted: the figures cover the requests that finished before the signal.")
    return rows


_CLOSED_LOOP = (
    "Latencies are closed-loop, like ab's: a slow response delays the next request of its "
    "connection, so\nqueueing behind a stall is not counted (coordinated omission)."
)
_OPEN_LOOP = (
    "Latencies are open-loop (-R): each request was due at a fixed time and is measured from "
    "then, queueing\nbehind a stall included (corrected for coordinated omission); 'from sent' "
    "is ab's closed-loop figure."
)


def _clock(result: RunResult) -> str:
    """Which clock took the response times and, by the kernel's, how late trioload read."""
    if result.clock == READ_CLOCK:
        return "Clock: trioload's own, when it read each response (no kernel timestamps here)"
    if result.clock != KERNEL_CLOCK:
        return f"Clock: {result.clock.replace(',', ' and ')}, in the runs merged here"
    read_lag = result.latency_ms.get(READ_LAG)
    if not read_lag:
        return "Clock: the kernel's, on arrival"
    return (
        f"Clock: the kernel's, on arrival; read lag p50 {read_lag['p50']:.3f} ms, "
        f"p99 {read_lag['p99']:.3f} ms, max {read_lag['max']:.3f} ms (arrival to read)"
    )


def _segment(config: LoadConfig) -> list[str]:
    """Which part of which test a ``--segment`` run was."""
    segment = config.segment
    if segment is None:
        return []
    flags = [f"-n {segment.requests}" if segment.requests is not None else ""]
    flags += [f"-c {segment.concurrency}", config.rate_flags]
    if config.time_limit is not None and config.shape is None:  # stages carry their length
        flags.append(f"-t {config.time_limit:g}")
    test = " ".join(flag for flag in flags if flag)
    return [
        f"Segment: {segment.label} of the test {test} (trioload merge makes the whole "
        "of its segments' JSON)"
    ]


def _own_lateness(client_late: int) -> str:
    """How many of the late requests were trioload's own lateness (a connection held them
    ready), not a wait for a free connection (``-c``, or a slow server)."""
    return f"; {client_late} of them held ready: trioload's own lateness" if client_late else ""


def _schedule(result: RunResult) -> list[str]:
    """How well the run kept to its schedule: the rate asked and made, the lag, the late."""
    config = result.config
    asked = config.rate_flags
    if config.shape is not None:
        asked = f"{config.rate:g} on average ({asked})"
    if config.segment is not None:
        asked = f"{config.own_rate:g} (this segment's share of {config.rate_flags})"
    lag = result.latency_ms.get("lag", {})
    started = result.tally.histograms["lag"].get_total_count()  # every scheduled request sent
    rows = [
        f"Schedule: {asked} requests/s asked, {result.requests_per_second:.2f} made; "
        f"{result.tally.late} of {started} requests started late "
        f"(by {LATE_US / 1000:g} ms or more{_own_lateness(result.tally.client_late)})"
    ]
    if lag:
        rows.append(
            f"Behind schedule: p50 {lag['p50']:.3f} ms, p99 {lag['p99']:.3f} ms, "
            f"max {lag['max']:.3f} ms (from when due to when sent)"
        )
    return rows
