"""The bench's parts: which peers each starts, which clients it runs, in what order.

Each ``run_*`` function starts its servers and runs its clients for the given rounds, leaving
the results in the ``Runner``; the inline and rate parts also return a ``Section`` of their own.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from .. import peers
from ..machine import REPO
from ..processes import Server
from ..report import ALL, Section, Verdict, markdown_table
from ..runner import ClientRun, Runner, client_timeout
from ..tools import parse_ab, parse_json_report, parse_wrk
from . import inline_answer, rate
from . import targets as t


class Options(argparse.Namespace):
    """The bench's flags as ``bench.parse_options`` parsed and resolved them, typed."""

    host: str
    requests: int
    concurrency: int
    rounds: int
    parts: frozenset[str]
    wrk_seconds: float
    latency_requests: int
    #: the memory part's two -n.
    memory_sizes: tuple[int, int]
    pause: float
    install_peers: bool
    markdown: Path | None
    trioserve: Path
    trioload: Path
    trioserve_before: str | None
    trioload_before: str | None
    rate_server: str
    rate_concurrency: int
    rate_fractions: tuple[float, ...]
    rate_seconds: float


Part = Callable[[Runner, Options, Path], Section | None]
#: the rate part's runs by load: each one's figures, or why it has none.
Results = dict[rate.Load, list[rate.Figures | str]]
#: ab gives up on a socket after this many seconds (its default, 30, made explicit): ab can hang.
AB_SOCKET_TIMEOUT_S = 30


def ab_run(url: str, n: int, c: int, *, keep_alive: bool = False, tls: bool = False) -> ClientRun:
    """ab, going on after socket errors (-r), keep-alive off unless asked; with ``tls``, over
    https as the tls part runs it (ab never verifies the certificate): TLS 1.3, and a safety
    net ten times longer, the handshake making a request ~10x dearer."""
    flags = [*(["-k"] if keep_alive else []), *(["-f", t.TLS_PROTOCOL] if tls else [])]
    timeout = str(AB_SOCKET_TIMEOUT_S)
    argv = ["ab", *flags, "-r", "-q", "-s", timeout, "-c", str(c), "-n", str(n), url]
    name = t.AB_TLS if tls else t.AB_K if keep_alive else t.AB
    return ClientRun(name, argv, parse_ab, n, client_timeout(n * (10 if tls else 1)))


def wrk_run(opts: Options, url: str, threads: int = 2, *, keep_alive: bool = False) -> ClientRun:
    """wrk against ``url``, with its latency table: -t2 at -c, -t1 at -c, or -t1 keep-alive at
    the keep-alive part's c; keep-alive off, it asks the server to close after each reply."""
    c = t.KEEPALIVE_CONCURRENCY if keep_alive else opts.concurrency
    close = [] if keep_alive else ["-H", "Connection: close"]
    argv = ["wrk", f"-t{threads}", f"-c{c}", f"-d{max(1, round(opts.wrk_seconds))}s",
            "--timeout", "30s", "--latency", *close, url]  # fmt: skip
    name = t.WRK_T1_K if keep_alive else t.WRK if threads == 2 else t.WRK_T1
    missing = None if shutil.which("wrk") else "wrk not installed"
    return ClientRun(name, argv, parse_wrk, None, opts.wrk_seconds + 60, missing)


def trioload_run(
    opts: Options,
    name: str,
    url: str,
    n: int,
    c: int,
    *extra: str,
    cost: int = 1,
    before: str | None = None,
) -> ClientRun:
    """trioload like ab (keep-alive off unless ``extra`` says ``-k``), its JSON report on
    stdout, with the given ``extra`` flags (``-W 2``, ``-k``, ``--engine tasks``); ``cost``:
    how many plain requests one of these is worth, for the safety-net timeout; ``before``: a
    git revision whose trioload runs instead of ``--trioload`` (``--trioload-before``)."""
    exe = opts.trioload if before is None else peers.launcher_at("trioload", before)
    missing = exe if isinstance(exe, str) else peers.console_script_problem(exe)
    argv = [str(exe), "-c", str(c), "-n", str(n), "--json", "-", *extra, url]
    return ClientRun(name, argv, parse_json_report, n, client_timeout(n * cost), missing)


def baseline_client(name: str, program: str, peer: Server, n: int, c: int) -> ClientRun:
    """One of the baseline clients (``trio``, ``blocking``, ``epoll``) against ``peer``."""
    argv = peers.baseline_argv(
        program, "-n", str(n), "-c", str(c), "--host", peer.host, "--port", str(peer.port)
    )
    return ClientRun(name, argv, parse_json_report, n, client_timeout(n))


