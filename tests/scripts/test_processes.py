"""``benchlib.processes``: GNU time's peak RSS, a server's CPU (``trioload.compare.procfs``
reads /proc/PID/stat; its parsing is tested with it), a process tree's pids and usage, a
watched client run, and a server started on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.benchlib.peers import PeerSpec
from scripts.benchlib.processes import (
    Finished,
    Server,
    StartError,
    _peak_rss_kb,
    run_measured,
    start_server,
    tree_pids,
    tree_usage,
)


def test_peak_rss_kb_reads_gnu_times_figure(tmp_path: Path) -> None:
    report = tmp_path / "time"
    report.write_text("23456\n")
    assert _peak_rss_kb(report) == 23456


def test_peak_rss_kb_takes_the_last_line_after_a_kill_notice(tmp_path: Path) -> None:
    report = tmp_path / "time"
    report.write_text("Command terminated by signal 9\n8192\n")
    assert _peak_rss_kb(report) == 8192


@pytest.mark.parametrize("text", ["", "\n", "Command exited with non-zero status 1\n"])
def test_peak_rss_kb_without_a_number_is_unknown(tmp_path: Path, text: str) -> None:
    report = tmp_path / "time"
    report.write_text(text)
    assert _peak_rss_kb(report) is None


def test_peak_rss_kb_without_a_report_is_unknown(tmp_path: Path) -> None:
    assert _peak_rss_kb(tmp_path / "absent") is None


def test_server_cpu_seconds_counts_a_live_tree_and_is_zero_once_gone(tmp_path: Path) -> None:
    server = Server("peer", ["true"], tmp_path / "peer.log", host="127.0.0.1", port=1)
    server.proc = subprocess.Popen(["sleep", "30"])
    try:
        assert server.cpu_seconds() >= 0.0
    finally:
        server.proc.kill()
        server.proc.wait()
    assert server.cpu_seconds() == 0.0  # reaped: procfs has no figure, the bench counts none


def test_finished_cpu_is_user_plus_system() -> None:
    done = Finished(0, "", "", user_s=0.25, sys_s=0.5, maxrss_kb=None, wall_s=1.0, timed_out=False)
    assert done.cpu_s == 0.75


def testtree_pids_lists_the_root_and_its_live_descendants() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        pids = tree_pids(os.getpid())
        assert pids[0] == os.getpid()
        assert child.pid in pids
        assert os.getppid() not in pids
        assert tree_pids(child.pid) == [child.pid]
        usage = tree_usage(child.pid)
        assert usage is not None
        assert usage.rss_kb > 0
        assert usage.fds > 0
    finally:
        child.kill()
        child.wait()
    gone = 2**22 + 1  # above the kernel's pid_max limit
    assert tree_pids(gone) == [gone]
    assert tree_usage(gone) is None


def test_run_measured_watches_the_running_client_and_can_write_to_a_given_stdout(
    tmp_path: Path,
) -> None:
    watched: list[int] = []
    with (tmp_path / "out").open("wb") as out:
        done = run_measured(["sh", "-c", "sleep 0.3; echo hi"], 30, peak_rss=False,
                            watch=watched.append, every=0.05, stdout=out.fileno())  # fmt: skip
    assert done.returncode == 0
    assert done.stdout == ""
    assert (tmp_path / "out").read_text() == "hi\n"
    assert len(watched) >= 2
    assert done.maxrss_kb is None  # no GNU time around it


def test_run_measured_kills_a_client_past_its_timeout() -> None:
    done = run_measured(["sleep", "30"], 0.2, peak_rss=False)
    assert done.timed_out
    assert done.wall_s < 5


def test_start_server_listens_on_a_free_port_and_says_why_it_did_not(tmp_path: Path) -> None:
    serve = "import socket, sys, time; s = socket.create_server(('127.0.0.1', int(sys.argv[1]))); "
    spec = PeerSpec("tiny server", lambda port: [sys.executable, "-c", serve + "time.sleep(60)",
                                                 str(port)])  # fmt: skip
    server = start_server(spec, tmp_path, "127.0.0.1")
    try:
        assert server.alive()
        assert server.url == f"http://127.0.0.1:{server.port}/"
        assert server.log_path == tmp_path / "tiny-server.log"
    finally:
        server.kill()
    broken = PeerSpec("broken", lambda port: [sys.executable, "-c", "print('no such luck')"])
    with pytest.raises(StartError, match="no such luck"):
        start_server(broken, tmp_path, "127.0.0.1")


def test_start_server_tries_another_port_when_its_own_was_taken(tmp_path: Path) -> None:
    tries: list[int] = []

    def argv(port: int) -> list[str]:
        tries.append(port)
        if len(tries) == 1:  # as a server whose port someone bound first
            return [sys.executable, "-c", "print('OSError: [Errno 98] Address already in use')"]
        serve = "import socket, time; s = socket.create_server(('127.0.0.1', %d)); time.sleep(60)"
        return [sys.executable, "-c", serve % port]

    server = start_server(PeerSpec("retry", argv), tmp_path, "127.0.0.1")
    server.kill()
    assert len(tries) == 2
    assert server.port == tries[1]
