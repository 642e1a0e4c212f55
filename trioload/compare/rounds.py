"""The trio side of ``trioload compare``: start the servers asked for, knock on every URL, then
the warm-up and the rounds, each run read around by its server's CPU. Ctrl-C ends it at once,
from the servers' start on, and keeps what the rounds measured. The servers are stopped
whatever happens."""

from __future__ import annotations

import signal

import trio

from trioload.compare.outcome import Outcome, RunRecord
from trioload.compare.plan import ComparePlan, Target
from trioload.compare.procfs import pid_alive, process_tree_cpu_s
from trioload.compare.servers import ServerError, ServeSpec, serving
from trioload.compare.summary import METRICS
from trioload.config import LoadConfig
from trioload.output.outputs import write_stderr
from trioload.run.preflight import TargetError, knock
from trioload.run.series import one_run, stop_on_signal

#: the round a warm-up run is recorded in: before the first, and counted in no figure.
WARMUP_ROUND = -1


async def run_compare(plan: ComparePlan) -> Outcome:
    """Every round of ``plan``; ServerError or TargetError before the first run when a server
    or a URL is not there (the servers already started are stopped first)."""
    outcome = Outcome()
    failure: ServerError | TargetError | None = None
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stop_on_signal, signals, nursery.cancel_scope, outcome)
            try:
                await _serve_and_run(plan, outcome)
            except (ServerError, TargetError) as exc:
                # Raised out of the nursery, trio would wrap it in a group: kept for after.
                failure = exc
            nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return outcome


async def _serve_and_run(plan: ComparePlan, outcome: Outcome) -> None:
    specs = [
        ServeSpec(t.name, t.serve, t.config.peer.host, t.config.peer.port)
        for t in plan.targets
        if t.serve is not None
    ]
    async with serving(specs) as served:
        pids = {t.name: t.pid for t in plan.targets if t.pid is not None} | served
        for target in plan.targets:
            await knock(target.config)
        await _Rounds(plan, pids, outcome).run()


class _Rounds:
    """The warm-up and the rounds, run by run."""

    def __init__(self, plan: ComparePlan, pids: dict[str, int], outcome: Outcome) -> None:
        self.plan = plan
        self.pids = pids
        self.outcome = outcome
        self.runs_made = 0

    async def run(self) -> None:
        plan, outcome = self.plan, self.outcome
        if plan.warmup > 0:
            for position, target in enumerate(plan.order(0)):
                config = plan.warmup_config(target)
                if config is not None and not await self._measure(
                    target, config, WARMUP_ROUND, position
                ):
                    return
        for index in range(plan.rounds):
            for position, target in enumerate(plan.order(index)):
                if not await self._measure(target, target.config, index, position):
                    return
            outcome.rounds_completed = index + 1

    async def _measure(self, target: Target, config: LoadConfig, index: int, position: int) -> bool:
        """One run (after the pause, from the second on), its server's CPU read around it;
        False once interrupted. A target whose server died makes no more runs."""
        outcome, pid = self.outcome, self.pids.get(target.name)
        if target.name in outcome.died:
            return True
        if self.runs_made:
            await trio.sleep(self.plan.pause_s)
        self.runs_made += 1
        if pid is not None and not pid_alive(pid):  # it died in the pause
            self._died(target, index, "its server died")
            return True
        before = process_tree_cpu_s(pid) if pid is not None else None
        try:
            result = await one_run(config)
        except (TargetError, RuntimeError, OSError) as exc:
            # -W: the workers' knock found nothing listening, or a worker failed.
            self._died(target, index, str(exc))
            return True
        after = process_tree_cpu_s(pid) if pid is not None else None
        alive = pid is None or pid_alive(pid)
        cpu = after - before if before is not None and after is not None else None
        record = RunRecord(target.name, index, position, result, cpu, alive)
        outcome.runs.append(record)
        write_stderr(_progress_line(self.plan, record))
        if not alive:
            outcome.died[target.name] = index
        if result.interrupted:
            outcome.interrupted = True
            return False
        return True

    def _died(self, target: Target, index: int, why: str) -> None:
        self.outcome.died[target.name] = index
        write_stderr(f"{_when(self.plan, index)}  {target.name}: no run: {why}\n")


def _when(plan: ComparePlan, index: int) -> str:
    return "warm-up" if index == WARMUP_ROUND else f"round {index + 1}/{plan.rounds}"


def _progress_line(plan: ComparePlan, record: RunRecord) -> str:
    """A line on stderr per run, so that a long comparison shows where it is."""
    result = record.result
    p99 = METRICS["p99"](record)
    words = [
        f"{_when(plan, record.round)}  {record.target}: {result.requests_per_second:,.0f} req/s"
    ]
    if p99 is not None:
        words.append(f"p99 {p99:.2f} ms")
    cpu = record.server_cpu_us_per_request
    if cpu is not None:
        words.append(f"server {cpu:.1f} µs/req")
    if result.tally.failed:
        words.append(f"{result.tally.failed} failed")
    if not record.server_alive:
        words.append("the server died")
    return ", ".join(words) + "\n"