def run_inline(runner: Runner, opts: Options, run_dir: Path) -> Section:
    """trioserve's inline answer timed in-process, and --trioserve-before's, rounds interleaved:
    its table of µs a request per head (now, before, the growth) and the growth's verdict."""
    before = opts.trioserve_before and peers.checkout("trioserve", opts.trioserve_before)
    trees = {"now": REPO} | ({"before": before} if isinstance(before, Path) else {})
    runs: dict[str, list[dict[str, float]]] = {which: [] for which in trees}
    for _ in range(opts.rounds):
        for which, tree in trees.items():
            runs[which].append(inline_answer.measure(tree))
        line = "; ".join(f"{which} " + ", ".join(f"{head} {us:.2f}" for head, us in got[-1].items())
                         for which, got in runs.items())  # fmt: skip
        print(f"  [{t.INLINE}] µs a request: {line}")
    timings = {which: inline_answer.medians(got) for which, got in runs.items()}
    if "before" in timings:
        timings["growth"] = {
            head: us - timings["before"][head] for head, us in timings["now"].items()
        }
    growth = t.inline_growth(timings, before if isinstance(before, str) else "")
    heads = list(timings["now"])
    rows = [[which, *(f"{us[h]:+.2f}" if which == "growth" else f"{us[h]:.2f}" for h in heads)]
            for which, us in timings.items()]  # fmt: skip
    return Section(t.INLINE, [] if growth is None else [growth], [
        "## trioserve's inline answer, in-process (µs a request, median of the rounds' best)",
        "",
        markdown_table(["trioserve", *heads], rows, range(1, len(heads) + 1)),
        "",
    ])  # fmt: skip


def run_servers(runner: Runner, opts: Options, run_dir: Path) -> None:
    """ab against each one-process server."""
    specs = [
        peers.nginx(t.NGINX_ONE, opts.host, "1", run_dir),
        peers.uvicorn(t.UVICORN, opts.host, opts.install_peers),
        peers.trio_baseline_server(t.TRIO_SERVE_TCP, opts.host),
        peers.trioserve(t.TRIOSERVE, opts.host, exe=opts.trioserve),
    ]
    if opts.trioserve_before is not None:  # that revision's, to compare a change in one run
        before = peers.launcher_at("trioserve", opts.trioserve_before)
        specs.append(peers.trioserve(t.TRIOSERVE_BEFORE, opts.host, exe=before))
    n, c = opts.requests, opts.concurrency
    runner.run_rounds(t.SERVERS, opts.rounds, specs, lambda peer: [ab_run(peer.url, n, c)])


def run_workers(runner: Runner, opts: Options, run_dir: Path) -> None:
    """wrk (two threads, Connection: close) against the multi-process servers."""
    specs = [
        peers.nginx(t.NGINX_AUTO, opts.host, "auto", run_dir),
        peers.trioserve(t.TRIOSERVE_AUTO, opts.host, "--workers", "auto", exe=opts.trioserve),
    ]
    runner.run_rounds(t.WORKERS, opts.rounds, specs, lambda peer: [wrk_run(opts, peer.url)])


def run_clients(runner: Runner, opts: Options, run_dir: Path) -> None:
    """Every load generator against one-worker nginx, keep-alive off."""

    def clients(peer: Server) -> list[ClientRun]:
        url, n, c = peer.url, opts.requests, opts.concurrency
        runs = [
            ab_run(url, n, c),
            wrk_run(opts, url, threads=1),
            baseline_client(t.TRIO_CLIENT, "trio", peer, n, c),
            baseline_client(t.EPOLL_CLIENT, "epoll", peer, n, c),
            trioload_run(opts, t.TRIOLOAD, url, n, c),
            trioload_run(opts, t.TRIOLOAD_W2, url, n, c, "-W", "2"),
            trioload_run(opts, t.TRIOLOAD_TASKS, url, n, c, "--engine", "tasks"),
            trioload_run(opts, t.TRIOLOAD_READ_CLOCK, url, n, c, "--clock", "read"),
        ]
        if (before := opts.trioload_before) is not None:
            runs.append(trioload_run(opts, t.TRIOLOAD_BEFORE, url, n, c, before=before))
        return runs

    nginx = peers.nginx(t.NGINX_ONE, opts.host, "1", run_dir)
    runner.run_rounds(t.CLIENTS, opts.rounds, [nginx], clients)


