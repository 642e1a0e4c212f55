"""The issue's speed targets, judged on the bench's median rows.

The peer and client names the bench uses live here too, so a target and the run it reads
can't drift apart.
"""

from __future__ import annotations

from ..report import Row, RowTable, Verdict, ratio_verdict
from .inline_answer import InlineTimings

# Parts of the bench.
SERVERS, WORKERS, CLIENTS, KEEPALIVE = "servers", "workers", "clients", "keepalive"
LATENCY, MEMORY = "latency", "memory"
#: trioserve's inline answer timed in-process (``inline_answer``), no sockets.
INLINE = "inline"
#: https, keep-alive off: every request a full TLS handshake.
TLS = "tls"
PARTS = (INLINE, SERVERS, WORKERS, CLIENTS, KEEPALIVE, TLS, LATENCY, MEMORY)

# Servers.
NGINX_ONE = "nginx (1 worker)"
NGINX_AUTO = "nginx (workers auto)"
NGINX_KEEPALIVE = "nginx (1 worker, keep-alive on)"
UVICORN = "uvicorn (uvloop, httptools)"
TRIO_SERVE_TCP = "trio serve_tcp (baseline)"
TRIOSERVE = "trioserve"
TRIOSERVE_AUTO = "trioserve --workers auto"
TRIOSERVE_KEEPALIVE = "trioserve --keep-alive"
#: trioserve at the revision given by --trioserve-before.
TRIOSERVE_BEFORE = "trioserve (before)"
DELAY = "delay 20 ms"
NGINX_TLS = "nginx TLS (1 worker)"
TRIOSERVE_TLS = "trioserve --certfile"

# Clients.
AB = "ab"
AB_K = "ab -k"
WRK = "wrk -t2"
WRK_T1 = "wrk -t1"
WRK_T1_K = "wrk -t1 (keep-alive)"
TRIOLOAD = "trioload"
TRIOLOAD_W2 = "trioload -W 2"
TRIOLOAD_K = "trioload -k"
#: the per-connection-task engine (the fallback), to show what the shard engine changed.
TRIOLOAD_TASKS = "trioload --engine tasks"
TRIO_CLIENT = "trio open_tcp_stream (baseline)"
#: the least a Python client can do per request: what the kernel's share leaves reachable.
EPOLL_CLIENT = "bare epoll loop (ceiling)"
BLOCKING = "blocking threads (reference)"
#: the same client one request at a time: the server's own floor (delay + its wake-up slack).
BLOCKING_FLOOR = "blocking, c=1 (floor)"
AB_TLS = "ab (https)"
#: verifying the server's certificate against the bench's CA (--cacert), as by default.
TRIOLOAD_TLS = "trioload (https)"
#: not verifying, as ab: what the verification costs.
TRIOLOAD_TLS_INSECURE = "trioload (https, --insecure)"

KEEPALIVE_CONCURRENCY = 100
#: the client's own code per request (user CPU), keep-alive off.
USER_CPU_LIMIT_US = 12.0
#: trioserve's server CPU a request, at most this many times nginx's (same ab runs).
SERVER_CPU_LIMIT = 1.4
#: trioserve --keep-alive's req/s, at least this share of nginx's (wrk -t1 -c100, keep-alive).
KEEPALIVE_SERVER_SHARE = 0.8
#: what a change to trioserve's fast path may add to its server CPU a request (the head check).
SERVER_CPU_GROWTH_LIMIT_US = 2.0
DELAY_MS = 20.0
LATENCY_CONCURRENCY = 100
P50_TOLERANCE_MS = 0.5
RSS_GROWTH_LIMIT = 1.1
RSS_LIMIT_MB = 100.0
#: handshakes are CPU-heavy: on a small machine c=100 keeps nginx's one worker busy already,
#: and c=1000 only adds queueing (and slow connects) to what the target compares.
TLS_CONCURRENCY = 100
#: a request over https costs ~10 plain ones (the handshake): fewer of them, but no fewer than
#: this many, so a run still lasts long enough to mean something.
TLS_MIN_REQUESTS = 2000
#: both clients pinned to the same protocol (ab's -f name; trioload takes the same flag).
TLS_PROTOCOL = "TLS1.3"
TLS_FACTOR = 1.0


