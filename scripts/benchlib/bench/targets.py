"""The issue's speed targets as a table, and the one function that judges a line of it.

The peer and client names the bench uses live here too, so a target and the run it reads
can't drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..report import RowTable, Verdict

# Parts of the bench, in the order they run.
INLINE, SERVERS, WORKERS, CLIENTS = "inline", "servers", "workers", "clients"
KEEPALIVE, TLS, LATENCY, MEMORY, RATE = "keepalive", "tls", "latency", "memory", "rate"
PARTS = (INLINE, SERVERS, WORKERS, CLIENTS, KEEPALIVE, TLS, LATENCY, MEMORY, RATE)

# Servers.
NGINX_ONE, NGINX_AUTO = "nginx (1 worker)", "nginx (workers auto)"
NGINX_KEEPALIVE, NGINX_TLS = "nginx (1 worker, keep-alive on)", "nginx TLS (1 worker)"
UVICORN, TRIO_SERVE_TCP = "uvicorn (uvloop, httptools)", "trio serve_tcp (baseline)"
TRIOSERVE, TRIOSERVE_AUTO = "trioserve", "trioserve --workers auto"
TRIOSERVE_KEEPALIVE, TRIOSERVE_TLS = "trioserve --keep-alive", "trioserve --certfile"
#: trioserve at the revision given by --trioserve-before.
TRIOSERVE_BEFORE = "trioserve (before)"
DELAY = "delay 20 ms"

# Clients.
AB, AB_K, AB_TLS = "ab", "ab -k", "ab (https)"
WRK, WRK_T1, WRK_T1_K = "wrk -t2", "wrk -t1", "wrk -t1 (keep-alive)"
TRIOLOAD, TRIOLOAD_W2, TRIOLOAD_K = "trioload", "trioload -W 2", "trioload -k"
#: trioload at the revision given by --trioload-before.
TRIOLOAD_BEFORE, TRIOLOAD_K_BEFORE = "trioload (before)", "trioload -k (before)"
#: response times by trioload's reads, not the kernel's receive timestamps: what those cost.
TRIOLOAD_READ_CLOCK, TRIOLOAD_K_READ_CLOCK = "trioload --clock read", "trioload -k --clock read"
#: the per-connection-task engine (the fallback), to show what the shard engine changed.
TRIOLOAD_TASKS = "trioload --engine tasks"
#: verifying the server's certificate against the bench's CA (--cacert), as by default.
TRIOLOAD_TLS = "trioload (https)"
#: not verifying, as ab: what the verification costs.
TRIOLOAD_TLS_INSECURE = "trioload (https, --insecure)"
TRIO_CLIENT = "trio open_tcp_stream (baseline)"
#: the least a Python client can do per request: what the kernel's share leaves reachable.
EPOLL_CLIENT = "bare epoll loop (ceiling)"
BLOCKING = "blocking threads (reference)"
#: the same client one request at a time: the server's own floor (delay + its wake-up slack).
BLOCKING_FLOOR = "blocking, c=1 (floor)"

KEEPALIVE_CONCURRENCY, LATENCY_CONCURRENCY, DELAY_MS = 100, 100, 20.0
#: handshakes are CPU-heavy: on a small machine c=100 keeps nginx's one worker busy already,
#: and c=1000 only adds queueing (and slow connects) to what the target compares.
TLS_CONCURRENCY = 100
#: a request over https costs about ten plain ones (the handshake): a tenth as many requests,
#: but no fewer than this, so a run still lasts long enough to mean something.
TLS_MIN_REQUESTS = 2000
#: both clients pinned to the same protocol (ab's -f name; trioload takes the same flag).
TLS_PROTOCOL = "TLS1.3"
#: what a change to trioserve's fast path may add to its CPU a request (--trioserve-before).
SERVER_CPU_GROWTH_LIMIT_US = 2.0

Key = tuple[str, str]  # (server, client) within a part


def tls_requests(requests: int) -> int:
    """Requests per run in the tls part, from ``--requests``."""
    return max(TLS_MIN_REQUESTS, requests // 10)


def memory_client(requests: int) -> str:
    return f"{TRIOLOAD} -n {requests}"


@dataclass(frozen=True, slots=True)
class Target:
    """One line of the table: ``ours`` against ``theirs`` (or alone) on one figure of their
    median rows, within ``low``..``high``; with neither bound it is shown, not judged."""

    text: str
    part: str
    ours: Key
    theirs: Key | None
    #: the ``Row`` attribute compared: requests_per_second, server_cpu_us, p50_ms ...
    figure: str = "requests_per_second"
    #: "ratio" (ours / theirs), "gap" (ours - theirs) or "value" (ours alone)
    measure: str = "ratio"
    low: float | None = None
    high: float | None = None
    #: and none of ours' requests failed (unknown failures: not judged)
    clean: bool = False
    #: and ours' own figure below this (peak RSS as well as its growth)
    cap: float | None = None
    #: rows whose client CPU a request the verdict shows beside it
    cpu_of: tuple[Key, ...] = ()
    #: a row without which the target does not apply (--trioserve-before's)
    only_with: Key | None = None


def _beats(part: str, server: str, ours: str, theirs: str, low: float) -> Target:
    """The clients' common line: ``ours`` makes at least ``low`` x ``theirs``' req/s against
    ``server``, and fails nothing."""
    text = f"{ours} >= {low:g}x {theirs} (vs {server}), 0 failed"
    return Target(text, part, (server, ours), (server, theirs), low=low, clean=True)


def targets(small: int, large: int) -> tuple[Target, ...]:
    """The issue's targets, in its order; ``small`` and ``large`` are the memory part's -n."""
    cpu, growth = "server_cpu_us", f"<= {SERVER_CPU_GROWTH_LIMIT_US:g} µs"
    cc, k_read = "client_cpu_us", (NGINX_KEEPALIVE, TRIOLOAD_K_READ_CLOCK)
    keep_alive = f"wrk -t1 -c{KEEPALIVE_CONCURRENCY}, keep-alive"
    return (
        Target("trioserve req/s >= 0.95x nginx's (ab -r -c 1000, one process each)",
               SERVERS, (TRIOSERVE, AB), (NGINX_ONE, AB), low=0.95),
        Target("trioserve server CPU/req <= 1.4x nginx's (same ab runs)",
               SERVERS, (TRIOSERVE, AB), (NGINX_ONE, AB), cpu, high=1.4),
        Target("trioserve server CPU/req <= uvicorn's (same ab runs)",
               SERVERS, (TRIOSERVE, AB), (UVICORN, AB), cpu, high=1.0),
        Target(f"trioserve server CPU/req grows {growth} vs --trioserve-before (same ab runs)",
               SERVERS, (TRIOSERVE, AB), (TRIOSERVE_BEFORE, AB), cpu, "gap",
               high=SERVER_CPU_GROWTH_LIMIT_US, only_with=(TRIOSERVE_BEFORE, AB)),
        Target("trioserve --workers auto >= 0.9x nginx workers auto (wrk -t2 -c1000, close)",
               WORKERS, (TRIOSERVE_AUTO, WRK), (NGINX_AUTO, WRK), low=0.9),
        _beats(CLIENTS, NGINX_ONE, TRIOLOAD, AB, 1.15),
        _beats(CLIENTS, NGINX_ONE, TRIOLOAD, WRK_T1, 1.0),
        Target("trioload user CPU <= 12 µs a request (vs nginx, keep-alive off)",
               CLIENTS, (NGINX_ONE, TRIOLOAD), None, "client_user_us", "value", high=12.0,
               cpu_of=((NGINX_ONE, TRIOLOAD), (NGINX_ONE, AB))),
        _beats(CLIENTS, NGINX_ONE, TRIOLOAD_W2, AB, 1.3),
        _beats(KEEPALIVE, NGINX_KEEPALIVE, TRIOLOAD_K, AB_K, 0.85),
        Target("the kernel clock costs trioload <= 1 µs a request over --clock read (vs nginx)",
               CLIENTS, (NGINX_ONE, TRIOLOAD), (NGINX_ONE, TRIOLOAD_READ_CLOCK), cc, "gap", high=1),
        Target("the kernel clock costs trioload -k <= 0.3 µs a request (vs -k --clock read)",
               KEEPALIVE, (NGINX_KEEPALIVE, TRIOLOAD_K), k_read, cc, "gap", high=0.3),
        Target(f"trioserve --keep-alive >= 0.8x nginx's req/s ({keep_alive}), 0 failed",
               KEEPALIVE, (TRIOSERVE_KEEPALIVE, WRK_T1_K), (NGINX_KEEPALIVE, WRK_T1_K), low=0.8,
               clean=True),
        # ab never verifies the certificate: the judged trioload does the same work.
        Target(f"{TRIOLOAD_TLS_INSECURE} >= 1.0x {AB_TLS} (vs {NGINX_TLS}), 0 failed",
               TLS, (NGINX_TLS, TRIOLOAD_TLS_INSECURE), (NGINX_TLS, AB_TLS), low=1.0, clean=True,
               cpu_of=((NGINX_TLS, TRIOLOAD_TLS_INSECURE), (NGINX_TLS, AB_TLS))),
        Target(f"trioload peak RSS flat in -n ({small:,} -> {large:,}: <= 1.1x) and < 100 MB",
               MEMORY, (NGINX_ONE, memory_client(large)), (NGINX_ONE, memory_client(small)),
               "client_rss_mb", high=1.1, cap=100.0),
        Target(f"trioload p50 within 0.5 ms of the blocking reference's ({DELAY_MS:g} ms server,"
               f" c={LATENCY_CONCURRENCY})", LATENCY, (DELAY, TRIOLOAD), (DELAY, BLOCKING),
               "p50_ms", "gap", low=-0.5, high=0.5),
    )  # fmt: skip


#: req/s ratios shown for information, not judged.
INFORMATION = (
    Target("trioserve vs the trio serve_tcp baseline (req/s under ab)",
           SERVERS, (TRIOSERVE, AB), (TRIO_SERVE_TCP, AB)),
    Target("trioserve vs trioserve (before) (req/s under ab)",
           SERVERS, (TRIOSERVE, AB), (TRIOSERVE_BEFORE, AB), only_with=(TRIOSERVE_BEFORE, AB)),
    Target("trioload vs the trio open_tcp_stream baseline (req/s vs nginx)",
           CLIENTS, (NGINX_ONE, TRIOLOAD), (NGINX_ONE, TRIO_CLIENT)),
    Target("trioload vs the bare epoll loop, the ceiling of a Python client (req/s vs nginx)",
           CLIENTS, (NGINX_ONE, TRIOLOAD), (NGINX_ONE, EPOLL_CLIENT)),
    Target("the bare epoll loop vs ab (req/s vs nginx)",
           CLIENTS, (NGINX_ONE, EPOLL_CLIENT), (NGINX_ONE, AB)),
    Target("trioload (shard engine) vs trioload --engine tasks (req/s vs nginx)",
           CLIENTS, (NGINX_ONE, TRIOLOAD), (NGINX_ONE, TRIOLOAD_TASKS)),
    Target("trioserve --certfile vs nginx TLS (1 worker) (TLS handshakes a second under ab)",
           TLS, (TRIOSERVE_TLS, AB_TLS), (NGINX_TLS, AB_TLS)),
    Target("trioload verifying (--cacert) vs --insecure (req/s vs nginx TLS)",
           TLS, (NGINX_TLS, TRIOLOAD_TLS), (NGINX_TLS, TRIOLOAD_TLS_INSECURE)),
    Target("trioload verifying (--cacert) vs ab, which never verifies (req/s vs nginx TLS)",
           TLS, (NGINX_TLS, TRIOLOAD_TLS), (NGINX_TLS, AB_TLS)),
)  # fmt: skip


def _cpu(table: RowTable, part: str, key: Key) -> str:
    row = table.get(part, *key)
    if row is None or row.client_cpu_us is None or row.client_user_us is None:
        return f"{key[1]} -"
    return f"{key[1]} {row.client_cpu_us:.1f} ({row.client_user_us:.1f} user)"


def judge_target(table: RowTable, target: Target) -> Verdict:
    """One line of the table on the median rows: PASS, FAIL, or n/a and why."""
    part, figure = target.part, target.figure
    ours, why = table.value(part, *target.ours, figure)
    theirs, why_theirs = table.value(part, *target.theirs, figure) if target.theirs else (1.0, "")
    if ours is None or theirs is None or (target.measure == "ratio" and theirs == 0):
        return Verdict(target.text, f"n/a ({why or why_theirs or 'denominator is zero'})", None)
    unit = {"us": " µs", "ms": " ms"}.get(figure.rpartition("_")[2], "")
    if target.measure == "ratio":
        value, measured = ours / theirs, f"{ours / theirs:.3f}x ({ours:,.1f} / {theirs:,.1f})"
    elif target.measure == "gap":
        value = ours - theirs
        measured = f"{value:+.3f}{unit} ({ours:.3f} vs {theirs:.3f})"
    else:
        value, measured = ours, f"{ours:.1f}{unit}"
    low, high, passed = target.low, target.high, None  # with neither bound: not judged
    if low is not None or high is not None:
        passed = (low is None or value >= low) and (high is None or value <= high)
        passed = passed and (target.cap is None or ours < target.cap)
    row = table.get(part, *target.ours)
    if target.clean and row is not None:
        if row.failed is None:
            measured, passed = f"{measured}; failures not reported", None
        else:
            measured += f"; failed {row.failed}"
            passed = passed and not row.failed
    reference = table.get(part, *target.theirs) if target.theirs else None
    span = getattr(reference, f"{figure}_range", None) if target.measure == "gap" else None
    if reference is not None and reference.runs > 1 and span is not None:
        measured += f"; theirs ranged {span[0]:.3f}-{span[1]:.3f} over the rounds"
    if target.cpu_of:
        measured += "; client CPU µs/req: " + ", ".join(_cpu(table, part, k) for k in target.cpu_of)
    return Verdict(target.text, measured, passed)


def _applies(table: RowTable, target: Target, parts: set[str]) -> bool:
    return target.part in parts and (
        target.only_with is None or table.get(target.part, *target.only_with) is not None
    )


def judge(table: RowTable, parts: set[str], memory_sizes: tuple[int, int]) -> list[Verdict]:
    """Every target whose part ran, in the issue's order."""
    lines = targets(*memory_sizes)
    return [judge_target(table, target) for target in lines if _applies(table, target, parts)]


