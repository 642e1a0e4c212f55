"""The soak's load scenarios (1-4): a million requests without a leak, one process and
``--workers auto``; descriptor exhaustion and recovery; a normal run amid hostile clients.

Each returns an ``Outcome``: passed or not, and the figures that say why.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from pathlib import Path

from ..machine import REPO, venv_python
from .hostile import Mix
from .run import (
    LoadRun,
    Outcome,
    Sizes,
    Usage,
    grew,
    outcome,
    rss,
    run_trioload,
    tree_usage,
    trioserve,
    url,
)

#: RSS may end this much above its start: allocator noise, not a leak (which grows with -n).
RSS_SLACK = 1.10
RSS_SLACK_KB = 4096
#: descriptors a trioload process holds besides its sockets (its fdlimit module's spare).
TRIOLOAD_SPARE_FDS = 32
#: scenario 4's bound: the normal run's p99 amid the hostile mix, against the same run alone.
HOSTILE_P99_FACTOR = 3.0
HOSTILE_P99_SLACK_MS = 5.0


def _rss_held(first: Usage, last: Usage) -> bool:
    return last.rss_kb <= first.rss_kb * RSS_SLACK + RSS_SLACK_KB


def million(sizes: Sizes, out: Path, *, workers: bool) -> Outcome:
    """1-2: -n requests at -c to trioserve, one process each or ``--workers auto`` on both
    sides: zero failed, and neither side's RSS or descriptors grow with the run."""
    sides = "--workers auto on both sides" if workers else "one process each"
    name = f"{sizes.requests:,} requests at c={sizes.concurrency}, {sides}"
    started = time.monotonic()
    spread = ["--workers", "auto"] if workers else []
    c = str(sizes.concurrency)
    with trioserve(out, "million-workers" if workers else "million", spread) as server:
        # A warm-up first: the allocator's working set at c, not an idle process, is the start.
        run_trioload(
            ["-q", "-c", c, "-n", str(10 * sizes.concurrency), url(server.port)], out, timeout=60
        )
        server_start = tree_usage(server.pid)
        run = run_trioload(
            ["-q", "-c", c, "-n", str(sizes.requests), *spread, url(server.port)], out, timeout=1800
        )
        server_end = tree_usage(server.pid)
    problems = _million_problems(run, sizes.requests)
    if server_start is None or server_end is None:
        problems.append("trioserve died")
    else:
        if server_end.fds > server_start.fds:
            problems.append("trioserve kept descriptors")
        if not _rss_held(server_start, server_end):
            problems.append("trioserve's RSS grew")
    # Past start-up (and the workers' start), and before the end (the workers' exit).
    samples = run.samples
    client = samples[len(samples) // 5 : max(len(samples) // 5 + 2, len(samples) * 9 // 10)]
    processes = run.get("workers") or 1
    most_fds = max((s.fds for s in samples), default=0)
    if len(client) >= 2 and not _rss_held(client[0], client[-1]):
        problems.append("trioload's RSS grew")
    if most_fds > sizes.concurrency + TRIOLOAD_SPARE_FDS * (processes + 1):
        problems.append("trioload held descriptors beyond -c")
    figures = (
        f"{run.get('succeeded')} succeeded, {run.get('failed')} failed, "
        f"{run.get('requests_per_second') or 0:,.0f} req/s in {run.wall_s:.1f} s; "
        + (f"trioserve {grew(server_start, server_end)}" if server_start and server_end else "")
        + (
            f"; trioload {rss(client[0], client[-1])}, at most {most_fds} fds"
            if len(client) >= 2
            else ""
        )
    )
    return outcome(name, problems, figures, started)


def _million_problems(run: LoadRun, requests: int) -> list[str]:
    problems = []
    if run.returncode != 0:
        problems.append(f"trioload exited {run.returncode}")
    if run.get("succeeded") != requests:
        problems.append(f"{run.get('succeeded')} of {requests} succeeded")
    return problems


def exhaustion(sizes: Sizes, out: Path) -> Outcome:
    """3: trioserve under a low descriptor limit, hit at -c concurrency with responses held
    (so connections pile up): it stays up, logs each exhaustion episode once, and then
    serves a calm load with zero failures."""
    name = f"descriptor exhaustion (ulimit -n {sizes.exhaust_nofile}, c={sizes.concurrency})"
    started = time.monotonic()
    held = ["--delay", str(sizes.exhaust_delay_ms)]
    with trioserve(out, "exhaustion", held, nofile=sizes.exhaust_nofile) as server:
        c = str(sizes.concurrency)
        storm = run_trioload(
            ["-q", "-c", c, "-n", str(sizes.exhaust_requests), url(server.port)], out, timeout=600
        )
        up_after_storm = server.alive()
        calm_c = str(sizes.calm_concurrency)
        calm = run_trioload(
            ["-q", "-c", calm_c, "-n", str(sizes.calm_requests), url(server.port)], out, timeout=600
        )
        status = server.stop()
        log = server.log()
    episodes = log.count("accept failed: Too many open files")
    recoveries = log.count("accept recovered")
    problems = []
    if not up_after_storm:
        problems.append("trioserve died in the storm")
    if episodes == 0:
        problems.append("no exhaustion happened (the limit was never reached)")
    if episodes > recoveries + 1:  # one line an episode: each is followed by its recovery
        problems.append(f"{episodes} exhaustion lines for {recoveries} recoveries")
    if calm.returncode != 0 or calm.get("failed") != 0:
        problems.append(f"the calm run failed {calm.get('failed')} (exit {calm.returncode})")
    if status != 0:
        problems.append(f"trioserve exited {status}")
    figures = (
        f"storm: {storm.get('succeeded')} succeeded, {storm.get('failed')} failed, "
        f"{episodes} exhaustion episodes logged, {recoveries} recoveries; "
        f"then c={sizes.calm_concurrency}: {calm.get('succeeded')} succeeded, "
        f"{calm.get('failed')} failed"
    )
    return outcome(name, problems, figures, started)


def hostile(sizes: Sizes, out: Path) -> Outcome:
    """4: a normal run amid slowloris, idle, oversized, garbage and reset clients: zero
    failures, and p99 within HOSTILE_P99_FACTOR x the same run's alone + HOSTILE_P99_SLACK_MS."""
    mix = sizes.mix
    name = (
        f"hostile mix ({mix.slowloris} slowloris, {mix.idle} idle, {mix.oversized_per_s:g}/s "
        f"oversized, {mix.garbage_per_s:g}/s garbage, {mix.resets_per_s:g}/s resets)"
    )
    started = time.monotonic()
    head_timeout = ["--head-timeout", f"{sizes.hostile_head_timeout_s:g}"]
    with trioserve(out, "hostile", head_timeout) as server:
        load = ["-q", "-c", str(sizes.calm_concurrency), "-t", f"{sizes.hostile_seconds:g}"]
        alone = run_trioload([*load, url(server.port)], out, timeout=sizes.hostile_seconds + 60)
        mix_s = sizes.hostile_lead_s + sizes.hostile_seconds + 1.0
        clients = subprocess.Popen(
            _hostile_argv(server.port, mix_s, mix),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            time.sleep(sizes.hostile_lead_s)  # the held connections pile up first
            amid = run_trioload([*load, url(server.port)], out, timeout=sizes.hostile_seconds + 60)
            mix_out, mix_err = clients.communicate(timeout=mix_s + 60)
        finally:
            if clients.poll() is None:
                clients.kill()
                clients.wait()
        up = server.alive()
    counts = json.loads(mix_out) if mix_out.strip() else {}
    p99_alone, p99_amid = (
        alone.get("latency_ms", "total", "p99"),
        amid.get("latency_ms", "total", "p99"),
    )
    problems = []
    if amid.returncode != 0 or amid.get("failed") != 0 or not amid.get("succeeded"):
        problems.append(
            f"the run amid the mix failed {amid.get('failed')} (exit {amid.returncode})"
        )
    if p99_alone is None or p99_amid is None:
        problems.append("no p99")
    elif p99_amid > HOSTILE_P99_FACTOR * p99_alone + HOSTILE_P99_SLACK_MS:
        problems.append("p99 beyond the bound")
    if not up:
        problems.append("trioserve died")
    if not counts:
        problems.append(f"the hostile clients said nothing: {mix_err.decode()[-200:]}")
    figures = (
        f"alone {alone.get('requests_per_second') or 0:,.0f} req/s, p99 {p99_alone} ms; "
        f"amid the mix {amid.get('requests_per_second') or 0:,.0f} req/s, p99 {p99_amid} ms (bound "
        f"{HOSTILE_P99_FACTOR:g}x + {HOSTILE_P99_SLACK_MS:g} ms), {amid.get('failed')} failed; "
        + _mix_summary(counts)
    )
    return outcome(name, problems, figures, started)


def _hostile_argv(port: int, seconds: float, mix: Mix) -> list[str]:
    """The hostile clients' process (scripts/benchlib/hostile.py) with ``mix``'s knobs."""
    argv = [venv_python(), "-m", "scripts.benchlib.soak.hostile", "--port", str(port)]
    argv += ["--seconds", f"{seconds:g}"]
    for knob in dataclasses.fields(mix):  # --slowloris N ... --drip-s S, as hostile.main reads
        argv += [f"--{knob.name.replace('_', '-')}", f"{getattr(mix, knob.name):g}"]
    return argv


def _mix_summary(counts: dict[str, dict[str, object]]) -> str:
    """What the server did to the hostile clients, from their own counts."""
    parts = []
    for kind in ("slowloris", "idle"):
        got = counts.get(kind, {})
        parts.append(f"{kind} cut {got.get('closed_by_server')}")
    for kind in ("oversized", "garbage"):
        got = counts.get(kind, {})
        parts.append(f"{kind} {got.get('sent')} answered {got.get('statuses')}")
    parts.append(f"resets {counts.get('resets', {}).get('sent')}")
    return ", ".join(parts)
