"""``trioload knee URL --slo p99=20ms [--slo failed=0.1%] [--from R] [--to R] [run flags]``:
the command line, checked into a ``KneePlan`` before any request, then the search, the
report and the JSON."""

from __future__ import annotations

import argparse
import dataclasses
import sys

import trio

from trioload.argtypes import flag_type, not_negative_float, positive_float
from trioload.config import DEFAULT_URL, UsageError
from trioload.configure import config_from_args
from trioload.flags import runs_parser
from trioload.knee import report
from trioload.knee.outcome import KneePlan
from trioload.knee.search import Ending
from trioload.knee.slo import parse_slo
from trioload.knee.steps import run_knee
from trioload.output.outputs import OUTPUT_FLAGS, check_writable, write_report
from trioload.run.fdlimit import check_run_fds
from trioload.run.preflight import TargetError

DESCRIPTION = """\
Find a server's capacity: the highest rate at which it keeps every SLO. Steps of constant rate
(the open loop of -R, latency from when each request was due), each a warm-up then a measured
window: a climb (each step 1.5x the last that passed), then bisection to within 2%. Without
--from the first step is half of what a short closed-loop probe at -c made. It tells trioload's
limit from the server's: a step where trioload itself fell behind (its CPU saturated, or most
late requests late although a connection held them ready) ends the search as client-bound
("add -W") instead of naming a knee. The run flags (-c, -k, -W, -H, ...) apply to every step;
here -c is 100 unless given.
"""

EPILOG = """\
exit status: 0 the search ended with the server's answer (a knee; every SLO held up to --to;
or none held from --from); 1 client-bound: trioload was the limit, no knee named; or a run
failed midway (the report covers the steps before); 2 nothing was run (bad flags, nothing
listening at the URL, a probe whose requests all failed); 130 interrupted (the report covers
the steps measured).
"""

#: knee sets each step's rate and length itself; and a step's outputs are kept in --json.
_REFUSED = {
    "requests": "-n",
    "time_limit": "-t",
    "rate": "-R",
    "stages": "--stages",
    "segment": "--segment",
    "start_at": "--start-at",
    "html": "-w",
    **{field: flag for field, flag in OUTPUT_FLAGS.items() if field != "json_path"},
}
DEFAULT_CONCURRENCY = 100


def build_parser() -> argparse.ArgumentParser:
    parser = runs_parser("trioload knee", DESCRIPTION, EPILOG)
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, metavar="URL")
    parser.set_defaults(concurrency=DEFAULT_CONCURRENCY)
    own = parser.add_argument_group("knee's own")
    add = own.add_argument
    add("--slo", action="append", type=flag_type(parse_slo), required=True, metavar="WHAT=LIMIT",
        help="an objective every passing step keeps, repeatable: pN=DURATION (p50, p99, "
        "p99.9, ...), mean=, max= (us, ms or s), or failed=N%%")  # fmt: skip
    add("--from", dest="lowest", type=positive_float, metavar="R",
        help="the first and lowest rate to try (default: half the closed loop's)")  # fmt: skip
    add("--to", dest="highest", type=positive_float, metavar="R",
        help="the highest rate to try, req/s (default: none)")  # fmt: skip
    add("--warm-up", dest="warm_up", type=not_negative_float, default=1.0, metavar="S",
        help="seconds at each step's rate before it is measured (default 1; 0: none)")  # fmt: skip
    add("--window", type=positive_float, default=3.0, metavar="S",
        help="seconds measured per step (default 3)")  # fmt: skip
    add("--probe", type=positive_float, default=1.0, metavar="S",
        help="seconds of the closed-loop probe without --from (default 1)")  # fmt: skip
    add("--json", dest="knee_json", metavar="FILE",
        help="write every step's whole result and the answer ('-': stdout, the report then "
        "goes to stderr)")  # fmt: skip
    parser.set_defaults(json_path=None)
    return parser


def plan_from_args(args: argparse.Namespace) -> KneePlan:
    """The steps' run and the search's range, checked together; UsageError if wrong."""
    for attribute, flag in _REFUSED.items():
        if getattr(args, attribute, None):
            raise UsageError(f"{flag}: knee sets each step's rate and length, and keeps every "
                             "step in --json")  # fmt: skip
    if args.verbosity >= 2:
        raise UsageError("-v shows one run's responses: use it with trioload alone")
    if args.lowest is not None and args.highest is not None and args.lowest > args.highest:
        raise UsageError(f"--from {args.lowest:g} is above --to {args.highest:g}")
    args.time_limit = args.window  # a config for the steps (each replaces rate and length)
    config = dataclasses.replace(config_from_args(args), progress=False, json_path=None)
    return KneePlan(
        config=config,
        slos=tuple(args.slo),
        lowest=args.lowest,
        highest=args.highest,
        warm_up_s=args.warm_up,
        window_s=args.window,
        probe_s=args.probe,
        json_path=args.knee_json,
    )


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        plan = plan_from_args(args)
        check_run_fds(plan.config)
        if plan.json_path not in (None, "-"):
            check_writable({"--json": plan.json_path})
    except UsageError as exc:
        print(f"trioload knee: {exc}", file=sys.stderr)
        return 2
    try:
        outcome = trio.run(run_knee, plan)
    except (TargetError, OSError) as exc:
        print(f"trioload knee: {exc}", file=sys.stderr)
        return 2
    text, document = report.format_report(plan, outcome), report.format_json(plan, outcome)
    write_report(text, plan.json_path, document, "trioload knee")
    if outcome.interrupted:
        return 130
    if outcome.error is not None:  # before any step: nothing was run; after: not finished
        return 1 if outcome.steps else 2
    ending = outcome.search.ending if outcome.search is not None else None
    return 1 if ending in (Ending.CLIENT_BOUND, None) else 0
