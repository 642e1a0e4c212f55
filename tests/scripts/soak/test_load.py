"""The soak's load scenarios 3 and 4 at CI sizes (``soakrun.SMALL``): real trioserve and
trioload processes on 127.0.0.1, each judged exactly as ``scripts/soak.py`` judges it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.benchlib.soak import load as soakload
from scripts.benchlib.soak.run import SMALL

pytestmark = pytest.mark.slow


def test_soak_exhausted_descriptors_then_a_calm_load_without_failures(tmp_path: Path) -> None:
    outcome = soakload.exhaustion(SMALL, tmp_path)
    assert outcome.passed, outcome.line  # the figures behind the verdict


def test_soak_hostile_mix_costs_a_normal_run_no_request(tmp_path: Path) -> None:
    outcome = soakload.hostile(SMALL, tmp_path)
    assert outcome.passed, outcome.line  # the figures behind the verdict
