"""The plain parsing in ``benchlib.processes``: GNU time's peak RSS and /proc/PID/stat."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.benchlib.processes import Finished, _peak_rss_kb, _stat_fields


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


def test_stat_fields_start_after_the_command_name() -> None:
    fields = _stat_fields(os.getpid())
    assert fields is not None
    assert fields[0] in "RSD"  # state: this process is running
    assert int(fields[1]) == os.getppid()


def test_stat_fields_of_a_gone_process_is_none() -> None:
    assert _stat_fields(2**22 + 1) is None  # above the kernel's pid_max limit


def test_finished_cpu_is_user_plus_system() -> None:
    done = Finished(0, "", "", user_s=0.25, sys_s=0.5, maxrss_kb=None, wall_s=1.0, timed_out=False)
    assert done.cpu_s == 0.75