def baseline_ratios(table: RowTable, parts: set[str]) -> list[tuple[str, str]]:
    """How far ahead of the naive programs we are, and how near the ceiling (information)."""
    shown = [judge_target(table, t) for t in INFORMATION if _applies(table, t, parts)]
    return [(verdict.target, verdict.measured) for verdict in shown]


def inline_growth(timings: dict[str, dict[str, float]], note: str = "") -> Verdict | None:
    """The in-process cost of a change to trioserve's inline answer, from the inline part's
    medians by head (``now``, ``before``, their ``growth``); None without a before, or n/a and
    why (``note``) when one was asked for but could not be had."""
    growth = timings.get("growth")
    if growth is None and not note:
        return None
    target = (
        f"trioserve inline answer grows <= {SERVER_CPU_GROWTH_LIMIT_US:g} µs a request"
        " vs --trioserve-before (in-process, worst of the heads)"
    )
    if growth is None:
        return Verdict(target, f"n/a ({note})", None)
    worst = max(growth, key=lambda head: growth[head])
    measured = (
        f"{growth[worst]:+.2f} µs on {worst}'s head"
        f" ({timings['now'][worst]:.2f} vs {timings['before'][worst]:.2f})"
    )
    return Verdict(target, measured, growth[worst] <= SERVER_CPU_GROWTH_LIMIT_US)
