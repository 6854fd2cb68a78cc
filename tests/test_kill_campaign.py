"""A seeded sample of the kill-anywhere campaign (tests/kill_campaign.py has the full one:
`nice .venv/bin/python -m tests.kill_campaign --kills 200 --seed 1`). The sample kills once
in every step (7 rounds by default, a step each in a seeded order), at an event chosen at
random among those the census run saw in that step."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kill_campaign import STEPS, Round, census, one_round, targets

KILLS = int(os.environ.get("KILL_CAMPAIGN_KILLS", "7"))
SEED = int(os.environ.get("KILL_CAMPAIGN_SEED", "7000"))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Round]:
    rnd = census(tmp_path_factory.mktemp("census"), SEED)
    yield rnd


def test_the_census_run_finishes_and_sees_events_in_every_step(base: Round) -> None:
    assert base.problems == []
    assert all(base.events.get(s) for s in STEPS), base.events.keys()


@pytest.mark.parametrize("i", range(KILLS))
def test_killed_at_an_event_resume_finishes_and_repeats_nothing(
    base: Round, tmp_path: Path, i: int
) -> None:
    target = targets(base, KILLS, SEED)[i]
    rnd = one_round(tmp_path, SEED * 100_003 + i, target)
    assert rnd.killed, f"the run ended before {target} (seed {SEED})"
    assert rnd.step == target[0]
    assert rnd.problems == [], f"seed {SEED}, target {target}, killed at {rnd.killed!r}"
