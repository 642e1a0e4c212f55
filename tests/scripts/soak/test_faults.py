"""The soak's fault scenarios 5 and 6 at CI sizes (``soakrun.SMALL``): real trioserve and
trioload processes on 127.0.0.1, each judged exactly as ``scripts/soak.py`` judges it.

Scenario 7 (bad input) is not run again here: each of its cases is an end-to-end test of its
own, with the same checks: ``tests/trioload/test_outputs.py`` (unwritable --json, --hdr-log
and --hgrm; a full disk; stdout or stderr closed early) and ``tests/trioload/test_preflight.py``
(a host that does not resolve; a port nobody listens on).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.benchlib.soak import faults as soakfaults
from scripts.benchlib.soak.run import SMALL

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("case", ["killed", "restarted", "silent"])
def test_soak_dying_server_failures_land_in_their_columns(case: str, tmp_path: Path) -> None:
    outcome = soakfaults.dying(SMALL, tmp_path, case)
    assert outcome.passed, outcome.line  # the figures behind the verdict


def test_soak_sigterm_under_load_answers_what_was_accepted(tmp_path: Path) -> None:
    outcome = soakfaults.graceful(SMALL, tmp_path)
    assert outcome.passed, outcome.line  # the figures behind the verdict
