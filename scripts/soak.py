"""The reliability soak: trioserve loses no request and no client stalls it; trioload finishes
every run and accounts for every request. Seven scenarios, a PASS/FAIL line each:

1. 1,000,000 requests at c=1000, one process each: zero failed, no RSS or descriptor growth.
2. The same with ``--workers auto`` on both sides.
3. trioserve under ``ulimit -n 256`` hit at c=1000: it stays up, logs each exhaustion episode
   once, then serves c=50 with zero failures.
4. A normal run amid 500 slowloris, 1000 idle, oversized, garbage and RST-storm clients: zero
   failures, p99 within a stated bound of the same run alone.
5. The server killed, restarted, or gone silent mid-run: trioload keeps going, counts each
   failure in its column, ends within -t + -s, exits 1.
6. SIGTERM to trioserve under load: what it accepted completes, the rest are refused, exit 0
   within --grace.
7. Bad input: unwritable outputs, a full disk, stdout closed early, an unresolvable host, a
   port nobody listens on: one line each, and no report lost.

    .venv/bin/python scripts/soak.py                         # the full soak, ~5 min
    .venv/bin/python scripts/soak.py --small --only 3,5      # CI sizes, a few seconds each
    .venv/bin/python scripts/soak.py --markdown bench-out/soak.md

Everything runs on 127.0.0.1. Run it alone on the machine (scenario 4's bound compares two
runs). Logs go to ``bench-out/soak/``. Exit 0 when every scenario passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib.machine import OUT_DIR, describe
from scripts.benchlib.report import markdown_table, publish, run_main
from scripts.benchlib.soak import faults as soakfaults
from scripts.benchlib.soak import load as soakload
from scripts.benchlib.soak.run import SMALL, Outcome, Sizes
from trioserve.fdlimit import raise_nofile_limit

Scenario = Callable[[Sizes, Path], Outcome]

#: scenario number → its runs (5 has three cases, each its own line).
SCENARIOS: dict[int, list[Scenario]] = {
    1: [partial(soakload.million, workers=False)],
    2: [partial(soakload.million, workers=True)],
    3: [soakload.exhaustion],
    4: [soakload.hostile],
    5: [partial(soakfaults.dying, case=case) for case in ("killed", "restarted", "silent")],
    6: [soakfaults.graceful],
    7: [soakfaults.bad_input],
}


def report(command: str, outcomes: list[Outcome], numbers: list[int], wall_s: float) -> str:
    """Markdown: the command, the machine, and a line per scenario run."""
    labels = [number for number in numbers for _ in SCENARIOS[number]]
    rows = [[str(number), "PASS" if o.passed else "**FAIL**", o.name, o.figures, f"{o.seconds:.0f}"]
            for number, o in zip(labels, outcomes, strict=True)]  # fmt: skip
    passed = sum(o.passed for o in outcomes)
    return "\n".join([
        "# trioserve + trioload reliability soak", "", f"`{command}`", "",
        *(f"- {label}: {value}" for label, value in describe()), "",
        markdown_table(["#", "verdict", "scenario", "figures", "s"], rows), "",
        f"{passed} of {len(outcomes)} passed in {wall_s / 60:.1f} min.", "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="CI sizes: seconds, not minutes")
    only = ",".join(map(str, SCENARIOS))
    parser.add_argument("--only", default=only, help="scenario numbers, e.g. 3,5")
    parser.add_argument("--markdown", type=Path, help="write the report to this file too")
    args = parser.parse_args(argv)
    numbers = [int(n) for n in args.only.split(",") if n.strip().isdigit()]
    if not numbers or not set(numbers) <= set(SCENARIOS):
        print(f"soak: --only takes numbers from 1 to {len(SCENARIOS)}", file=sys.stderr)
        return 2
    raise_nofile_limit()
    out = OUT_DIR / "soak"
    out.mkdir(parents=True, exist_ok=True)
    command = shlex.join([Path(sys.argv[0]).as_posix(), *(sys.argv[1:] if argv is None else argv)])
    started, outcomes, sizes = time.monotonic(), [], SMALL if args.small else Sizes()
    for number in numbers:  # each verdict printed as it comes
        for scenario in SCENARIOS[number]:
            outcomes.append(scenario(sizes, out))
            print(f"{number}. {outcomes[-1].line}", flush=True)
    publish(report(command, outcomes, numbers, time.monotonic() - started), args.markdown)
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    run_main(main)