def tls_requests(requests: int) -> int:
    """Requests per run in the tls part, from ``--requests``."""
    return max(TLS_MIN_REQUESTS, requests // 10)


def memory_client(requests: int) -> str:
    return f"{TRIOLOAD} -n {requests}"


def _rps(table: RowTable, part: str, server: str, client: str) -> tuple[float | None, str]:
    return table.value(part, server, client, lambda row: row.requests_per_second)


def _server_cpu(table: RowTable, part: str, server: str) -> tuple[float | None, str]:
    return table.value(part, server, AB, lambda row: row.server_cpu_us)


def _outruns(
    table: RowTable, part: str, server: str, ours: str, theirs: str, *, factor: float
) -> Verdict:
    """``ours`` makes >= ``factor`` x ``theirs``'s req/s against ``server``, with 0 failures."""
    target = f"{ours} >= {factor:g}x {theirs} (vs {server}), 0 failed"
    return _at_least(table, target, (part, server, ours), (part, server, theirs), factor)


def _serves_as_fast(table: RowTable) -> Verdict:
    """trioserve --keep-alive keeps up with nginx under wrk with keep-alive, 0 failures."""
    target = (
        f"trioserve --keep-alive >= {KEEPALIVE_SERVER_SHARE:g}x nginx's req/s "
        f"(wrk -t1 -c{KEEPALIVE_CONCURRENCY}, keep-alive), 0 failed"
    )
    ours = (KEEPALIVE, TRIOSERVE_KEEPALIVE, WRK_T1_K)
    theirs = (KEEPALIVE, NGINX_KEEPALIVE, WRK_T1_K)
    return _at_least(table, target, ours, theirs, KEEPALIVE_SERVER_SHARE)


def _at_least(
    table: RowTable,
    target: str,
    ours: tuple[str, str, str],
    theirs: tuple[str, str, str],
    factor: float,
) -> Verdict:
    """The run ``ours`` (part, server, client) makes >= ``factor`` x ``theirs``'s req/s, and
    none of its requests failed."""
    ratio = ratio_verdict(
        target, _rps(table, *ours), _rps(table, *theirs), lambda value: value >= factor
    )
    row = table.get(*ours)
    if ratio.passed is None or row is None:
        return ratio
    if row.failed is None:
        return Verdict(target, f"{ratio.measured}; failures not reported", None)
    return Verdict(
        target, f"{ratio.measured}; failed {row.failed}", ratio.passed and not row.failed
    )


def _server_cpu_growth(table: RowTable) -> Verdict | None:
    """trioserve's server CPU a request against its --trioserve-before self; None if absent."""
    if table.get(SERVERS, TRIOSERVE_BEFORE, AB) is None:
        return None
    target = (
        f"trioserve server CPU/req grows <= {SERVER_CPU_GROWTH_LIMIT_US:g} µs"
        " vs --trioserve-before (same ab runs)"
    )
    now, why_now = _server_cpu(table, SERVERS, TRIOSERVE)
    before, why_before = _server_cpu(table, SERVERS, TRIOSERVE_BEFORE)
    if now is None or before is None:
        return Verdict(target, f"n/a ({why_now or why_before})", None)
    growth = now - before
    measured = f"{growth:+.2f} µs ({now:.2f} vs {before:.2f})"
    return Verdict(target, measured, growth <= SERVER_CPU_GROWTH_LIMIT_US)


def inline_growth(timings: InlineTimings | None) -> Verdict | None:
    """The in-process cost of a change to trioserve's inline answer; None without a before."""
    if timings is None or (timings.before is None and not timings.note):
        return None
    target = (
        f"trioserve inline answer grows <= {SERVER_CPU_GROWTH_LIMIT_US:g} µs a request"
        " vs --trioserve-before (in-process, worst of the heads)"
    )
    growth = timings.growth()
    if growth is None:
        return Verdict(target, f"n/a ({timings.note})", None)
    worst = max(growth, key=lambda head: growth[head])
    assert timings.before is not None
    measured = (
        f"{growth[worst]:+.2f} µs on {worst}'s head"
        f" ({timings.now[worst]:.2f} vs {timings.before[worst]:.2f})"
    )
    return Verdict(target, measured, growth[worst] <= SERVER_CPU_GROWTH_LIMIT_US)


def _user_cpu(table: RowTable) -> Verdict:
    target = f"trioload user CPU <= {USER_CPU_LIMIT_US:g} µs a request (vs nginx, keep-alive off)"
    ours = table.get(CLIENTS, NGINX_ONE, TRIOLOAD)
    if ours is None or ours.client_user_us is None:
        return Verdict(target, "n/a (no trioload run)", None)
    measured = f"{ours.client_user_us:.1f} µs"
    ab = table.get(CLIENTS, NGINX_ONE, AB)
    if ab is not None and ab.client_user_us is not None and ab.client_cpu_us is not None:
        measured += (
            f" (total {ours.client_cpu_us or 0:.1f}; ab: {ab.client_user_us:.1f} user,"
            f" {ab.client_cpu_us:.1f} total)"
        )
    return Verdict(target, measured, ours.client_user_us <= USER_CPU_LIMIT_US)


def _client_cpu(row: Row | None) -> str:
    """A client row's CPU a request: "total (user)" µs, or "-" when unknown."""
    if row is None or row.client_cpu_us is None or row.client_user_us is None:
        return "-"
    return f"{row.client_cpu_us:.1f} ({row.client_user_us:.1f} user)"


def _tls(table: RowTable) -> Verdict:
    """trioload makes >= ab's https req/s against nginx, with 0 failures, doing ab's work:
    ab never verifies the certificate, so this row is trioload's ``--insecure`` (trioload
    verifying, its default, is an information ratio). The measured text adds both clients'
    CPU a request."""
    target = f"{TRIOLOAD_TLS_INSECURE} >= {TLS_FACTOR:.1f}x {AB_TLS} (vs {NGINX_TLS}), 0 failed"
    ours, theirs = (TLS, NGINX_TLS, TRIOLOAD_TLS_INSECURE), (TLS, NGINX_TLS, AB_TLS)
    verdict = _at_least(table, target, ours, theirs, TLS_FACTOR)
    if verdict.passed is None:
        return verdict
    cpu = (
        f"client CPU µs/req: trioload {_client_cpu(table.get(*ours))},"
        f" ab {_client_cpu(table.get(*theirs))}"
    )
    return Verdict(target, f"{verdict.measured}; {cpu}", verdict.passed)


def _memory(table: RowTable, small: int, large: int) -> Verdict:
    target = (
        f"trioload peak RSS flat in -n ({small:,} -> {large:,}: <= {RSS_GROWTH_LIMIT}x)"
        f" and < {RSS_LIMIT_MB:.0f} MB"
    )
    small_rss = table.value(MEMORY, NGINX_ONE, memory_client(small), lambda row: row.client_rss_kb)
    large_rss = table.value(MEMORY, NGINX_ONE, memory_client(large), lambda row: row.client_rss_kb)
    ratio = ratio_verdict(target, large_rss, small_rss, lambda value: value <= RSS_GROWTH_LIMIT)
    if ratio.passed is None or large_rss[0] is None:
        return ratio
    peak_mb = large_rss[0] / 1024
    return Verdict(
        target,
        f"{ratio.measured.split(' ')[0]} (peak {peak_mb:.1f} MB)",
        ratio.passed and peak_mb < RSS_LIMIT_MB,
    )


def _latency(table: RowTable) -> Verdict:
    target = (
        f"trioload p50 within {P50_TOLERANCE_MS} ms of the blocking reference's"
        f" ({DELAY_MS:g} ms server, c={LATENCY_CONCURRENCY})"
    )
    ours = table.value(LATENCY, DELAY, TRIOLOAD, lambda row: row.p50_ms)
    reference = table.value(LATENCY, DELAY, BLOCKING, lambda row: row.p50_ms)
    if ours[0] is None or reference[0] is None:
        return Verdict(target, f"n/a ({ours[1] or reference[1]})", None)
    gap = ours[0] - reference[0]
    measured = f"{gap:+.3f} ms ({ours[0]:.3f} vs {reference[0]:.3f})"
    spread = table.get(LATENCY, DELAY, BLOCKING)
    if spread is not None and spread.p50_range is not None and spread.runs > 1:
        low, high = spread.p50_range
        measured += f"; the reference's p50 ranged {low:.3f}-{high:.3f} over the rounds"
    return Verdict(target, measured, abs(gap) <= P50_TOLERANCE_MS)


def judge(table: RowTable, parts: set[str], memory_sizes: tuple[int, int]) -> list[Verdict]:
    """Every target whose part ran, in the issue's order."""
    verdicts = []
    if SERVERS in parts:
        verdicts += [
            ratio_verdict(
                "trioserve req/s >= 0.95x nginx's (ab -r -c 1000, one process each)",
                _rps(table, SERVERS, TRIOSERVE, AB),
                _rps(table, SERVERS, NGINX_ONE, AB),
                lambda value: value >= 0.95,
            ),
            ratio_verdict(
                f"trioserve server CPU/req <= {SERVER_CPU_LIMIT:g}x nginx's (same ab runs)",
                _server_cpu(table, SERVERS, TRIOSERVE),
                _server_cpu(table, SERVERS, NGINX_ONE),
                lambda value: value <= SERVER_CPU_LIMIT,
            ),
            ratio_verdict(
                "trioserve server CPU/req <= uvicorn's (same ab runs)",
                _server_cpu(table, SERVERS, TRIOSERVE),
                _server_cpu(table, SERVERS, UVICORN),
                lambda value: value <= 1.0,
            ),
        ]
        growth = _server_cpu_growth(table)
        if growth is not None:
            verdicts.append(growth)
    if WORKERS in parts:
        verdicts.append(
            ratio_verdict(
                "trioserve --workers auto >= 0.9x nginx workers auto (wrk -t2 -c1000, close)",
                _rps(table, WORKERS, TRIOSERVE_AUTO, WRK),
                _rps(table, WORKERS, NGINX_AUTO, WRK),
                lambda value: value >= 0.9,
            )
        )
    if CLIENTS in parts:
        verdicts += [
            _outruns(table, CLIENTS, NGINX_ONE, TRIOLOAD, AB, factor=1.15),
            _outruns(table, CLIENTS, NGINX_ONE, TRIOLOAD, WRK_T1, factor=1.0),
            _user_cpu(table),
            _outruns(table, CLIENTS, NGINX_ONE, TRIOLOAD_W2, AB, factor=1.3),
        ]
    if KEEPALIVE in parts:
        verdicts.append(_outruns(table, KEEPALIVE, NGINX_KEEPALIVE, TRIOLOAD_K, AB_K, factor=0.85))
        verdicts.append(_serves_as_fast(table))
    if TLS in parts:
        verdicts.append(_tls(table))
    if MEMORY in parts:
        verdicts.append(_memory(table, *memory_sizes))
    if LATENCY in parts:
        verdicts.append(_latency(table))
    return verdicts


#: (what, part, server, ours, theirs): req/s ratios shown for information, not judged.
_INFO_RATIOS = (
    ("trioserve vs the trio serve_tcp baseline (req/s under ab)",
     SERVERS, None, TRIOSERVE, TRIO_SERVE_TCP),
    ("trioserve vs trioserve (before) (req/s under ab)",
     SERVERS, None, TRIOSERVE, TRIOSERVE_BEFORE),
    ("trioload vs the trio open_tcp_stream baseline (req/s vs nginx)",
     CLIENTS, NGINX_ONE, TRIOLOAD, TRIO_CLIENT),
    ("trioload vs the bare epoll loop, the ceiling of a Python client (req/s vs nginx)",
     CLIENTS, NGINX_ONE, TRIOLOAD, EPOLL_CLIENT),
    ("the bare epoll loop vs ab (req/s vs nginx)", CLIENTS, NGINX_ONE, EPOLL_CLIENT, AB),
    ("trioload (shard engine) vs trioload --engine tasks (req/s vs nginx)",
     CLIENTS, NGINX_ONE, TRIOLOAD, TRIOLOAD_TASKS),
    ("trioserve --certfile vs nginx TLS (1 worker) (TLS handshakes a second under ab)",
     TLS, None, TRIOSERVE_TLS, NGINX_TLS),
    ("trioload verifying (--cacert) vs --insecure (req/s vs nginx TLS)",
     TLS, NGINX_TLS, TRIOLOAD_TLS, TRIOLOAD_TLS_INSECURE),
    ("trioload verifying (--cacert) vs ab, which never verifies (req/s vs nginx TLS)",
     TLS, NGINX_TLS, TRIOLOAD_TLS, AB_TLS),
)  # fmt: skip


def baseline_ratios(table: RowTable, parts: set[str]) -> list[tuple[str, str]]:
    """How far ahead of the naive programs we are, and how near the ceiling (information)."""
    comparisons = []
    for what, part, server, ours, theirs in _INFO_RATIOS:
        if part not in parts:
            continue
        if theirs == TRIOSERVE_BEFORE and table.get(part, theirs, AB) is None:
            continue  # only there with --trioserve-before
        if server is None:  # servers (and tls): rows are by server, each under ab
            ab = AB_TLS if part == TLS else AB
            mine, other = _rps(table, part, ours, ab), _rps(table, part, theirs, ab)
        else:
            mine, other = _rps(table, part, server, ours), _rps(table, part, server, theirs)
        comparisons.append(ratio_verdict(what, mine, other, lambda _value: True))
    return [(comparison.target, comparison.measured) for comparison in comparisons]
