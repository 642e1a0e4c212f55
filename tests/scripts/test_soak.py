"""``scripts/soak.py`` itself: which scenarios it runs, and its report. The scenarios are tested
in ``soak/test_load.py`` and ``soak/test_faults.py``; how a process tree is sampled, in
``test_processes.py``."""

from __future__ import annotations

import pytest

from scripts import soak
from scripts.benchlib.soak.run import Outcome


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
