"""``trioload compare [run flags] NAME=URL NAME=URL ...``: the command line, checked into a
``ComparePlan`` before any round, then the rounds, the report and the JSON."""

from __future__ import annotations

import argparse
import dataclasses
import sys

import trio

from trioload.argtypes import positive_int
from trioload.compare import document, report
from trioload.compare.plan import (
    DEFAULT_PAUSE_S,
    DEFAULT_ROUNDS,
    DEFAULT_WARMUP,
    MIN_ROUNDS,
    RANKINGS,
    ComparePlan,
    Target,
)
from trioload.compare.procfs import pid_alive
from trioload.compare.rounds import run_compare
from trioload.compare.servers import ServerError, parse_serve
from trioload.compare.summary import summarize
from trioload.config import UsageError
from trioload.configure import config_from_args
from trioload.flags import runs_parser
from trioload.output.outputs import OUTPUT_FLAGS, check_writable, write_report
from trioload.run.fdlimit import check_run_fds
from trioload.run.preflight import TargetError

DESCRIPTION = """\
Rank servers with confidence, not from one run. Every target gets the same trioload run (the
run flags below: -n, -c, -t, -k, -R, -W, -H, ...) once per round; the order alternates between
rounds (or is shuffled with --seed) so that drift hits every target alike. A warm-up run per
target comes first and is not counted. Per target: the median over rounds of req/s, p50, p99
and the server's CPU a request (with --serve or --pid), each with a 95% confidence interval;
against the baseline, each ratio with its interval and p-value, or ~ when there is no
significant difference at 95%.
"""

EPILOG = """\
exit status: 0 every run completed without a failed request; 1 some requests failed or a
server died (the comparison still covers the rest); 2 nothing was run (bad flags or targets, a
server that did not start or listen, nothing listening at a URL); 130 interrupted by Ctrl-C or
SIGTERM (the comparison covers the rounds completed). Servers started with --serve are always
stopped.
"""

#: run flags that write one run's output: compare keeps every run whole in its --json instead
#: (its own --json takes the run's place).
_ONE_RUN_OUTPUTS = {
    **{field: flag for field, flag in OUTPUT_FLAGS.items() if field != "json_path"},
    "html": "-w",
    "start_at": "--start-at",
}


def build_parser() -> argparse.ArgumentParser:
    parser = runs_parser("trioload compare", DESCRIPTION, EPILOG)
    parser.add_argument("targets", nargs="+", metavar="NAME=URL", help="servers to compare")
    own = parser.add_argument_group("compare's own")
    add = own.add_argument
    add("--rounds", type=positive_int, default=DEFAULT_ROUNDS, metavar="R",
        help=f"rounds; each runs every target once (default {DEFAULT_ROUNDS}, at least "
        f"{MIN_ROUNDS})")  # fmt: skip
    add("--seed", type=int, metavar="N", help="shuffle each round's order from N instead of "
        "alternating it")  # fmt: skip
    add("--baseline", metavar="NAME", help="the target the others are compared with (the first)")
    add("--rank-by", choices=tuple(RANKINGS), default="rps",
        help="rank by req/s (more is better), server CPU a request or p99 (less is better)",
    )  # fmt: skip
    add("--serve", action="append", default=[], metavar="NAME=COMMAND",
        help="start COMMAND for NAME (split as a shell would, no shell run), wait until NAME's "
        "URL accepts, stop it at the end; its process tree's CPU is measured")  # fmt: skip
    add(
        "--pid",
        action="append",
        default=[],
        metavar="NAME=PID",
        help="NAME's server is already running as PID: measure its process tree's CPU",
    )
    add("--warmup", type=float, default=DEFAULT_WARMUP, metavar="SHARE",
        help=f"a warm-up run per target first, this share of a run's -n or -t, not counted "
        f"(default {DEFAULT_WARMUP}; 0: none)")  # fmt: skip
    add(
        "--pause",
        type=float,
        default=DEFAULT_PAUSE_S,
        metavar="S",
        help=f"seconds between runs (default {DEFAULT_PAUSE_S:g})",
    )
    add("--json", dest="compare_json", metavar="FILE",
        help="write every run's whole result, the summaries and the comparisons ('-': stdout, "
        "the report then goes to stderr)")  # fmt: skip
    return parser


