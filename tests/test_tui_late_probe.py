"""A step screen's probes run in a thread and answer on the event loop when they end. Under
load they can end after the admin (or "Run all") has moved on and the screen is gone: the
late answer draws nothing and never takes the wizard down (it did: NoMatches '#step-title'
on the left screen ended a CI run's "Run all")."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.sandbox import Sandbox
from tests.tui_support import settle, text_of, until_screen, wizard
from tui.screens.step import StepScreen
from tui.screens.validation import ValidationScreen


async def test_a_probe_that_ends_after_its_screen_was_left_changes_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        app.open_step(1)
        left = await until_screen(pilot, StepScreen)
        await settle(pilot)
        app.open_step(2)
        await settle(pilot)
        here = app.screen
        assert isinstance(here, StepScreen) and here.number == 2
        assert not left.is_attached  # replaced, as Run all replaces it
        # What the probe thread's call_from_thread runs, once the screen is gone:
        left._inspected([], [])
        left._say("could not read the system: late")
        await settle(pilot)
        assert app.is_running and app.screen is here
        title = text_of(here.query_one("#step-title", Static))
        assert title.startswith("Step 2: Create a dedicated user"), title


async def test_a_validation_that_ends_after_its_screen_was_left_changes_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        app.open_validation()
        left = await until_screen(pilot, ValidationScreen)
        await settle(pilot)
        app.open_step(3)
        here = await until_screen(pilot, StepScreen)
        await settle(pilot)
        assert not left.is_attached
        left.show([], "could not check: late")  # the HANA thread's answer, once it is gone
        await settle(pilot)
        assert app.is_running and app.screen is here
