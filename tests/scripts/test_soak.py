"""The soak's scenarios 3-7 at CI sizes (``soakrun.SMALL``): real trioserve and trioload
processes on 127.0.0.1, each scenario judged exactly as ``scripts/soak.py`` judges it.

They run one after another (the suite distributes whole files: ``--dist loadfile``): each
compares timings within itself, and two of them side by side would measure each other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import soak
from scripts.benchlib import soakfaults, soakload
from scripts.benchlib.soakrun import SMALL, Outcome

pytestmark = pytest.mark.slow


def passed(outcome: Outcome) -> bool:
    print(outcome.line)  # shown on failure: the figures behind the verdict
    return outcome.passed


def test_soak_exhausted_descriptors_then_a_calm_load_without_failures(tmp_path: Path) -> None:
    assert passed(soakload.exhaustion(SMALL, tmp_path)), "see the figures above"


def test_soak_hostile_mix_costs_a_normal_run_no_request(tmp_path: Path) -> None:
    assert passed(soakload.hostile(SMALL, tmp_path)), "see the figures above"


@pytest.mark.parametrize("case", ["killed", "restarted", "silent"])
def test_soak_dying_server_failures_land_in_their_columns(case: str, tmp_path: Path) -> None:
    assert passed(soakfaults.dying(SMALL, tmp_path, case)), "see the figures above"


def test_soak_sigterm_under_load_answers_what_was_accepted(tmp_path: Path) -> None:
    assert passed(soakfaults.graceful(SMALL, tmp_path)), "see the figures above"


def test_soak_bad_input_is_one_line_and_loses_no_report(tmp_path: Path) -> None:
    assert passed(soakfaults.bad_input(SMALL, tmp_path)), "see the figures above"


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
