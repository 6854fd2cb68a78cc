"""The seed of the property tests: a new one each run, printed, and replayable.

    EMLSETUP_PROPERTY_SEED=1234 .venv/bin/python -m pytest tests/test_property_input.py

replays a run whose seed was 1234 (every failure message names it).
"""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, settings

SEED = int(os.environ.get("EMLSETUP_PROPERTY_SEED") or random.SystemRandom().randrange(2**32))
REPLAY = f"property seed {SEED} (replay: EMLSETUP_PROPERTY_SEED={SEED})"


def varied(max_examples: int) -> settings:
    """Hypothesis settings for a test whose seed is SEED; no example database is written
    into the repository."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large],
    )  # fmt: skip
