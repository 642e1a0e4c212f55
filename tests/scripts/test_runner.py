"""The runner's bookkeeping (``benchlib.runner``): what a client's output and exit status become,
and the order of the report's rows. Clients here are ``cat`` and ``sh``, never a load
generator."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from scripts.benchlib.peers import slug
from scripts.benchlib.processes import Server
from scripts.benchlib.runner import ClientRun, Runner, _summary, client_timeout
from scripts.benchlib.tools import LoadResult, parse_ab, parse_wrk

DATA = Path(__file__).parent / "data"


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner("127.0.0.1", tmp_path, pause_s=0.0)


def test_client_timeout_grows_with_requests() -> None:
    assert client_timeout(0) == 60.0
    assert client_timeout(200_000) == 260.0


def test_slug_keeps_names_file_safe() -> None:
    assert slug("trioserve --workers auto --defer-accept") == "trioserve-workers-auto-defer-accept"
    assert slug("nginx (1 worker)") == "nginx-1-worker"


def test_measure_parses_the_clients_output_and_charges_cpu_per_request(runner: Runner) -> None:
    run = ClientRun("ab", ["cat", str(DATA / "ab.txt")], parse_ab, 200, timeout_s=30)
    result = runner.measure("servers", "nginx", None, run)
    assert result.requests_per_second == 3002.55
    assert result.failed == 0
    assert result.client_cpu_us is not None
    assert result.client_cpu_us >= 0
    assert result.server_cpu_us is None  # no peer
    assert runner.results == {("servers", "nginx", "ab"): [result]}


def test_measure_takes_the_count_from_a_duration_bound_report(runner: Runner) -> None:
    """wrk runs for a time: the per-request CPU divides by the 3188 requests it reported."""
    run = ClientRun("wrk -t1", ["cat", str(DATA / "wrk.txt")], parse_wrk, None, timeout_s=30)
    result = runner.measure("clients", "nginx", None, run)
    assert result.finished == 3188
    assert result.client_cpu_us is not None


def test_measure_failed_exit_reports_status_and_stderr(runner: Runner) -> None:
    complaint = "apr_socket_connect(): Connection refused (111)"
    script = f"echo 'Benchmarking...'; echo '{complaint}' >&2; exit 111"
    run = ClientRun("ab", ["sh", "-c", script], parse_ab, 200, timeout_s=30)
    result = runner.measure("servers", "nginx", None, run)
    assert result.error == f"exit 111: {complaint}"
    assert result.client_cpu_us is None


def test_measure_parser_error_with_exit_0_keeps_the_parsers_reason(runner: Runner) -> None:
    run = ClientRun("ab", ["cat", str(DATA / "ab_timeout.txt")], parse_ab, 20, timeout_s=30)
    result = runner.measure("servers", "nginx", None, run)
    assert result.error is not None
    assert result.error.startswith("ab printed no statistics: apr_pollset_poll")


def test_measure_does_not_run_against_a_server_that_exited(runner: Runner, tmp_path: Path) -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    log = tmp_path / "peer.log"
    log.write_text("starting\nTraceback: boom\n")
    server = Server("peer", ["true"], log, host="127.0.0.1", port=1)
    server.proc = proc
    run = ClientRun("ab", ["false"], parse_ab, 10, timeout_s=30)
    result = runner.measure("servers", "peer", server, run)
    assert result.error == "server had exited (starting | Traceback: boom)"


def test_measure_of_a_client_missing_here_notes_it_once_and_runs_nothing(runner: Runner) -> None:
    run = ClientRun("wrk -t1", ["false"], parse_wrk, None, timeout_s=30, missing="no wrk")
    for _ in range(2):  # two rounds
        assert runner.measure("clients", "nginx", None, run).error == "no wrk"
    assert runner.results == {}
    (row,) = runner.rows()
    assert (row.client, row.note) == ("wrk -t1", "not available: no wrk")


def test_rows_follow_first_appearance_with_skipped_pairs_in_place(runner: Runner) -> None:
    runner._record(("servers", "nginx", "ab"), LoadResult(requests_per_second=1.0))
    runner.skip("servers", "uvicorn", "ab", "not available: no venv")
    runner._record(("servers", "trioserve", "ab"), LoadResult(requests_per_second=2.0))
    runner._record(("servers", "nginx", "ab"), LoadResult(requests_per_second=3.0))
    rows = runner.rows()
    assert [row.server for row in rows] == ["nginx", "uvicorn", "trioserve"]
    assert rows[0].requests_per_second == 2.0  # median of the two nginx rounds
    assert rows[1].note == "not available: no venv"


def test_summary_shows_the_figures_it_has() -> None:
    result = LoadResult(requests_per_second=12345.4, failed=0, p50_ms=1.5)
    result = dataclasses.replace(result, client_cpu_us=20.0, client_rss_kb=2048)
    assert _summary(result) == (
        "12,345 req/s, failed 0, p50 1.50 ms, client 20.0 us/req, client RSS 2.0 MB"
    )


def test_summary_of_an_error_is_the_error() -> None:
    assert _summary(LoadResult(error="killed after 60 s")) == "ERROR killed after 60 s"


def test_summary_unknown_failures_show_a_question_mark() -> None:
    assert _summary(LoadResult(requests_per_second=5.0)) == "5 req/s, failed ?"
