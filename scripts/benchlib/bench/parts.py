"""The bench's parts: which peers each starts, which clients it runs, in what order.

Each ``run_*`` function starts its servers, runs its clients for the given rounds (peers
interleaved within a round) and leaves the samples in the ``Runner``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import peers
from ..machine import REPO, which
from ..runner import ClientRun, Live, Runner, client_timeout
from ..tools import ab_argv, parse_ab, parse_json_report, parse_wrk, trioload_argv, wrk_argv
from . import certs, inline_answer, targets
from .certs import TlsFiles
from .inline_answer import InlineTimings


@dataclass(frozen=True, slots=True)
class Options:
    """The bench's settings after ``--quick`` and the explicit flags are resolved."""

    host: str
    requests: int
    concurrency: int
    rounds: int
    parts: frozenset[str]
    wrk_seconds: float
    latency_requests: int
    memory_sizes: tuple[int, int]
    pause_s: float
    install_peers: bool
    markdown: Path | None
    trioserve: Path
    trioload: Path
    #: a git revision whose trioserve joins the servers part, to measure a change in one run.
    trioserve_before: str | None = None


def ab_run(
    opts: Options,
    url: str,
    requests: int | None = None,
    c: int | None = None,
    *,
    keep_alive: bool = False,
) -> ClientRun:
    count = requests or opts.requests
    argv = ab_argv(url, count, c or opts.concurrency, keep_alive=keep_alive)
    name = targets.AB_K if keep_alive else targets.AB
    return ClientRun(name, argv, parse_ab, count, client_timeout(count))


def wrk_run(opts: Options, url: str, threads: int = 2) -> ClientRun:
    argv = wrk_argv(url, threads, opts.concurrency, opts.wrk_seconds)
    name = targets.WRK if threads == 2 else targets.WRK_T1
    return ClientRun(name, argv, parse_wrk, None, opts.wrk_seconds + 60)


def wrk_keep_alive_run(opts: Options, url: str) -> ClientRun:
    """wrk -t1 at the keep-alive part's concurrency, its connections kept."""
    argv = wrk_argv(url, 1, targets.KEEPALIVE_CONCURRENCY, opts.wrk_seconds, keep_alive=True)
    return ClientRun(targets.WRK_T1_K, argv, parse_wrk, None, opts.wrk_seconds + 60)


def trioload_run(
    opts: Options,
    name: str,
    url: str,
    requests: int,
    concurrency: int,
    *extra: str,
) -> ClientRun:
    """trioload with the given ``extra`` flags (``-W 2``, ``-k``, ``--engine tasks``)."""
    argv = trioload_argv(str(opts.trioload), url, requests, concurrency, extra)
    return ClientRun(name, argv, parse_json_report, requests, client_timeout(requests))


def baseline_client(name: str, module: str, peer: Live, requests: int, c: int) -> ClientRun:
    """One of the baseline clients (``trio_client``, ``blocking_client``) against ``peer``."""
    argv = peers.baseline_argv(
        module, "-n", str(requests), "-c", str(c), "--host", peer.host, "--port", str(peer.port)
    )
    return ClientRun(name, argv, parse_json_report, requests, client_timeout(requests))


def _if_trioload_runs(
    runner: Runner, opts: Options, part: str, server: str, runs: list[ClientRun]
) -> list[ClientRun]:
    """``runs`` when trioload's console script works; else none, and their rows say why."""
    problem = peers.console_script_problem(opts.trioload)
    if problem is None:
        return runs
    runner.skip(part, server, [run.name for run in runs], f"not available: {problem}")
    return []


def _rounds(
    runner: Runner, opts: Options, where: tuple[str, str], peer: Live, clients: list[ClientRun]
) -> None:
    """Every client against ``peer`` once a round, interleaved, for ``opts.rounds`` rounds."""
    part, server = where
    for _ in range(opts.rounds):
        for client in clients:
            runner.measure(part, server, peer, client)


def run_servers(runner: Runner, opts: Options, run_dir: Path) -> None:
    """ab against each one-process server, rounds interleaved (forward, then backward)."""
    specs = [
        peers.nginx(targets.NGINX_ONE, opts.host, "1", run_dir),
        peers.uvicorn(targets.UVICORN, opts.host, opts.install_peers),
        peers.trio_baseline_server(targets.TRIO_SERVE_TCP, opts.host),
        peers.trioserve(targets.TRIOSERVE, opts.host, opts.trioserve),
    ]
    if opts.trioserve_before is not None:
        specs.append(peers.trioserve_at(targets.TRIOSERVE_BEFORE, opts.host, opts.trioserve_before))
    with runner.started(targets.SERVERS, specs, [targets.AB]) as live:
        for round_number in range(opts.rounds):
            # Every other round in reverse: a server's figures (its CPU a request above all)
            # depend on what ran just before it, so no server always follows the same one.
            order = list(live.items())
            for name, peer in order if round_number % 2 == 0 else reversed(order):
                runner.measure(targets.SERVERS, name, peer, ab_run(opts, peer.url))


