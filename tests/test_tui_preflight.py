"""The wizard's preflight: before a step's first root prompt, what the step needs that the
system lacks is shown, and the admin chooses to stop or to go on (issue 20 item 3). Also
the welcome screen's "done, unverified" steps (item 1)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from steps.core.state import StepStatus
from tests.hana_server import Catalogue, HanaTestServer
from tests.loopback import closed_port
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW
from tests.tui_support import (
    press_run_on_step,
    shown_in,
    started,
    text_of,
    until_root_prompt,
    until_screen,
    wait_for,
    wizard,
)
from tui.preflight import STOPPED
from tui.screens.confirm import ConfirmScreen
from tui.screens.passwords import PasswordScreen
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


async def test_a_wrong_password_stopped_by_the_preflight_is_asked_again_at_the_next_run(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo in the SYSTEM password: the preflight shows the login refused and the admin
    stops. The next Run asks for the passwords again; before, it tried the same wrong one
    again and again, and only the validation screen could take another."""
    with HanaTestServer(Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})) as srv:
        env = {"EMLSETUP_HANA__ADDRESS": "127.0.0.1", "EMLSETUP_HANA__SQL_PORT": str(srv.port)}
        async with wizard(sandbox, monkeypatch, **env) as (app, pilot):
            await press_run_on_step(pilot, 1)
            await until_screen(pilot, PasswordScreen)
            await pilot.press(*"Wrong-Typo1", "enter")
            await until_screen(pilot, PreflightScreen)
            detail = text_of(app.screen.query_one("#detail", Static))
            assert "HANA refused the login of SYSTEM" in detail
            await pilot.press("n")
            await wait_for(pilot, lambda: not app.busy)
            await pilot.press("r")
            await until_screen(pilot, PasswordScreen)  # not the same refusal again
            await pilot.press(*SYSTEM_PW, "tab", *ML_PW, "enter")
            await wait_for(pilot, lambda: not app.busy, timeout=60)
            assert app.live is not None and app.live.outcome is not None
            assert app.live.outcome.ok, app.live.outcome.message  # HANA took them
    assert len(sandbox.calls("hxe_gc.sh")) == 1  # answered with the password typed last


async def test_a_long_preflight_question_is_whole_at_80_columns(
    make_sandbox, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """Run all on a system that lacks four things: the question names them all, wrapped
    inside the dialog rather than cut at its edge (a Label does not wrap)."""
    sb: Sandbox = make_sandbox(omit=("useradd",))
    lacking = {
        "EMLSETUP_HANA__ADDRESS": "127.0.0.1",
        "EMLSETUP_HANA__SQL_PORT": str(closed_port()),
        "EMLSETUP_SYSTEM_PASSWORD": SYSTEM_PW,
        "EMLSETUP_ML_USER_PASSWORD": ML_PW,
        "EMLSETUP_PREFLIGHT__BAZEL_OUTPUT_GB": "999999",
        "EMLSETUP_PREFLIGHT__BUILD_MEMORY_GB": "999999",
    }
    async with wizard(sb, monkeypatch, **lacking) as (app, pilot):
        await pilot.press("a")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        screen = await until_screen(pilot, PreflightScreen)
        await pilot.pause()  # drawn (settle would wait for the run, which waits for us)
        lacks = "hana, disk, memory, commands"
        question = f"Steps 1-7 need what this system lacks ({lacks}). Go on anyway?"
        assert screen.question == question
        assert shown_in(app, screen.query_one("#question")) == question
        await pilot.press("n")
        await wait_for(pilot, lambda: not app.busy)
    assert started(sb) == []
