"""The trio side of ``trioload knee``: knock on the URL, probe the closed loop for a first
rate (unless ``--from`` gives one), then step by step a warm-up and a measured window at a
constant rate, as ``search`` asks. Ctrl-C ends it at once and keeps the steps measured."""

from __future__ import annotations

import dataclasses
import signal

import trio

from trioload.knee.outcome import KneeOutcome, KneePlan, Step
from trioload.knee.search import KneeSearch
from trioload.knee.slo import Verdict, judge
from trioload.output.outputs import write_stderr
from trioload.results.result import RunResult
from trioload.run.preflight import TargetError, knock
from trioload.run.series import one_run, stop_on_signal

#: without ``--from``, the first step asks for this share of the closed loop's req/s at -c.
FIRST_SHARE = 0.5


async def run_knee(plan: KneePlan) -> KneeOutcome:
    """The whole search; TargetError before any step when nothing answers at the URL."""
    outcome = KneeOutcome()
    failure: TargetError | None = None
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stop_on_signal, signals, nursery.cancel_scope, outcome)
            try:
                await knock(plan.config)
            except TargetError as exc:  # raised out of the nursery, trio would wrap it
                failure = exc
            else:
                await _search(plan, outcome)
            nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return outcome


async def _search(plan: KneePlan, outcome: KneeOutcome) -> None:
    """The probe (without ``--from``) and the steps; a run that cannot be made ends it, its
    reason kept (what was measured before it still reported)."""
    try:
        first = plan.lowest if plan.lowest is not None else await _probe(plan, outcome)
        if first is None:
            return
        search = outcome.search = KneeSearch(first, plan.lowest, plan.highest)
        while (rate := search.next_rate()) is not None:
            if plan.warm_up_s > 0:
                warm = await one_run(plan.step_config(rate, plan.warm_up_s))
                if warm.interrupted:
                    outcome.interrupted = True
                    return
            result = await one_run(plan.step_config(rate, plan.window_s))
            verdict = judge(result, plan.slos, rate)
            outcome.steps.append(Step(rate, result, verdict))
            write_stderr(_progress_line(len(outcome.steps), rate, result, verdict))
            if result.interrupted:
                outcome.interrupted = True
                return
            search.record(rate, verdict.passed, verdict.client_bound)
    except (TargetError, RuntimeError, OSError) as exc:
        # -W: a worker failed, or found nothing listening; a file or socket call failed.
        outcome.error = str(exc) or type(exc).__name__


async def _probe(plan: KneePlan, outcome: KneeOutcome) -> float | None:
    """The first rate: a share of the closed loop's req/s at -c; None when it made none."""
    probe = dataclasses.replace(plan.config, time_limit=plan.probe_s, requests=None)
    result = await one_run(probe)
    outcome.probe_rps = result.requests_per_second
    write_stderr(f"probe: the closed loop at -c {plan.config.concurrency} made "
                 f"{result.requests_per_second:,.0f} req/s\n")  # fmt: skip
    if result.interrupted:
        outcome.interrupted = True
        return None
    if not result.tally.succeeded:
        outcome.error = (
            f"the probe's {result.tally.finished} requests all failed"
            if result.tally.finished
            else "the probe made no request"
        )
        return None
    return FIRST_SHARE * result.requests_per_second


def _progress_line(number: int, rate: float, result: RunResult, verdict: Verdict) -> str:
    p99 = result.latency_ms.get("corrected", {}).get("p99")
    words = [f"step {number}: {rate:,.0f} req/s asked, {result.requests_per_second:,.0f} made"]
    if p99 is not None:
        words.append(f"p99 {p99:.2f} ms")
    words.append(verdict.label + (f" ({'; '.join(verdict.reasons)})" if verdict.reasons else ""))
    return ", ".join(words) + "\n"