def run_inline(opts: Options) -> InlineTimings:
    """trioserve's inline answer timed in-process, and --trioserve-before's, rounds interleaved."""
    before_dir: Path | None = None
    note = ""
    if opts.trioserve_before is not None:
        checkout = peers.trioserve_checkout(opts.trioserve_before)
        if isinstance(checkout, str):
            note = checkout
        else:
            before_dir = checkout
    now_runs, before_runs = [], []
    for _ in range(opts.rounds):
        now_runs.append(inline_answer.measure(REPO))
        line = ", ".join(f"{head} {us:.2f}" for head, us in now_runs[-1].items())
        if before_dir is not None:
            before_runs.append(inline_answer.measure(before_dir))
            line += "; before: " + ", ".join(f"{h} {us:.2f}" for h, us in before_runs[-1].items())
        print(f"  [{targets.INLINE}] µs a request: {line}")
    before = inline_answer.medians(before_runs) if before_runs else None
    return InlineTimings(inline_answer.medians(now_runs), before, note)


def run_workers(runner: Runner, opts: Options, run_dir: Path) -> None:
    """wrk (two threads, Connection: close) against the multi-process servers."""
    if which("wrk") is None:
        runner.skip(targets.WORKERS, "(all)", [targets.WRK], "not available: wrk not installed")
        return
    specs = [
        peers.nginx(targets.NGINX_AUTO, opts.host, "auto", run_dir),
        peers.trioserve(targets.TRIOSERVE_AUTO, opts.host, opts.trioserve, workers="auto"),
    ]
    with runner.started(targets.WORKERS, specs, [targets.WRK]) as live:
        for _ in range(opts.rounds):
            for name, peer in live.items():
                runner.measure(targets.WORKERS, name, peer, wrk_run(opts, peer.url))


def run_clients(runner: Runner, opts: Options, run_dir: Path) -> None:
    """Every load generator against one-worker nginx, keep-alive off."""
    names = [targets.AB, targets.WRK_T1, targets.TRIO_CLIENT, targets.EPOLL_CLIENT,
             targets.TRIOLOAD, targets.TRIOLOAD_W2, targets.TRIOLOAD_TASKS]  # fmt: skip
    nginx = peers.nginx(targets.NGINX_ONE, opts.host, "1", run_dir)
    with runner.started(targets.CLIENTS, [nginx], names) as live:
        if not live:
            return
        peer = live[targets.NGINX_ONE]
        n, c = opts.requests, opts.concurrency
        clients = [
            ab_run(opts, peer.url),
            baseline_client(targets.TRIO_CLIENT, "trio_client", peer, n, c),
            baseline_client(targets.EPOLL_CLIENT, "epoll_client", peer, n, c),
        ]
        if which("wrk") is not None:
            clients.insert(1, wrk_run(opts, peer.url, threads=1))
        where = (targets.CLIENTS, targets.NGINX_ONE)
        clients += _if_trioload_runs(runner, opts, *where, [
            trioload_run(opts, targets.TRIOLOAD, peer.url, n, c),
            trioload_run(opts, targets.TRIOLOAD_W2, peer.url, n, c, "-W", "2"),
            trioload_run(opts, targets.TRIOLOAD_TASKS, peer.url, n, c, "--engine", "tasks"),
        ])  # fmt: skip
        _rounds(runner, opts, where, peer, clients)


def run_keepalive(runner: Runner, opts: Options, run_dir: Path) -> None:
    """Keep-alive on, c=100: ab -k and trioload -k against one-worker nginx; wrk -t1 against
    that nginx and ``trioserve --keep-alive``, interleaved."""
    names = [targets.AB_K, targets.TRIOLOAD_K, targets.WRK_T1_K]
    specs = [
        peers.nginx(targets.NGINX_KEEPALIVE, opts.host, "1", run_dir, keep_alive=True),
        peers.trioserve(targets.TRIOSERVE_KEEPALIVE, opts.host, opts.trioserve, None,
                        "--keep-alive"),
    ]  # fmt: skip
    has_wrk = which("wrk") is not None
    if not has_wrk:
        runner.skip(
            targets.KEEPALIVE, "(all)", [targets.WRK_T1_K], "not available: wrk not installed"
        )
    with runner.started(targets.KEEPALIVE, specs, names) as live:
        # Kept connections go ~5x faster than new ones: more requests for a comparable run.
        n, c = opts.requests * 5, targets.KEEPALIVE_CONCURRENCY
        clients: dict[str, list[ClientRun]] = {}
        for name, peer in live.items():
            clients[name] = [wrk_keep_alive_run(opts, peer.url)] if has_wrk else []
            if name == targets.NGINX_KEEPALIVE:
                clients[name].append(ab_run(opts, peer.url, n, c, keep_alive=True))
                clients[name] += _if_trioload_runs(runner, opts, targets.KEEPALIVE, name, [
                    trioload_run(opts, targets.TRIOLOAD_K, peer.url, n, c, "-k"),
                ])  # fmt: skip
        for _ in range(opts.rounds):
            for name, peer in live.items():
                for client in clients[name]:
                    runner.measure(targets.KEEPALIVE, name, peer, client)