def plan_from_args(args: argparse.Namespace) -> ComparePlan:
    """The targets and the rounds, checked together; UsageError on anything wrong."""
    for attribute, flag in _ONE_RUN_OUTPUTS.items():
        if getattr(args, attribute):
            raise UsageError(f"{flag} writes one run's output: compare keeps every run in --json")
    if args.segment is not None:
        raise UsageError("--segment runs a part of one test: compare runs each target whole")
    if args.verbosity >= 2:
        raise UsageError("-v shows one run's responses: use it with trioload alone")
    if args.rounds < MIN_ROUNDS:
        raise UsageError(f"--rounds {args.rounds}: at least {MIN_ROUNDS} for an interval")
    if not 0 <= args.warmup <= 1 or args.pause < 0:
        raise UsageError("--warmup is a share from 0 to 1, --pause seconds from 0")
    names_urls = [_name_value(text, "target", "NAME=URL") for text in args.targets]
    names = [name for name, _ in names_urls]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise UsageError(f"two targets are named {duplicate!r}")
    if len(names) < 2:
        raise UsageError("compare needs at least two targets (NAME=URL NAME=URL ...)")
    serve = _serve_commands(args.serve, names)
    pids = _pids(args.pid, names, serve)
    if args.rank_by == "cpu" and len(serve) + len(pids) < len(names):
        unknown = ", ".join(name for name in names if name not in serve and name not in pids)
        raise UsageError(f"--rank-by cpu needs --serve or --pid for every target ({unknown})")
    targets = []
    args.json_path = None  # compare's own --json took the flag's place
    for name, url in names_urls:
        args.url = url
        config = dataclasses.replace(config_from_args(args), progress=False)
        targets.append(Target(name, config, serve=serve.get(name), pid=pids.get(name)))
    baseline = args.baseline if args.baseline is not None else names[0]
    if baseline not in names:
        raise UsageError(f"--baseline {baseline!r} is not a target ({', '.join(names)})")
    return ComparePlan(
        targets=tuple(targets),
        baseline=baseline,
        rounds=args.rounds,
        seed=args.seed,
        rank_by=args.rank_by,
        warmup=args.warmup,
        pause_s=args.pause,
        json_path=args.compare_json,
    )


def _name_value(text: str, what: str, form: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    # A URL's own "=" (a query) must not pass for a name: names hold no ":" or "/".
    if not sep or not name or not value or ":" in name or "/" in name:
        raise UsageError(f"bad {what} {text!r}: expected {form}")
    return name, value


def _serve_commands(given: list[str], names: list[str]) -> dict[str, tuple[str, ...]]:
    commands: dict[str, tuple[str, ...]] = {}
    for text in given:
        try:
            name, argv = parse_serve(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if name not in names:
            raise UsageError(f"--serve {name}: no target is named {name!r}")
        if name in commands:
            raise UsageError(f"--serve {name} given twice")
        commands[name] = argv
    return commands


def _pids(given: list[str], names: list[str], serve: dict[str, tuple[str, ...]]) -> dict[str, int]:
    pids: dict[str, int] = {}
    for text in given:
        name, value = _name_value(text, "--pid", "NAME=PID")
        if name not in names:
            raise UsageError(f"--pid {name}: no target is named {name!r}")
        if name in serve or name in pids:
            raise UsageError(f"--pid {name}: {name} has a server already")
        if not value.isdigit() or not pid_alive(int(value)):
            raise UsageError(f"--pid {name}={value}: no such process")
        pids[name] = int(value)
    return pids


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        plan = plan_from_args(args)
        check_run_fds(plan.targets[0].config)
        if plan.json_path not in (None, "-"):
            check_writable({"--json": plan.json_path})
    except UsageError as exc:
        print(f"trioload compare: {exc}", file=sys.stderr)
        return 2
    try:
        outcome = trio.run(run_compare, plan)
    except (ServerError, TargetError, OSError) as exc:
        print(f"trioload compare: {exc}", file=sys.stderr)
        return 2
    summary = summarize(plan, outcome)
    text = report.format_report(summary)
    content = document.format_json(plan, outcome, summary)
    written = write_report(text, plan.json_path, content, "trioload compare")
    if outcome.interrupted:
        return 130
    return 1 if summary.failed or summary.died or not written else 0
