"""Is trioload's open-loop schedule (``-R``) limited by the client? One sweep answers.

Against one server (nginx with 1 worker, or ``--server trioserve``), keep-alive off, on
127.0.0.1: each round measures trioload's closed-loop maximum (``trioload -q -c C -n N``), then
runs ``trioload -q -R r -c C -n N`` at fractions of that round's maximum, each run sized to last
about ``--seconds``. Prints a progress line per run, then a Markdown report: the machine, the
target with PASS/FAIL, and per load the medians over rounds (req/s asked and made, how far
behind schedule requests were sent, the late share, p99 from due and from sent, client CPU a
request).

    .venv/bin/python scripts/rate_sweep.py --seconds 1 --rounds 1 --fractions 0.5,0.9  # smoke
    .venv/bin/python scripts/rate_sweep.py --markdown bench-out/rate-sweep.md           # full
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib import peers
from scripts.benchlib.bench import targets
from scripts.benchlib.machine import (
    OUT_DIR,
    REPO,
    VENV_BIN,
    describe,
    tool_version,
)
from scripts.benchlib.processes import run_measured
from scripts.benchlib.report import (
    Verdict,
    cell,
    markdown_table,
    median,
    publish,
    run_main,
    worst,
)
from scripts.benchlib.runner import Live, Runner, client_timeout
from scripts.benchlib.tools import dig, find_json_object, trioload_argv
from trioserve.fdlimit import raise_nofile_limit

HOST = "127.0.0.1"
PART = "rate"
SERVERS = {"nginx": targets.NGINX_ONE, "trioserve": targets.TRIOSERVE}
DEFAULT_FRACTIONS = (0.25, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1)
#: the target: the schedule holds at every fraction up to this share of the closed-loop max ...
TARGET_FRACTION = 0.8
#: ... where holding means making this share of the asked rate ...
KEPT_SHARE = 0.99
#: ... and sending 99% of the requests at most this long after they were due.
LAG_P99_LIMIT_MS = 2.0
TARGET = (
    f"trioload -R keeps its schedule up to >= {TARGET_FRACTION:g}x its own closed-loop max "
    f"(made >= {KEPT_SHARE:g}x asked, lag p99 <= {LAG_P99_LIMIT_MS:g} ms)"
)
#: fewest requests a run makes, however short: below this, p99 rests on a handful of samples.
MIN_REQUESTS = 1000
#: the first closed-loop run's size, before any maximum is known (it is not counted).
WARM_UP_REQUESTS = 5000

#: a load: a fraction of the round's closed-loop max for ``-R``, or None for the closed loop.
Load = float | None


@dataclass(frozen=True, slots=True)
class Figures:
    """What one trioload run reported, or the medians over rounds; None where it did not say."""

    asked: float | None = None  # -R; None in a closed loop
    made: float | None = None
    #: made / asked, taken per run (the rate asked moves with each round's maximum).
    kept: float | None = None
    lag_p50_ms: float | None = None
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None
    late_pct: float | None = None
    due_p99_ms: float | None = None  # corrected: from when each request was due
    sent_p99_ms: float | None = None  # uncorrected: from when it was sent
    cpu_us: float | None = None
    failed: int | None = None  # the worst round's, in medians


def figures_from_report(report: Mapping[str, Any]) -> Figures:
    """The figures of trioload's ``--json`` report; a missing key leaves its figure unknown."""
    as_dict = dict(report)
    asked = dig(as_dict, "rate")
    made = dig(as_dict, "requests_per_second")
    finished = dig(as_dict, "finished")
    late = dig(as_dict, "late")
    user, system = dig(as_dict, "client_cpu", "user_s"), dig(as_dict, "client_cpu", "sys_s")
    failed = dig(as_dict, "failed")
    cpu_s = None if user is None or system is None else user + system
    return Figures(
        asked=asked,
        made=made,
        kept=made / asked if made is not None and asked else None,
        lag_p50_ms=dig(as_dict, "latency_ms", "lag", "p50"),
        lag_p99_ms=dig(as_dict, "latency_ms", "lag", "p99"),
        lag_max_ms=dig(as_dict, "latency_ms", "lag", "max"),
        # A closed loop has no schedule to be late for.
        late_pct=100 * late / finished if asked and late is not None and finished else None,
        due_p99_ms=dig(as_dict, "latency_ms", "corrected", "p99"),
        sent_p99_ms=dig(as_dict, "latency_ms", "total", "p99"),
        cpu_us=cpu_s / finished * 1e6 if cpu_s is not None and finished else None,
        failed=None if failed is None else int(failed),
    )


def median_figures(runs: Sequence[Figures]) -> Figures:
    """Each figure's median over the runs that reported it; failures: the worst run's."""
    merged: dict[str, Any] = {}
    for field in dataclasses.fields(Figures):
        values = [getattr(run, field.name) for run in runs]
        merged[field.name] = worst(values) if field.name == "failed" else median(values)
    return Figures(**merged)


def requests_for(rate: float, seconds: float) -> int:
    """How many requests keep a run going ``seconds`` at ``rate`` req/s (MIN_REQUESTS at least)."""
    return max(MIN_REQUESTS, round(rate * seconds))


