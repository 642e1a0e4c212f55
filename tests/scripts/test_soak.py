"""``scripts/soak.py`` itself: which scenarios it runs, and its report; and how the soak finds a
process tree's pids. The scenarios are tested in ``test_soakload.py`` and ``test_soakfaults.py``."""

from __future__ import annotations

import os
import subprocess

import pytest

from scripts import soak
from scripts.benchlib.soak.run import Outcome, _tree_pids, tree_usage


def test_soak_only_refuses_unknown_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert soak.main(["--only", "8"]) == 2
    assert soak.main(["--only", "x"]) == 2
    assert capsys.readouterr().err.count("--only takes numbers from 1 to 7") == 2


def test_soak_report_has_a_row_per_run_and_the_tally() -> None:
    outcomes = [
        Outcome("a", True, "fine", 1.0),
        Outcome("b1", False, "broke. Figures: x|y", 2.0),
        Outcome("b2", True, "fine", 3.0),
        Outcome("b3", True, "fine", 4.0),
    ]
    text = soak.report("soak.py --only 6,5", outcomes, [6, 5], 600.0)
    assert "| 6 | PASS | a | fine | 1 |" in text
    assert "| 5 | **FAIL** | b1 | broke. Figures: x\\|y | 2 |" in text
    assert text.count("| 5 |") == 3
    assert text.endswith("3 of 4 passed in 10.0 min.\n")


def test_tree_pids_lists_the_root_and_its_live_descendants() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        pids = _tree_pids(os.getpid())
        assert pids[0] == os.getpid()
        assert child.pid in pids
        assert os.getppid() not in pids
        assert _tree_pids(child.pid) == [child.pid]
        usage = tree_usage(child.pid)
        assert usage is not None
        assert usage.rss_kb > 0
        assert usage.fds > 0
    finally:
        child.kill()
        child.wait()
    gone = 2**22 + 1  # above the kernel's pid_max limit
    assert _tree_pids(gone) == [gone]
    assert tree_usage(gone) is None