def run_keepalive(runner: Runner, opts: Options, run_dir: Path) -> None:
    """Keep-alive on, c=100: ab -k and trioload -k against one-worker nginx; wrk -t1 against
    that nginx and ``trioserve --keep-alive``."""
    # Kept connections go ~5x faster than new ones: more requests for a comparable run.
    n, c = opts.requests * 5, t.KEEPALIVE_CONCURRENCY

    def clients(peer: Server) -> list[ClientRun]:
        runs = [wrk_run(opts, peer.url, 1, keep_alive=True)]
        if peer.name == t.NGINX_KEEPALIVE:
            runs.append(ab_run(peer.url, n, c, keep_alive=True))
            for name, clock in ((t.TRIOLOAD_K, "auto"), (t.TRIOLOAD_K_READ_CLOCK, "read")):
                runs.append(trioload_run(opts, name, peer.url, n, c, "-k", "--clock", clock))
            if (before := opts.trioload_before) is not None:
                runs.append(trioload_run(opts, t.TRIOLOAD_K_BEFORE, peer.url, n, c, "-k",
                                         before=before))  # fmt: skip
        return runs

    specs = [
        peers.nginx(t.NGINX_KEEPALIVE, opts.host, "1", run_dir, keep_alive=True),
        peers.trioserve(t.TRIOSERVE_KEEPALIVE, opts.host, "--keep-alive", exe=opts.trioserve),
    ]
    runner.run_rounds(t.KEEPALIVE, opts.rounds, specs, clients)


def run_tls(runner: Runner, opts: Options, run_dir: Path) -> None:
    """https, keep-alive off, c=100, TLS 1.3: ab (which never verifies the certificate) and
    trioload, verifying it against the bench's CA and with ``--insecure`` (ab's way), against
    one-worker nginx with TLS; ab against ``trioserve --certfile``."""
    files = peers.make_certificates(run_dir / "tls", opts.host)
    if isinstance(files, str):
        runner.skip(t.TLS, ALL, ALL, f"not available: {files}")
        return
    n, c, protocol = t.tls_requests(opts.requests), t.TLS_CONCURRENCY, ("-f", t.TLS_PROTOCOL)

    def clients(peer: Server) -> list[ClientRun]:
        url = f"https://{peer.host}:{peer.port}/"
        if peer.name != t.NGINX_TLS:
            return [ab_run(url, n, c, tls=True)]
        return [
            ab_run(url, n, c, tls=True),
            trioload_run(opts, t.TRIOLOAD_TLS, url, n, c, *protocol, "--cacert", str(files.ca),
                         cost=10),
            trioload_run(opts, t.TRIOLOAD_TLS_INSECURE, url, n, c, *protocol, "--insecure",
                         cost=10),
        ]  # fmt: skip

    specs = [
        peers.nginx(t.NGINX_TLS, opts.host, "1", run_dir, tls=files),
        peers.trioserve(t.TRIOSERVE_TLS, opts.host, "--certfile", str(files.chain),
                        "--keyfile", str(files.key), exe=opts.trioserve),
    ]  # fmt: skip
    runner.run_rounds(t.TLS, opts.rounds, specs, clients)