def parse_fractions(text: str) -> list[float]:
    """``--fractions``: comma-separated positive shares of the closed-loop max, ascending."""
    try:
        fractions = sorted({float(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from exc
    if not fractions or fractions[0] <= 0:
        raise argparse.ArgumentTypeError(f"give positive fractions, e.g. 0.5,0.9: {text!r}")
    return fractions


def keeps_schedule(figures: Figures) -> bool | None:
    """Whether a load kept its schedule (made and lag within the target); None: unknown."""
    if figures.kept is None or figures.lag_p99_ms is None:
        return None
    return figures.kept >= KEPT_SHARE and figures.lag_p99_ms <= LAG_P99_LIMIT_MS


def judge(by_fraction: Mapping[float, Figures]) -> Verdict:
    """The target on the medians: the schedule must hold at every fraction, from the lowest up
    to at least TARGET_FRACTION (a miss below it fails, even if a higher fraction held)."""
    highest: float | None = None
    missed = ""
    unknown = ""
    for fraction in sorted(by_fraction):
        figures = by_fraction[fraction]
        keeps = keeps_schedule(figures)
        if keeps is None:
            unknown = f"no figures at {fraction:g}x"
            break
        if not keeps:
            missed = (
                f"behind at {fraction:g}x: made {figures.kept:.3f}x asked,"
                f" lag p99 {figures.lag_p99_ms:.2f} ms"
            )
            break
        highest = fraction
    reached = highest is not None and highest >= TARGET_FRACTION
    kept = f"kept up to {highest:g}x" if highest is not None else "kept at no fraction"
    if not reached and not missed:
        stop = "no -R load ran" if highest is None else f"the fractions stop at {highest:g}x"
        why = unknown or stop
        return Verdict(TARGET, f"n/a ({kept}; {why})", None)
    return Verdict(TARGET, "; ".join(part for part in (kept, missed, unknown) if part), reached)


def load_label(load: Load) -> str:
    return "closed loop" if load is None else f"-R {load:g}x"


HEADERS = [
    "load",
    "runs",
    "asked req/s",
    "made req/s",
    "made/asked",
    "lag p50 ms",
    "lag p99 ms",
    "lag max ms",
    "late %",
    "p99 from due ms",
    "p99 from sent ms",
    "client CPU µs/req",
    "failed (worst)",
]
NUMERIC = range(1, len(HEADERS))


def cells(load: Load, runs: Sequence[Figures | str]) -> list[str]:
    """One table row: a load's medians over the runs that reported (errors are counted out)."""
    good = [run for run in runs if isinstance(run, Figures)]
    medians = median_figures(good)
    return [
        load_label(load),
        f"{len(good)}/{len(runs)}",
        cell(medians.asked, ",.0f"),
        cell(medians.made, ",.0f"),
        cell(medians.kept, ".3f"),
        cell(medians.lag_p50_ms, ".3f"),
        cell(medians.lag_p99_ms, ".3f"),
        cell(medians.lag_max_ms, ".2f"),
        cell(medians.late_pct, ".2f"),
        cell(medians.due_p99_ms, ".2f"),
        cell(medians.sent_p99_ms, ".2f"),
        cell(medians.cpu_us, ".1f"),
        cell(medians.failed, "d"),
    ]


def verdict_of(results: Mapping[Load, Sequence[Figures | str]]) -> Verdict:
    """The target judged on each ``-R`` load's medians."""
    return judge(
        {
            load: median_figures([run for run in runs if isinstance(run, Figures)])
            for load, runs in results.items()
            if load is not None
        }
    )


def summary(figures: Figures | str) -> str:
    """A run's progress line."""
    if isinstance(figures, str):
        return f"ERROR {figures}"
    parts = [f"{cell(figures.made, ',.0f')} req/s"]
    if figures.kept is not None:
        parts.append(f"{figures.kept:.3f}x asked")
    if figures.lag_p99_ms is not None:
        parts.append(f"lag p99 {figures.lag_p99_ms:.3f} ms")
    if figures.late_pct is not None:
        parts.append(f"late {figures.late_pct:.2f}%")
    parts += [
        f"failed {cell(figures.failed, 'd')}",
        f"client {cell(figures.cpu_us, '.1f')} µs/req",
    ]
    return ", ".join(parts)


# --- running it ------------------------------------------------------------------------------


def run_trioload(
    trioload: Path, peer: Live, requests: int, concurrency: int, rate: int | None
) -> Figures | str:
    """One trioload run against ``peer``: its figures, or why there are none."""
    if peer.server.proc.poll() is not None:
        return f"server had exited ({peer.server.log_tail()})"
    extra = ("-q",) if rate is None else ("-q", "-R", str(rate))
    argv = trioload_argv(str(trioload), peer.url, requests, concurrency, extra)
    timeout = client_timeout(requests)
    finished = run_measured(argv, timeout, cwd=REPO)
    if finished.timed_out:
        return f"killed after {timeout:.0f} s"
    report = find_json_object(finished.stdout)
    if report is None:
        tail = (finished.stderr.strip().splitlines() or ["no stderr"])[-1][:160]
        return f"no JSON report (exit {finished.returncode}): {tail}"
    return figures_from_report(report)


def sweep(
    args: argparse.Namespace, peer: Live, server: str
) -> dict[Load, list[Figures | str]] | str:
    """Round by round, the closed loop then each fraction of its max; or why it could not."""
    results: dict[Load, list[Figures | str]] = {None: [], **{f: [] for f in args.fractions}}

    def measured(label: str, requests: int, rate: int | None = None) -> Figures | str:
        time.sleep(args.pause)  # let the previous run's closing sockets settle
        figures = run_trioload(args.trioload, peer, requests, args.concurrency, rate)
        print(f"  [{PART}] {label} -n {requests} -> {server}: {summary(figures)}", flush=True)
        return figures

    # A warm-up sizes the first closed-loop run (and warms the server); it is not counted.
    warm = measured("trioload (warm-up)", max(WARM_UP_REQUESTS, 10 * args.concurrency))
    if isinstance(warm, str) or not warm.made:
        return f"the warm-up run gave no req/s: {summary(warm)}"
    basis = warm.made
    for round_number in range(1, args.rounds + 1):
        print(f"round {round_number} of {args.rounds}", flush=True)
        closed = measured("trioload", requests_for(basis, args.seconds))
        results[None].append(closed)
        # Each round's rates follow its own closed-loop max, so a drifting machine moves both;
        # a failed closed run leaves the last max that was known.
        if isinstance(closed, Figures) and closed.made:
            basis = closed.made
        for fraction in args.fractions:
            rate = max(1, round(fraction * basis))
            label = f"trioload -R {rate} ({fraction:g}x)"
            results[fraction].append(measured(label, requests_for(rate, args.seconds), rate))
    return results


def render(
    args: argparse.Namespace,
    argv: Sequence[str],
    server: str,
    results: Mapping[Load, Sequence[Figures | str]],
) -> tuple[str, Verdict]:
    """The Markdown report and the verdict in it."""
    verdict = verdict_of(results)
    machine = [*describe(), ("trioload", tool_version([str(args.trioload), "-V"]))]
    if args.server == "nginx":
        machine.append(("nginx", tool_version(["nginx", "-v"])))
    lines = [
        "# Does trioload -R keep its schedule?",
        "",
        f"`{shlex.join(['scripts/rate_sweep.py', *argv])}` on"
        f" {time.strftime('%Y-%m-%d %H:%M %Z')}: trioload -c {args.concurrency} against"
        f" {server}, keep-alive off; each round the closed loop, then -R at fractions of that"
        f" round's closed-loop req/s, ~{args.seconds:g} s a run; {args.rounds} round(s):"
        " medians (failures: worst round). Lag: from when a request was due to when it was sent;"
        " late: sent 1 ms or more after due; client CPU: trioload's own report (its run, not its"
        " start-up).",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in machine),
        "",
        "## Target",
        "",
        markdown_table(
            ["target", "measured", "verdict"], [[TARGET, verdict.measured, verdict.label]]
        ),
        "",
        "## Results",
        "",
        markdown_table(HEADERS, [cells(load, runs) for load, runs in results.items()], NUMERIC),
        "",
    ]
    return "\n".join(lines), verdict


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=SERVERS, default="nginx", help="nginx (1 worker)")
    parser.add_argument("--concurrency", "-c", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument(
        "--fractions",
        type=parse_fractions,
        default=list(DEFAULT_FRACTIONS),
        help=f"of the closed-loop max ({','.join(f'{f:g}' for f in DEFAULT_FRACTIONS)})",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run (5)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between runs (1)")
    parser.add_argument("--trioload", type=Path, default=VENV_BIN / "trioload", help="client")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    args.trioload = args.trioload.absolute()
    return args


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    args = parse_args(args_list)
    if (problem := peers.console_script_problem(args.trioload)) is not None:
        print(f"trioload cannot run: {problem}")
        return 2
    raise_nofile_limit()
    OUT_DIR.mkdir(exist_ok=True)
    server = SERVERS[args.server]
    with tempfile.TemporaryDirectory(prefix="rate-", dir=OUT_DIR) as tmp:
        if args.server == "nginx":
            spec = peers.nginx(server, HOST, "1", Path(tmp))
        else:
            spec = peers.trioserve(server, HOST)
        if spec.missing is not None:
            other = " (or --server trioserve)" if args.server == "nginx" else ""
            print(f"{server} is not available: {spec.missing}{other}")
            return 2
        runner = Runner(HOST, OUT_DIR / "logs", args.pause)
        with runner.started(PART, [spec], ["trioload"]) as live:
            if server not in live:
                return 2  # the runner said why
            results = sweep(args, live[server], server)
    if isinstance(results, str):
        print(results)
        return 1
    report, verdict = render(args, args_list, server, results)
    publish(report, args.markdown)
    print(f"{verdict.label}: {verdict.target}: {verdict.measured}")
    return 0


if __name__ == "__main__":
    run_main(main)
