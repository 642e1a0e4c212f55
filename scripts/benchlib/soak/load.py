"""The soak's load scenarios (1-4): a million requests without a leak, one process and
``--workers auto``; descriptor exhaustion and recovery; a normal run amid hostile clients.

Each returns an ``Outcome``: passed or not, and the figures that say why.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

import trio

from ..processes import Usage, tree_usage
from .hostile import Mix, run_mix
from .run import HOST, LoadRun, Outcome, Sizes, grew, outcome, rss, run_trioload, trioserve

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
    c = ["-q", "-c", str(sizes.concurrency)]
    with trioserve(out, "million-workers" if workers else "million", spread) as server:
        # A warm-up first: the allocator's working set at c, not an idle process, is the start.
        run_trioload([*c, "-n", str(10 * sizes.concurrency), server.url], out, timeout=60)
        server_start = tree_usage(server.pid)
        run = run_trioload([*c, "-n", str(sizes.requests), *spread, server.url], out, timeout=1800)
        server_end = tree_usage(server.pid)
    ends = (server_start, server_end) if server_start and server_end else None
    # Past start-up (and the workers' start), and before the end (the workers' exit).
    samples = run.samples
    client = samples[len(samples) // 5 : max(len(samples) // 5 + 2, len(samples) * 9 // 10)]
    processes = run.get("workers") or 1
    most_fds = max((s.fds for s in samples), default=0)
    succeeded = run.get("succeeded")
    rps = run.get("requests_per_second") or 0
    figures = (
        f"{succeeded} succeeded, {run.get('failed')} failed, {rps:,.0f} req/s in {run.wall_s:.1f} s"
    )
    if ends:
        figures += f"; trioserve {grew(*ends)}"
    if len(client) >= 2:
        figures += f"; trioload {rss(client[0], client[-1])}, at most {most_fds} fds"
    return outcome(
        name, started, figures,
        (run.returncode != 0, f"trioload exited {run.returncode}"),
        (succeeded != sizes.requests, f"{succeeded} of {sizes.requests} succeeded"),
        (ends is None, "trioserve died"),
        (ends is not None and ends[1].fds > ends[0].fds, "trioserve kept descriptors"),
        (ends is not None and not _rss_held(*ends), "trioserve's RSS grew"),
        (len(client) >= 2 and not _rss_held(client[0], client[-1]), "trioload's RSS grew"),
        (most_fds > sizes.concurrency + TRIOLOAD_SPARE_FDS * (processes + 1),
         "trioload held descriptors beyond -c"),
    )  # fmt: skip


def exhaustion(sizes: Sizes, out: Path) -> Outcome:
    """3: trioserve under a low descriptor limit, hit at -c concurrency with responses held
    (so connections pile up): it stays up, logs each exhaustion episode once, and then
    serves a calm load with zero failures."""
    name = f"descriptor exhaustion (ulimit -n {sizes.exhaust_nofile}, c={sizes.concurrency})"
    started = time.monotonic()
    held = ["--delay", str(sizes.exhaust_delay_ms)]
    with trioserve(out, "exhaustion", held, nofile=sizes.exhaust_nofile) as server:
        storm_c, storm_n = str(sizes.concurrency), str(sizes.exhaust_requests)
        storm = run_trioload(["-q", "-c", storm_c, "-n", storm_n, server.url], out, timeout=600)
        up_after_storm = server.alive()
        calm_c, calm_n = str(sizes.calm_concurrency), str(sizes.calm_requests)
        calm = run_trioload(["-q", "-c", calm_c, "-n", calm_n, server.url], out, timeout=600)
        status = server.stop()
        log = server.log()
    episodes = log.count("accept failed: Too many open files")
    recoveries = log.count("accept recovered")
    figures = (
        f"storm: {storm.get('succeeded')} succeeded, {storm.get('failed')} failed, "
        f"{episodes} exhaustion episodes logged, {recoveries} recoveries; "
        f"then c={sizes.calm_concurrency}: {calm.get('succeeded')} succeeded, "
        f"{calm.get('failed')} failed"
    )
    return outcome(
        name, started, figures,
        (not up_after_storm, "trioserve died in the storm"),
        (episodes == 0, "no exhaustion happened (the limit was never reached)"),
        # One line an episode: each is followed by its recovery.
        (episodes > recoveries + 1, f"{episodes} exhaustion lines for {recoveries} recoveries"),
        (calm.returncode != 0 or calm.get("failed") != 0,
         f"the calm run failed {calm.get('failed')} (exit {calm.returncode})"),
        (status != 0, f"trioserve exited {status}"),
    )  # fmt: skip


async def _counted(counts: dict[str, Any], port: int, mix: Mix, seconds: float, out: Path) -> None:
    """The mix's counts into ``counts``; a failure's traceback into ``out`` (the soak goes on)."""
    try:
        counts.update(await run_mix(HOST, port, mix, seconds))
    except Exception:  # any failure of the mix is the scenario's, not the soak's
        (out / "hostile-mix.traceback").write_text(traceback.format_exc())


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
        alone = run_trioload([*load, server.url], out, timeout=sizes.hostile_seconds + 60)
        mix_s = sizes.hostile_lead_s + sizes.hostile_seconds + 1.0
        counts: dict[str, Any] = {}

        async def amid_the_mix() -> LoadRun:
            """The mix in this trio loop; after its lead, the run amid it, in trio's thread."""
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_counted, counts, server.port, mix, mix_s, out)
                await trio.sleep(sizes.hostile_lead_s)  # the held connections pile up first
                return await trio.to_thread.run_sync(
                    lambda: run_trioload([*load, server.url], out, timeout=mix_s + 60)
                )

        amid = trio.run(amid_the_mix)
        up = server.alive()
    p99_alone = alone.get("latency_ms", "total", "p99")
    p99_amid = amid.get("latency_ms", "total", "p99")
    bound = None if p99_alone is None else HOSTILE_P99_FACTOR * p99_alone + HOSTILE_P99_SLACK_MS
    figures = (
        f"alone {alone.get('requests_per_second') or 0:,.0f} req/s, p99 {p99_alone} ms; "
        f"amid the mix {amid.get('requests_per_second') or 0:,.0f} req/s, p99 {p99_amid} ms (bound "
        f"{HOSTILE_P99_FACTOR:g}x + {HOSTILE_P99_SLACK_MS:g} ms), {amid.get('failed')} failed; "
        + _mix_summary(counts)
    )
    return outcome(
        name, started, figures,
        (amid.returncode != 0 or amid.get("failed") != 0 or not amid.get("succeeded"),
         f"the run amid the mix failed {amid.get('failed')} (exit {amid.returncode})"),
        (bound is None or p99_amid is None, "no p99"),
        (bound is not None and p99_amid is not None and p99_amid > bound, "p99 beyond the bound"),
        (not up, "trioserve died"),
        (not counts, f"the hostile clients said nothing (see {out}/hostile-mix.traceback)"),
    )  # fmt: skip


def _mix_summary(counts: dict[str, dict[str, object]]) -> str:
    """What the server did to the hostile clients, from their own counts."""
    got = {kind: counts.get(kind, {}) for kind in ("slowloris", "idle", "oversized", "garbage")}
    return ", ".join([
        *(f"{kind} cut {got[kind].get('closed_by_server')}" for kind in ("slowloris", "idle")),
        *(f"{kind} {got[kind].get('sent')} answered {got[kind].get('endings')}"
          for kind in ("oversized", "garbage")),
        f"resets {counts.get('resets', {}).get('sent')}",
    ])  # fmt: skip
