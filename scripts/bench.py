"""Speed targets side by side: trioserve and trioload against nginx, uvicorn, ab, wrk and the
naive trio baselines, in one run, rounds interleaved, medians judged against the issue's targets.

Parts (``--only``): inline (trioserve's own CPU a request, in-process), servers (ab against
one-process servers), workers (wrk against multi-process servers), clients (load generators
against nginx), keepalive (ab -k and trioload -k against nginx with keep-alive on), tls (ab and
trioload over https against nginx with TLS, keep-alive off), latency (client overhead against a
20 ms server), memory (trioload's peak RSS at two request counts).
``--trioserve-before REV`` adds that git revision's trioserve to the inline and servers parts.
Prints a progress line per run, then a Markdown report (machine, targets with PASS/FAIL, the
medians table).

    .venv/bin/python scripts/bench.py --quick            # smoke run, seconds
    .venv/bin/python scripts/bench.py --install-peers    # full run (adds uvicorn's venv once)
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import TypeVar

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib import peers
from scripts.benchlib.bench import targets
from scripts.benchlib.bench.inline_answer import InlineTimings
from scripts.benchlib.bench.parts import (
    Options,
    run_clients,
    run_inline,
    run_keepalive,
    run_latency,
    run_memory,
    run_servers,
    run_tls,
    run_workers,
)
from scripts.benchlib.machine import (
    OUT_DIR,
    VENV_BIN,
    describe,
    require_loopback,
    tool_version,
    which,
)
from scripts.benchlib.report import (
    RESULT_HEADERS,
    RESULT_NUMERIC,
    RowTable,
    markdown_table,
    publish,
    result_cells,
    run_main,
)
from scripts.benchlib.runner import Runner
from trioserve.fdlimit import raise_nofile_limit

T = TypeVar("T")


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
    parser.add_argument(
        "--trioserve-before",
        metavar="REV",
        help="git revision whose trioserve joins the servers part (a change, measured in one run)",
    )
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
        trioserve_before=args.trioserve_before,
    )


def inline_section(timings: InlineTimings | None) -> list[str]:
    """The inline part's table: µs a request per head, now and before."""
    if timings is None:
        return []
    heads = list(timings.now)
    growth = timings.growth()
    rows = [["now", *(f"{timings.now[h]:.2f}" for h in heads)]]
    if timings.before is not None and growth is not None:
        rows.append(["before", *(f"{timings.before[h]:.2f}" for h in heads)])
        rows.append(["growth", *(f"{growth[h]:+.2f}" for h in heads)])
    return [
        "## trioserve's inline answer, in-process (µs a request, median of the rounds' best)",
        "",
        markdown_table(["trioserve", *heads], rows, range(1, len(heads) + 1)),
        "",
    ]


def render(
    opts: Options, runner: Runner, argv: list[str], inline: InlineTimings | None = None
) -> str:
    """The Markdown report: machine, targets, baseline ratios, medians."""
    rows = runner.rows()
    table = RowTable(rows)
    machine = [
        *describe(),
        ("ab", tool_version(["ab", "-V"])),
        ("wrk", tool_version(["wrk", "-v"])),
        ("nginx", tool_version(["nginx", "-v"])),
        *([("openssl", tool_version(["openssl", "version"]))] if targets.TLS in opts.parts else []),
    ]
    verdicts = targets.judge(table, set(opts.parts), opts.memory_sizes)
    growth = targets.inline_growth(inline)
    if growth is not None:
        verdicts.insert(0, growth)
    ratios = targets.baseline_ratios(table, set(opts.parts))
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
        *inline_section(inline),
        *(["## Against the naive trio baselines", ""] if ratios else []),
        *(f"- {what}: {measured}" for what, measured in ratios),
        *([""] if ratios else []),
    ]
    if rows:  # none when only the inline part ran
        lines += [
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
        runner = Runner(opts.host, OUT_DIR / "logs", opts.pause_s)
        print(f"bench: parts {', '.join(p for p in targets.PARTS if p in opts.parts)}")
        inline = run_inline(opts) if targets.INLINE in opts.parts else None
        if targets.SERVERS in opts.parts:
            run_servers(runner, opts, run_dir)
        if targets.WORKERS in opts.parts:
            run_workers(runner, opts, run_dir)
        if targets.CLIENTS in opts.parts:
            run_clients(runner, opts, run_dir)
        if targets.KEEPALIVE in opts.parts:
            run_keepalive(runner, opts, run_dir)
        if targets.TLS in opts.parts:
            run_tls(runner, opts, run_dir)
        if targets.LATENCY in opts.parts:
            run_latency(runner, opts)
        if targets.MEMORY in opts.parts:
            run_memory(runner, opts, run_dir)
    report = render(opts, runner, args, inline)
    publish(report, opts.markdown)
    return 0


if __name__ == "__main__":
    run_main(main)
