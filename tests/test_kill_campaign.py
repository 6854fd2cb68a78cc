"""A seeded sample of the kill-anywhere campaign (tests/kill_campaign.py has the full one:
`.venv/bin/python -m tests.kill_campaign --kills 200 --seed 1`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.kill_campaign import one_round

KILLS = int(os.environ.get("KILL_CAMPAIGN_KILLS", "20"))


@pytest.mark.parametrize("seed", range(KILLS))
def test_killed_at_a_random_moment_resume_finishes_and_repeats_nothing(
    tmp_path: Path, seed: int
) -> None:
    rnd = one_round(tmp_path, 7_000 + seed)
    assert rnd.problems == [], f"killed at {rnd.killed_at:.2f}s" if rnd.killed_at else ""
