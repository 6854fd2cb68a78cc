"""The wizard's preflight: before a step's first root prompt, what the step needs that the
system lacks is shown, and the admin chooses to stop or to go on (issue 20 item 3). Also
the welcome screen's "done, unverified" steps (item 1)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from steps.core.state import StepStatus
from tests.sandbox import Sandbox
from tests.tui_support import (
    press_run_on_step,
    text_of,
    until_root_prompt,
    until_screen,
    wait_for,
    wizard,
)
from tui.preflight import STOPPED
from tui.screens.confirm import ConfirmScreen
from tui.screens.preflight import PreflightScreen
from tui.screens.welcome import WelcomeScreen
from tui.widgets.step_table import StepTable


async def test_a_missing_command_is_shown_before_the_root_prompt_and_stop_runs_nothing(
    make_sandbox, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    sb: Sandbox = make_sandbox(omit=("useradd",))
    async with wizard(sb, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, 2)
        await until_screen(pilot, PreflightScreen)
        detail = text_of(app.screen.query_one("#detail", Static))
        assert "✘ fail  commands found on PATH (step 2)" in detail
        assert "missing: useradd" in detail and "useradd (step 2): install it" in detail
        await pilot.press("n")
        await wait_for(pilot, lambda: not app.busy)
        assert app.live is not None and app.live.outcome is not None
        assert app.live.outcome.message == STOPPED
        assert app.driver.state is not None
        assert app.driver.state.step(2).status == StepStatus.PENDING
        assert not (sb.state_dir / "state.json").exists()
        # Asked again, the admin goes on: now the root prompt comes, and "g" is remembered.
        await pilot.press("r")
        await until_screen(pilot, PreflightScreen)
        await pilot.press("g")
        await until_root_prompt(pilot)
        assert app.driver.accepted == {"commands"}
        await pilot.press("n")
        await wait_for(pilot, lambda: not app.busy)
    assert sb.calls("useradd") == []


async def test_a_step_that_passes_its_preflight_goes_straight_to_the_root_prompt(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, 2)
        await until_screen(pilot, ConfirmScreen)
        assert not isinstance(app.screen, PreflightScreen)
        await pilot.press("n")
        await wait_for(pilot, lambda: not app.busy)


async def test_the_welcome_screen_says_which_step_is_unverified_and_how_to_check_it(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = sandbox.run_cli("run", "--yes", "--only-step", "1", "--skip-preflight", "hana")
    assert done.returncode == 4, done.stdout[-2000:]
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        assert isinstance(app.screen, WelcomeScreen)
        assert "? unverified" in str(app.screen.query_one(StepTable).get_row_at(0)[1])
        said = text_of(app.screen.query_one("#unverified", Static))
        assert said.startswith("? Step 1 is done, unverified: 3 checks could not run")
        assert "emlsetup check --step 1" in said