def https_url(peer: Live) -> str:
    return f"https://{peer.host}:{peer.port}/"


def tls_ab_run(url: str, requests: int) -> ClientRun:
    """ab over https at the tls part's concurrency, keep-alive off, TLS 1.3 (ab never verifies
    the certificate)."""
    argv = ab_argv(url, requests, targets.TLS_CONCURRENCY, tls_protocol=targets.TLS_PROTOCOL)
    # The handshake makes a request ~10x dearer: the safety net grows to match.
    return ClientRun(targets.AB_TLS, argv, parse_ab, requests, client_timeout(requests * 10))


def tls_trioload_runs(opts: Options, files: TlsFiles, url: str, requests: int) -> list[ClientRun]:
    """trioload over https as ab runs it (keep-alive off, TLS 1.3): verifying the certificate
    against the bench's CA, and with ``--insecure`` (ab's way)."""
    c, protocol = targets.TLS_CONCURRENCY, ("-f", targets.TLS_PROTOCOL)
    runs = [
        trioload_run(opts, targets.TRIOLOAD_TLS, url, requests, c, *protocol,
                     "--cacert", str(files.ca)),
        trioload_run(opts, targets.TRIOLOAD_TLS_INSECURE, url, requests, c, *protocol,
                     "--insecure"),
    ]  # fmt: skip
    return [
        ClientRun(run.name, run.argv, run.parse, requests, client_timeout(requests * 10))
        for run in runs
    ]


def run_tls(runner: Runner, opts: Options, run_dir: Path) -> None:
    """https, keep-alive off, c=100: ab and trioload (verifying, and --insecure) against
    one-worker nginx with TLS, and ab against ``trioserve --certfile``, interleaved."""
    names = [targets.AB_TLS, targets.TRIOLOAD_TLS, targets.TRIOLOAD_TLS_INSECURE]
    files = certs.make_certificates(run_dir / "tls", opts.host)
    if isinstance(files, str):
        runner.skip(targets.TLS, "(all)", names, f"not available: {files}")
        return
    specs = [
        peers.nginx(targets.NGINX_TLS, opts.host, "1", run_dir, tls=files),
        peers.trioserve(targets.TRIOSERVE_TLS, opts.host, opts.trioserve, None,
                        *certs.trioserve_flags(files)),
    ]  # fmt: skip
    with runner.started(targets.TLS, specs, names) as live:
        n = targets.tls_requests(opts.requests)
        clients: dict[str, list[ClientRun]] = {}
        for name, peer in live.items():
            url = https_url(peer)
            clients[name] = [tls_ab_run(url, n)]
            if name == targets.NGINX_TLS:
                clients[name] += _if_trioload_runs(
                    runner, opts, targets.TLS, name, tls_trioload_runs(opts, files, url, n)
                )
        for _ in range(opts.rounds):
            for name, peer in live.items():
                for client in clients[name]:
                    runner.measure(targets.TLS, name, peer, client)


def run_latency(runner: Runner, opts: Options) -> None:
    """Clients at c=100 against a server that answers after 20 ms: p50 shows their overhead."""
    names = [targets.BLOCKING, targets.TRIOLOAD, targets.AB, targets.BLOCKING_FLOOR]
    workers = min(2, len(os.sched_getaffinity(0)))
    delay = peers.delay_server(targets.DELAY, opts.host, targets.DELAY_MS, workers)
    with runner.started(targets.LATENCY, [delay], names) as live:
        if not live:
            return
        peer = live[targets.DELAY]
        n, c = opts.latency_requests, targets.LATENCY_CONCURRENCY
        floor_n = max(20, n // 100)  # one at a time: keep it to a few seconds
        clients = [
            baseline_client(targets.BLOCKING, "blocking_client", peer, n, c),
            ab_run(opts, peer.url, n, c),
            baseline_client(targets.BLOCKING_FLOOR, "blocking_client", peer, floor_n, 1),
        ]
        where = (targets.LATENCY, targets.DELAY)
        clients[1:1] = _if_trioload_runs(
            runner, opts, *where, [trioload_run(opts, targets.TRIOLOAD, peer.url, n, c)]
        )
        _rounds(runner, opts, where, peer, clients)


def run_memory(runner: Runner, opts: Options, run_dir: Path) -> None:
    """trioload's peak RSS at a small and a large -n (one run each: the large one is long)."""
    sizes = opts.memory_sizes
    names = [targets.memory_client(size) for size in sizes]
    problem = peers.console_script_problem(opts.trioload)
    if problem is not None:
        runner.skip(targets.MEMORY, targets.NGINX_ONE, names, f"not available: {problem}")
        return
    nginx = peers.nginx(targets.NGINX_ONE, opts.host, "1", run_dir)
    with runner.started(targets.MEMORY, [nginx], names) as live:
        for peer in live.values():
            for name, size in zip(names, sizes, strict=True):
                run = trioload_run(opts, name, peer.url, size, opts.concurrency)
                runner.measure(targets.MEMORY, targets.NGINX_ONE, peer, run)
