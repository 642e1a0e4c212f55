"""Speed targets side by side: trioserve and trioload against nginx, uvicorn, ab, wrk and the
naive trio baselines, in one run, rounds interleaved, medians judged against the issue's targets.
Parts (``--only``): inline, servers, workers, clients, keepalive, tls, latency, memory and rate
(scripts/README.md says what each runs and judges). Prints a progress line per run, then a
Markdown report (machine, targets with PASS/FAIL, the medians).

    .venv/bin/python scripts/bench.py --quick                  # smoke run, seconds
    .venv/bin/python scripts/bench.py --quick --only rate      # the rate sweep's smoke run
    .venv/bin/python scripts/bench.py --install-peers          # full run (uvicorn's venv once)
    .venv/bin/python scripts/bench.py --only rate --markdown bench-out/rate-sweep.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib import peers
from scripts.benchlib.bench import rate, targets
from scripts.benchlib.bench.parts import RUNS, Options
from scripts.benchlib.machine import OUT_DIR, VENV_BIN, describe, require_loopback, tool_version
from scripts.benchlib.report import (
    RESULT_HEADERS,
    RESULT_NUMERIC,
    RowTable,
    Section,
    markdown_table,
    publish,
    result_cells,
    run_main,
)
from scripts.benchlib.runner import Runner
from trioserve.fdlimit import raise_nofile_limit

#: what the sizing flags left out mean: (in a --quick smoke run, in a full run).
SIZES: dict[str, tuple[object, object]] = {
    "requests": (2000, 200_000),
    "rounds": (1, 3),
    "wrk_seconds": (2.0, 10.0),
    "latency_requests": (500, 20_000),
    "memory_requests": ("2000,20000", "100000,10000000"),
    "pause": (0.2, 2.0),
    "rate_fractions": ((0.5, 0.9), rate.DEFAULT_FRACTIONS),
    "rate_seconds": (1.0, 5.0),
}


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--requests", "-n", type=int, help="requests per run (200000)")
    add("--concurrency", "-c", type=int, default=1000)
    add("--rounds", type=int, help="interleaved rounds, medians taken (3)")
    add("--only", help=f"comma-separated parts to run, of: {','.join(targets.PARTS)}")
    add("--quick", action="store_true", help="tiny counts: a smoke run")
    add("--markdown", type=Path, help="also write the report to this file")
    add("--wrk-seconds", type=float, help="wrk run length (10)")
    add("--latency-requests", type=int, help="requests per latency run (20000)")
    add("--memory-requests", help="trioload -n for the RSS check: SMALL,LARGE (100000,10000000)")
    rate_server = "the server the rate part loads, keep-alive off (nginx: 1 worker)"
    add("--rate-server", choices=("nginx", "trioserve"), default="nginx", help=rate_server)
    add("--rate-concurrency", type=int, default=100, help="trioload -c in the rate part (100)")
    fractions = ",".join(f"{f:g}" for f in rate.DEFAULT_FRACTIONS)
    add("--rate-fractions", type=rate.parse_fractions, help=f"of the closed-loop max ({fractions})")
    add("--rate-seconds", type=float, help="length of each rate run (5)")
    add("--pause", type=float, help="seconds between runs (2)")
    add("--install-peers", action="store_true", help=f"create {peers.PEERS_VENV.name} for uvicorn")
    add("--host", default="127.0.0.1", help="loopback address to bind and load")
    add("--trioserve", type=Path, default=VENV_BIN / "trioserve", help="server")
    add("--trioload", type=Path, default=VENV_BIN / "trioload", help="client")
    before = "git revision whose trioserve joins the inline and servers parts (measures a change)"
    add("--trioserve-before", metavar="REV", help=before)
    before = "git revision whose trioload joins the clients and keepalive parts (likewise)"
    add("--trioload-before", metavar="REV", help=before)
    args = parser.parse_args(argv, namespace=Options())
    for name, (quick, full) in SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    parts = frozenset(args.only.split(",")) if args.only else frozenset(targets.PARTS)
    if unknown := parts - set(targets.PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    memory = args.memory_requests.split(",")
    if len(memory) != 2:
        parser.error("--memory-requests takes SMALL,LARGE")
    args.host, args.parts = require_loopback(args.host), parts
    args.memory_sizes = (int(memory[0]), int(memory[1]))
    args.trioserve, args.trioload = args.trioserve.absolute(), args.trioload.absolute()
    return args


def render(opts: Options, runner: Runner, argv: list[str], sections: list[Section]) -> str:
    """The Markdown report: machine, targets, the parts' own sections, baseline ratios, medians."""
    rows = runner.rows()
    table = RowTable(rows)
    tools = [("ab", "-V"), ("wrk", "-v"), ("nginx", "-v")]
    if targets.TLS in opts.parts:
        tools.append(("openssl", "version"))
    machine = [*describe(), *((tool, tool_version([tool, flag])) for tool, flag in tools)]
    first = [v for s in sections if s.part == targets.INLINE for v in s.verdicts]
    last = [v for s in sections if s.part != targets.INLINE for v in s.verdicts]
    verdicts = [*first, *targets.judge(table, set(opts.parts), opts.memory_sizes), *last]
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
        *(line for section in sections for line in section.lines),
    ]
    if ratios:
        lines += ["## Against the naive trio baselines", ""]
        lines += [*(f"- {what}: {measured}" for what, measured in ratios), ""]
    if rows:  # none when only the inline part ran
        cells = [result_cells(row) for row in rows]
        lines += ["## Results", "", markdown_table(RESULT_HEADERS, cells, RESULT_NUMERIC), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse_options(args)
    nofile = raise_nofile_limit()
    if nofile < opts.concurrency + 100:
        print(f"warning: RLIMIT_NOFILE is {nofile}, low for -c {opts.concurrency}")
    if tool_version(["ab", "-V"]) == "not installed":
        print("ab is not installed (apt-get install apache2-utils): nothing to compare against")
        return 2
    OUT_DIR.mkdir(exist_ok=True)
    runner = Runner(opts.host, OUT_DIR / "logs", opts.pause)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=OUT_DIR) as tmp:
        chosen = [part for part in targets.PARTS if part in opts.parts]
        print(f"bench: parts {', '.join(chosen)}")
        ran = [RUNS[part](runner, opts, Path(tmp)) for part in chosen]  # in order, one by one
    sections = [section for section in ran if section is not None]
    publish(render(opts, runner, args, sections), opts.markdown)
    return 0


if __name__ == "__main__":
    run_main(main)