def run_latency(runner: Runner, opts: Options, run_dir: Path) -> None:
    """Clients at c=100 against a server that answers 20 ms after a request's head came in: p50
    shows their overhead. The server is the venv's trioserve with ``--delay`` (not
    ``--trioserve``: the yardstick stays put), in two processes sharing the port: c clients
    with a fixed delay arrive in waves, and one process would queue a wave behind itself."""
    n, c = opts.latency_requests, t.LATENCY_CONCURRENCY

    def clients(peer: Server) -> list[ClientRun]:
        return [
            baseline_client(t.BLOCKING, "blocking", peer, n, c),
            trioload_run(opts, t.TRIOLOAD, peer.url, n, c),
            ab_run(peer.url, n, c),
            # One at a time: keep it to a few seconds.
            baseline_client(t.BLOCKING_FLOOR, "blocking", peer, max(20, n // 100), 1),
        ]

    workers = str(min(2, len(os.sched_getaffinity(0))))
    delay = peers.trioserve(t.DELAY, opts.host, "--delay", f"{t.DELAY_MS:g}", "--workers", workers)
    runner.run_rounds(t.LATENCY, opts.rounds, [delay], clients)


def run_memory(runner: Runner, opts: Options, run_dir: Path) -> None:
    """trioload's peak RSS at a small and a large -n (one run each: the large one is long)."""

    def runs(peer: Server) -> list[ClientRun]:
        c = opts.concurrency
        return [trioload_run(opts, t.memory_client(n), peer.url, n, c) for n in opts.memory_sizes]

    runner.run_rounds(t.MEMORY, 1, [peers.nginx(t.NGINX_ONE, opts.host, "1", run_dir)], runs)


def run_rate(runner: Runner, opts: Options, run_dir: Path) -> Section:
    """Each round trioload's closed-loop max against one server (keep-alive off), then ``-R``
    at fractions of it, each run about ``rate_seconds`` long."""
    if opts.rate_server == "nginx":
        server, spec = t.NGINX_ONE, peers.nginx(t.NGINX_ONE, opts.host, "1", run_dir)
    else:
        server, spec = t.TRIOSERVE, peers.trioserve(t.TRIOSERVE, opts.host, exe=opts.trioserve)
    results: Results | str = f"{server} did not start"
    with runner.started(t.RATE, [spec]) as live:
        if live:
            results = _sweep(runner, opts, server, live[server])
    if isinstance(results, str):
        return Section(t.RATE, [Verdict(rate.TARGET, f"n/a ({results})", None)], [])
    table = [rate.cells(load, runs) for load, runs in results.items()]
    return Section(t.RATE, [rate.verdict_of(results), rate.cpu_verdict(results)], [
        f"## Does trioload -R keep its schedule? (vs {server}, -c {opts.rate_concurrency})",
        "",
        "Each round the closed loop, then -R at fractions of that round's closed-loop req/s,"
        f" ~{opts.rate_seconds:g} s a run, keep-alive off. Lag: from when a request was due to"
        " when it was sent; late: sent 1 ms or more after due; client CPU: trioload's own report;"
        f" dip: the slowest {rate.WINDOW_S:g} s of a closed loop run beside it, over its mean.",
        "",
        markdown_table(rate.HEADERS, table, rate.NUMERIC),
        "",
    ])  # fmt: skip


def _sweep(runner: Runner, opts: Options, server: str, peer: Server) -> Results | str:
    """Round by round, the closed loop then each fraction of its max against ``server``; or
    why it could not."""
    results: Results = {None: []}
    results |= {fraction: [] for fraction in opts.rate_fractions}

    def measured(name: str, requests: int, *extra: str) -> rate.Figures | str:
        run = trioload_run(opts, name, peer.url, requests, opts.rate_concurrency, "-q", *extra)
        result = runner.measure(t.RATE, server, peer, run)
        if result.error is not None:
            return result.error
        return rate.figures_from_report(result.report or {})

    # A warm-up sizes the first closed-loop run (and warms the server); it is not counted.
    warm_up = max(rate.WARM_UP_REQUESTS, 10 * opts.rate_concurrency)
    warm = measured(f"{t.TRIOLOAD} (warm-up)", warm_up)  # the first of the part's names
    if isinstance(warm, str) or not warm.made:
        return warm if isinstance(warm, str) else "the warm-up run made no request"
    basis = warm.made
    for _ in range(opts.rounds):
        closed = measured(t.TRIOLOAD, requests := rate.requests_for(basis, opts.rate_seconds))
        # The dip from a closed loop of its own: its windows' cuts cost the run they are made in.
        dipped = measured(f"{t.TRIOLOAD} (dip)", requests, "--interval", str(rate.WINDOW_S))
        if isinstance(closed, rate.Figures) and isinstance(dipped, rate.Figures):
            closed = dataclasses.replace(closed, dip=dipped.dip)
        results[None].append(closed)
        # Each round's rates follow its own closed-loop max, so a drifting machine moves both;
        # a failed closed run leaves the last max that was known.
        if isinstance(closed, rate.Figures) and closed.made:
            basis = closed.made
        for fraction in opts.rate_fractions:
            asked = max(1, round(fraction * basis))
            name = f"{t.TRIOLOAD} {rate.load_label(fraction)}"
            n = rate.requests_for(asked, opts.rate_seconds)
            results[fraction].append(measured(name, n, "-R", str(asked)))
    return results


#: each part's run, by name: the bench runs those asked for, in ``t.PARTS``' order.
RUNS: dict[str, Part] = {
    t.INLINE: run_inline, t.SERVERS: run_servers, t.WORKERS: run_workers, t.CLIENTS: run_clients,
    t.KEEPALIVE: run_keepalive, t.TLS: run_tls, t.LATENCY: run_latency, t.MEMORY: run_memory,
    t.RATE: run_rate,
}  # fmt: skip
