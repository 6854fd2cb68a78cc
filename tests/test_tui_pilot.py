"""The wizard driven with the keyboard against the sandboxed host: navigate every step, run a
step, watch it fail and retry, build with a replayed Bazel stream, cancel, resume, report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from textual.widgets import Input, ProgressBar, Select, Static

from steps.core.session import Options, Session
from steps.core.state import ActionStatus, StepStatus
from tests.fakes.fakelib import install_tool
from tests.sandbox import Sandbox
from tests.tui_support import (
    SIZES,
    building,
    open_app,
    opened,
    palette_offers,
    prepare_steps,
    press_run_on_step,
    settle,
    text_of,
    until_root_prompt,
    until_screen,
    wait_for,
    wizard,
)
from tui.screens.build import BuildScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.preflight import PreflightScreen
from tui.screens.report import ReportScreen
from tui.screens.step import StepScreen
from tui.screens.validation import ValidationScreen
from tui.screens.welcome import WelcomeScreen
from tui.widgets.step_table import StepTable

__all__ = ["prepare_steps"]  # still importable from here, as tests on other branches do


@pytest.mark.parametrize("size", SIZES)
async def test_welcome_shows_distro_and_seven_steps(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    async with wizard(sandbox, monkeypatch, size) as (app, pilot):
        assert isinstance(app.screen, WelcomeScreen)
        assert "SUSE Linux Enterprise Server 12 SP2, family sles" in text_of(
            app.screen.query_one("#distro", Static)
        )
        table = app.screen.query_one(StepTable)
        assert table.row_count == 7
        assert "pending" in str(table.get_row_at(0)[1])
        assert not app.screen.query_one("#resume", Static).display


@pytest.mark.parametrize("size", SIZES)
async def test_every_step_is_reached_with_the_keyboard(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    async with wizard(sandbox, monkeypatch, size) as (app, pilot):
        await pilot.press("enter")
        await settle(pilot)
        for number in range(1, 8):
            assert isinstance(app.screen, StepScreen), app.screen
            assert app.screen.number == number
            title = text_of(app.screen.query_one("#step-title", Static))
            assert title.startswith(f"Step {number}:")
            await pilot.press("n")
            await settle(pilot)
        assert isinstance(app.screen, ValidationScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.number == 7
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.number == 6
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert len(app.screen_stack) == 2  # navigation never piles screens up
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.number == 3


async def test_a_failed_step_shows_its_output_and_fix_then_retry_succeeds(
    make_sandbox: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb: Sandbox = make_sandbox(omit=("useradd",))  # type: ignore[operator]
    async with wizard(sb, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, 2)
        # The preflight names the missing useradd first; the admin goes on anyway.
        await until_screen(pilot, PreflightScreen)
        await pilot.press("g")
        await until_root_prompt(pilot)  # seen first
        assert "useradd -m -d /home/tmsadm" in text_of(app.screen.query_one("#detail", Static))
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        state = app.driver.state
        assert state is not None and state.step(2).status == StepStatus.FAILED
        failure = text_of(screen.query_one("#failure", Static))
        assert "useradd: command not found" in failure
        assert "press r to retry" in failure
        assert app.screen.check_action("retry", ()) is True

        install_tool(sb.fakebin, "useradd")  # the admin fixes it
        await pilot.press("t")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("a")  # yes to all root actions of this run
        await settle(pilot)
        state = app.driver.state
        assert state is not None
        assert state.step(2).status == StepStatus.DONE, state.step(2)
        assert not screen.query_one("#failure", Static).display
        assert sb.target("/etc/sudoers.d/tmsadm").exists()


async def test_refusing_a_root_action_runs_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, 2)
        await until_root_prompt(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert sandbox.calls("useradd") == []
        assert "not confirmed" in text_of(app.screen.query_one("#notice", Static))


async def test_build_screen_follows_a_replayed_bazel_build(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare_steps(sandbox, 2, 3, 4)
    async with wizard(sandbox, monkeypatch, FAKE_BAZEL_SPEED="20") as (app, pilot):
        await press_run_on_step(pilot, 5)  # step 5 runs on the build screen
        await wait_for(pilot, lambda: isinstance(app.screen, BuildScreen) and app.busy)
        seen: set[float] = set()
        reattach: set[str] = set()  # what the re-attach line said while the build ran

        def bar_read_until_the_build_ends() -> bool:
            seen.add(app.screen.query_one("#bar", ProgressBar).percentage or 0.0)
            detach = app.screen.query_one("#detach", Static)
            if app.busy and detach.display:
                reattach.add(text_of(detach))
            return not app.busy

        await wait_for(pilot, bar_read_until_the_build_ends, timeout=30)
        await settle(pilot)
        assert len(seen) > 3, seen  # the bar moved
        assert app.live is not None and app.live.outcome is not None and app.live.outcome.ok
        assert reattach == {
            "It keeps running if SSH drops or you quit (l). Re-attach from any shell with: "
            "`emlsetup --root /srv/hxe --state-dir /srv/state resume`"
        }
        assert not app.screen.query_one("#detach").display  # finished: nothing to re-attach
        assert app.screen.query_one("#build-log").line_count > 10  # type: ignore[attr-defined]


async def test_cancel_sends_one_interrupt_and_the_run_can_resume(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with building(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)  # asks first
        await pilot.press("s")
        await settle(pilot)
        assert app.live is not None and app.live.outcome is not None
        assert app.live.outcome.cancelled
    state = Session.open(
        Options(root=sandbox.root, state_dir=sandbox.state_dir, environ=sandbox.env())
    ).store.load()
    assert state is not None
    assert state.resume_point() == (5, "build")
    assert state.step(5).action("build").status == ActionStatus.PENDING


async def test_an_interrupted_run_is_offered_for_resume(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare_steps(sandbox, 2)
    session = Session.open(
        Options(root=sandbox.root, state_dir=sandbox.state_dir, environ=sandbox.env())
    )
    state = session.store.load()
    assert state is not None
    st = state.step(3)
    st.status, st.reason = StepStatus.PENDING, "interrupted during: Refresh the repositories"
    for a in st.actions[:4]:
        a.status = ActionStatus.DONE
    st.actions[4].attempts = 1
    state.current = (3, st.actions[4].id)
    state.requested = []  # as the wizard leaves it
    session.store.save(state)

    async with wizard(sandbox, monkeypatch) as (app, pilot):
        offer = app.screen.query_one("#resume", Static)
        assert offer.display
        assert f"Resume at step 3, action {st.actions[4].id}" in text_of(offer)
        assert "interrupted" in str(app.screen.query_one(StepTable).get_row_at(2)[1])
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.number == 3


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
async def test_report_is_exported_from_any_screen(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"report.{fmt}"
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        app.screen.query_one("#format", Select).value = fmt
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
    text = target.read_text()
    assert "Install TensorFlow Serving Python prerequisites" in text
    if fmt == "json":
        assert json.loads(text)["family"] == "sles"


async def test_help_and_palette_reach_everything(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = text_of(app.screen.query_one("#help-text", Static))
        for word in ("Run", "Retry", "Skip", "Cancel build", "Report", "Resume", "1-7"):
            assert word in help_text
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"step 6")
        await wait_for(pilot, lambda: palette_offers(app, "Step 6"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.number == 6


async def test_statuses_read_without_colour(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = open_app(sandbox, monkeypatch)
    assert os.environ.get("NO_COLOR") == "1"
    async with opened(app):
        svg = app.export_screenshot()
        assert "○&#160;pending" in svg or "○ pending" in svg


async def test_quitting_during_the_build_asks_then_stops_it_and_loses_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with building(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("q")
        await until_screen(pilot, ConfirmScreen)
        assert app.busy and app.return_value is None  # it asked instead of quitting
        await pilot.press("s")
        await wait_for(pilot, lambda: app.return_value is not None, timeout=30)
    assert app.return_value == 130  # what `emlsetup` exits with: interrupted
    assert sum("build" in c["argv"] for c in sandbox.calls("bazel")) == 1
    resumed = sandbox.run_cli("resume", "--yes", "--skip-preflight", "hana")  # 6-7 too
    assert "Resuming at step 5, action build" in resumed.stdout
    state = json.loads((sandbox.state_dir / "state.json").read_text())
    build = next(a for s in state["steps"] if s["number"] == 5 for a in s["actions"]
                 if a["id"] == "build")  # fmt: skip
    assert build["status"] == "done"
