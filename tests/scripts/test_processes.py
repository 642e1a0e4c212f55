"""``benchlib.processes``: GNU time's peak RSS, and a server's CPU (``trioload.compare.procfs``
reads /proc/PID/stat; its parsing is tested with it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scripts.benchlib.processes import Finished, Server, _peak_rss_kb


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
