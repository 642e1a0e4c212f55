"""``-w N`` end to end: worker processes share the run, and the parent prints one report."""

from __future__ import annotations

import re

import pytest
import trio

from tests.trioload.conftest import StartTrioserve, run_trioload, url
from trioload.results.tally import PHASES


async def test_workers_merge_counts_to_exactly_n(start_trioserve: StartTrioserve) -> None:
    server, port = await start_trioserve()
    n = 301  # odd: the shares differ
    run = await run_trioload("-q", "-W", "2", "-c", "4", "-n", str(n), "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    report = run.report
    assert report["workers"] == 2
    assert (report["finished"], report["succeeded"], report["failed"]) == (n, n, 0)
    assert report["total_bytes"] == 88 * n
    assert report["requests"] == n
    assert server.stats.responses == n
    for phase in PHASES:
        assert report["latency_ms"][phase]["p50"] > 0
    assert f"Complete requests:      {n}\n" in run.stderr
    assert "2 processes" in run.stderr


async def test_workers_with_fewer_requests_than_workers(start_trioserve: StartTrioserve) -> None:
    # -n 1 -c 2 -W 2: one process gets no request at all; the run must still do exactly one.
    server, port = await start_trioserve()
    run = await run_trioload("-q", "-W", "2", "-c", "2", "-n", "1", "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    assert run.report["finished"] == 1
    assert server.stats.responses == 1


async def test_workers_time_taken_leaves_out_child_start_up(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    began = trio.current_time()
    run = await run_trioload("-q", "-W", "2", "-c", "4", "-n", "200", "--json", "-", url(port))
    wall_s = trio.current_time() - began
    assert run.returncode == 0, run.stderr
    start, end = run.report["window_unix_s"]
    # The union of the workers' windows: their span, less any gap between them.
    assert 0 < run.report["time_taken_s"] <= end - start + 1e-6
    # Two interpreters starting up take far longer than 200 requests to trioserve.
    assert run.report["time_taken_s"] < wall_s / 2


async def test_workers_show_one_progress_for_all_children(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    run = await run_trioload("-W", "2", "-c", "4", "-n", "2000", url(port))
    assert run.returncode == 0, run.stderr
    completed = re.findall(r"^Completed (\d+) requests$", run.stderr, re.MULTILINE)
    assert completed == [str(200 * i) for i in range(1, 10)]
    assert "Finished 2000 requests\n" in run.stderr
    assert "trioload-progress" not in run.stderr + run.stdout
    # one report, the merged one: the children's own stay between them and the parent
    assert "trioload worker" not in run.stderr
    assert run.stdout.count("Complete requests:") == 1


async def test_workers_share_a_schedule_and_count_as_one_process(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    runs = [
        await run_trioload(
            "-q", "-W", w, "-R", "1000", "-c", "4", "-n", "300", "--json", "-", url(port)
        )
        for w in ("1", "2")
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    one, two = (run.report for run in runs)
    assert one["finished"] == two["finished"] == 300
    for report in (one, two):
        assert sum(e["finished"] for e in report["timeline"]) == 300
        assert report["rate"] == 1000.0
        # 300 requests due over 0.3 s whether one process sends them or two.
        assert 0.25 < report["time_taken_s"] < 0.7


async def test_workers_share_a_ramp_exactly(start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve()
    argv = ["-q", "-R", "100:500", "-t", "1", "-c", "4", "--json", "-", url(port)]
    runs = [await run_trioload("-W", w, *argv) for w in ("1", "2")]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert run.report["finished"] == 300  # (100 + 500) / 2 req/s for 1 s, however shared
        assert run.report["stages"] == "1s@100:500"  # the whole shape, merged or not
        # the timeline's asked: by due time (the last were due within a tick of the end, and
        # sent up to a tick early)
        assert sum(e["asked"] for e in run.report["timeline"]) == pytest.approx(300, abs=3)
