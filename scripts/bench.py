"""Speed targets side by side: trioserve and trioload against nginx, uvicorn, ab, wrk and the
naive trio baselines, in one run, rounds interleaved, medians judged against the issue's targets.

Parts (``--only``): servers (ab against one-process servers), workers (wrk against multi-process
servers), clients (load generators against nginx), latency (client overhead against a 20 ms
server), memory (trioload's peak RSS at two request counts). Prints a progress line per run,
then a Markdown report (machine, targets with PASS/FAIL, the medians table).

    .venv/bin/python scripts/bench.py --quick            # smoke run, seconds
    .venv/bin/python scripts/bench.py --install-peers    # full run (adds uvicorn's venv once)
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib import peers, targets
from scripts.benchlib.machine import (
    OUT_DIR,
    VENV_BIN,
    describe,
    raise_nofile_limit,
    require_loopback,
    tool_version,
    which,
)
from scripts.benchlib.report import (
    RESULT_HEADERS,
    RESULT_NUMERIC,
    RowTable,
    markdown_table,
    result_cells,
)
from scripts.benchlib.runner import ClientRun, Runner, client_timeout
from scripts.benchlib.tools import (
    ab_argv,
    parse_ab,
    parse_json_report,
    parse_wrk,
    trioload_argv,
    wrk_argv,
)

T = TypeVar("T")


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


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", "-n", type=int, help="requests per run (200000)")
    parser.add_argument("--concurrency", "-c", type=int, default=1000)
    parser.add_argument("--rounds", type=int, help="interleaved rounds, medians taken (3)")
    parser.add_argument(
        "--only", help=f"comma-separated parts to run, of: {','.join(targets.PARTS)}"
    )
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument("--wrk-seconds", type=float, help="wrk run length (10)")
    parser.add_argument("--latency-requests", type=int, help="requests per latency run (20000)")
    parser.add_argument(
        "--memory-requests", help="trioload -n for the RSS check: SMALL,LARGE (100000,10000000)"
    )
    parser.add_argument("--pause", type=float, help="seconds between runs (2)")
    parser.add_argument(
        "--install-peers", action="store_true", help=f"create {peers.PEERS_VENV.name} for uvicorn"
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind and load")
    parser.add_argument("--trioserve", type=Path, default=VENV_BIN / "trioserve", help="server")
    parser.add_argument("--trioload", type=Path, default=VENV_BIN / "trioload", help="client")
    args = parser.parse_args(argv)

    def pick(given: T | None, quick: T, full: T) -> T:
        if given is not None:
            return given
        return quick if args.quick else full

    parts = frozenset(args.only.split(",")) if args.only else frozenset(targets.PARTS)
    if unknown := parts - set(targets.PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    memory = pick(args.memory_requests, "2000,20000", "100000,10000000").split(",")
    if len(memory) != 2:
        parser.error("--memory-requests takes SMALL,LARGE")
    return Options(
        host=require_loopback(args.host),
        requests=pick(args.requests, 2000, 200_000),
        concurrency=args.concurrency,
        rounds=pick(args.rounds, 1, 3),
        parts=parts,
        wrk_seconds=pick(args.wrk_seconds, 2.0, 10.0),
        latency_requests=pick(args.latency_requests, 500, 20_000),
        memory_sizes=(int(memory[0]), int(memory[1])),
        pause_s=pick(args.pause, 0.2, 2.0),
        install_peers=args.install_peers,
        markdown=args.markdown,
        trioserve=args.trioserve.absolute(),
        trioload=args.trioload.absolute(),
    )


def ab_run(opts: Options, url: str, requests: int | None = None, c: int | None = None) -> ClientRun:
    count = requests or opts.requests
    argv = ab_argv(url, count, c or opts.concurrency)
    return ClientRun(targets.AB, argv, parse_ab, count, client_timeout(count))


def wrk_run(opts: Options, url: str) -> ClientRun:
    argv = wrk_argv(url, 2, opts.concurrency, opts.wrk_seconds)
    return ClientRun(targets.WRK, argv, parse_wrk, None, opts.wrk_seconds + 60)


def trioload_run(
    opts: Options,
    name: str,
    url: str,
    requests: int,
    concurrency: int,
    *,
    workers: str | None = None,
) -> ClientRun:
    argv = trioload_argv(str(opts.trioload), url, requests, concurrency, workers)
    return ClientRun(name, argv, parse_json_report, requests, client_timeout(requests))


def baseline_client(name: str, module: str, url: str, requests: int, c: int) -> ClientRun:
    port = url.rsplit(":", 1)[1].strip("/")
    host = url.split("//", 1)[1].split(":", 1)[0]
    argv = peers.baseline_argv(
        module, "-n", str(requests), "-c", str(c), "--host", host, "--port", port
    )
    return ClientRun(name, argv, parse_json_report, requests, client_timeout(requests))


def run_servers(runner: Runner, opts: Options, run_dir: Path) -> None:
    """ab against each one-process server, rounds interleaved."""
    specs = [
        peers.nginx(targets.NGINX_ONE, opts.host, "1", run_dir),
        peers.uvicorn(targets.UVICORN, opts.host, opts.install_peers),
        peers.trio_baseline_server(targets.TRIO_SERVE_TCP, opts.host),
        peers.trioserve(targets.TRIOSERVE, opts.host, opts.trioserve),
    ]
    with runner.started(targets.SERVERS, specs, [targets.AB]) as live:
        for _ in range(opts.rounds):
            for name, peer in live.items():
                runner.measure(targets.SERVERS, name, peer, ab_run(opts, peer.url))


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
    names = [targets.AB, targets.WRK, targets.TRIO_CLIENT, targets.TRIOLOAD, targets.TRIOLOAD_AUTO]
    nginx = peers.nginx(targets.NGINX_ONE, opts.host, "1", run_dir)
    with runner.started(targets.CLIENTS, [nginx], names) as live:
        if not live:
            return
        peer = live[targets.NGINX_ONE]
        n, c = opts.requests, opts.concurrency
        clients = [
            ab_run(opts, peer.url),
            baseline_client(targets.TRIO_CLIENT, "trio_client", peer.url, n, c),
        ]
        if which("wrk") is not None:
            clients.insert(1, wrk_run(opts, peer.url))
        if (problem := peers.console_script_problem(opts.trioload)) is None:
            clients += [
                trioload_run(opts, targets.TRIOLOAD, peer.url, n, c),
                trioload_run(opts, targets.TRIOLOAD_AUTO, peer.url, n, c, workers="auto"),
            ]
        else:
            loads = [targets.TRIOLOAD, targets.TRIOLOAD_AUTO]
            runner.skip(targets.CLIENTS, targets.NGINX_ONE, loads, f"not available: {problem}")
        for _ in range(opts.rounds):
            for client in clients:
                runner.measure(targets.CLIENTS, targets.NGINX_ONE, peer, client)


def run_latency(runner: Runner, opts: Options) -> None:
    """Clients at c=100 against a server that answers after 20 ms: p50 shows their overhead."""
    names = [targets.BLOCKING, targets.TRIOLOAD, targets.AB, targets.BLOCKING_FLOOR]
    delay = peers.delay_server(targets.DELAY, opts.host, targets.DELAY_MS)
    with runner.started(targets.LATENCY, [delay], names) as live:
        if not live:
            return
        peer = live[targets.DELAY]
        n, c = opts.latency_requests, targets.LATENCY_CONCURRENCY
        floor_n = max(20, n // 100)  # one at a time: keep it to a few seconds
        clients = [
            baseline_client(targets.BLOCKING, "blocking_client", peer.url, n, c),
            ab_run(opts, peer.url, n, c),
            baseline_client(targets.BLOCKING_FLOOR, "blocking_client", peer.url, floor_n, 1),
        ]
        if (problem := peers.console_script_problem(opts.trioload)) is None:
            clients.insert(1, trioload_run(opts, targets.TRIOLOAD, peer.url, n, c))
        else:
            why = f"not available: {problem}"
            runner.skip(targets.LATENCY, targets.DELAY, [targets.TRIOLOAD], why)
        for _ in range(opts.rounds):
            for client in clients:
                runner.measure(targets.LATENCY, targets.DELAY, peer, client)


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


def render(opts: Options, runner: Runner, argv: list[str]) -> str:
    """The Markdown report: machine, targets, baseline ratios, medians."""
    rows = runner.rows()
    table = RowTable(rows)
    machine = [
        *describe(),
        ("ab", tool_version(["ab", "-V"])),
        ("wrk", tool_version(["wrk", "-v"])),
        ("nginx", tool_version(["nginx", "-v"])),
    ]
    verdicts = targets.judge(table, set(opts.parts), opts.memory_sizes)
    lines = [
        "# trioserve / trioload bench",
        "",
        f"`{shlex.join(['scripts/bench.py', *argv])}` on {time.strftime('%Y-%m-%d %H:%M %Z')}:"
        f" -n {opts.requests}, -c {opts.concurrency}, {opts.rounds} round(s) interleaved,"
        " medians (failures: worst round).",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in machine),
        "",
        "## Targets",
        "",
        markdown_table(
            ["target", "measured", "verdict"], [[v.target, v.measured, v.label] for v in verdicts]
        ),
        "",
        "## Against the naive trio baselines",
        "",
        *(f"- {what}: {measured}" for what, measured in targets.baseline_ratios(table)),
        "",
        "## Results",
        "",
        markdown_table(RESULT_HEADERS, [result_cells(row) for row in rows], RESULT_NUMERIC),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse_options(args)
    nofile = raise_nofile_limit()
    if nofile < opts.concurrency + 100:
        print(f"warning: RLIMIT_NOFILE is {nofile}, low for -c {opts.concurrency}")
    if which("ab") is None:
        print("ab is not installed (apt-get install apache2-utils): nothing to compare against")
        return 2
    OUT_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=OUT_DIR) as tmp:
        run_dir = Path(tmp)
        runner = Runner(opts.host, run_dir / "logs", opts.pause_s)
        print(f"bench: parts {', '.join(p for p in targets.PARTS if p in opts.parts)}")
        if targets.SERVERS in opts.parts:
            run_servers(runner, opts, run_dir)
        if targets.WORKERS in opts.parts:
            run_workers(runner, opts, run_dir)
        if targets.CLIENTS in opts.parts:
            run_clients(runner, opts, run_dir)
        if targets.LATENCY in opts.parts:
            run_latency(runner, opts)
        if targets.MEMORY in opts.parts:
            run_memory(runner, opts, run_dir)
    report = render(opts, runner, args)
    print()
    print(report)
    if opts.markdown is not None:
        opts.markdown.write_text(report)
        print(f"report written to {opts.markdown}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: peers and clients stopped", file=sys.stderr)
        sys.exit(130)
