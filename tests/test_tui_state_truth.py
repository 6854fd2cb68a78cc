"""What the wizard says about a run is what is so (issue 23, item 5): a step done, unverified
is not "an earlier run that stopped"; a build left running reads "running", not "pending",
and one that has ended since is not "stopped"; and a second wizard on the same state folder
is refused at start, naming the first one's pid, instead of offering to follow the build
the first one follows (the choice: one wizard per state folder, as one headless run)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from textual.widgets import Static

from steps.core.state import StepStatus
from tests.sandbox import Sandbox
from tests.test_tui_leave_running import Terminal
from tests.tui_support import (
    building,
    press_run_on_step,
    settle,
    statuses,
    text_of,
    until_screen,
    wait_for,
    wizard,
)
from tui.app import WizardApp
from tui.screens.build import BuildScreen
from tui.screens.passwords import PasswordScreen
from tui.screens.preflight import PreflightScreen
from tui.screens.step import StepScreen
from tui.screens.welcome import WelcomeScreen
from tui.widgets.step_table import StepTable


def offer(app: WizardApp) -> str:
    box = app.screen.query_one("#resume", Static)
    return text_of(box) if box.display else ""


def step_5_row(app: WizardApp) -> str:
    return str(app.screen.query_one(StepTable).get_row_at(4)[1])


def build_exit_file(sb: Sandbox) -> Path:
    state = json.loads((sb.state_dir / "state.json").read_text())
    step = next(s for s in state["steps"] if s["number"] == 5)
    build = next(a for a in step["actions"] if a["id"] == "build")
    return Path(build["commands"][-1]["exit_file"])


async def leave_the_build_running(sb: Sandbox, monkeypatch: pytest.MonkeyPatch, speed: str) -> int:
    """A wizard starts step 5's build, then stops following it, as "Quit, build keeps
    going" does before the wizard closes. Returns the build's pid."""
    async with building(sb, monkeypatch, speed) as (app, pilot):
        app.driver.leave()
        await wait_for(pilot, lambda: not app.busy, timeout=60)
        left = app.driver.running_build()
        assert left is not None
        return left[0]


async def test_a_step_done_unverified_is_not_an_earlier_run_that_stopped(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, 1)
        await until_screen(pilot, PasswordScreen)
        await pilot.press("enter")  # no passwords: step 1's HANA checks cannot run
        await until_screen(pilot, PreflightScreen)
        await pilot.press("g")
        await wait_for(pilot, lambda: not app.busy)
        await settle(pilot)
        assert statuses(app)[1] == StepStatus.UNVERIFIED
        app.open_welcome()
        await settle(pilot)
        says_unverified_and_nothing_stopped(app)
    async with wizard(sandbox, monkeypatch) as (app, pilot):  # opened again, the same
        says_unverified_and_nothing_stopped(app)


def says_unverified_and_nothing_stopped(app: WizardApp) -> None:
    assert isinstance(app.screen, WelcomeScreen)
    said = text_of(app.screen.query_one("#unverified", Static))
    assert said.startswith("? Step 1 is done, unverified"), said
    assert offer(app) == "", offer(app)  # nothing stopped: nothing to resume
    assert app.screen.check_action("resume", ()) is False


async def test_a_build_left_running_reads_running_everywhere(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = await leave_the_build_running(sandbox, monkeypatch, speed="1")
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        assert app.driver.running_build() is not None  # the build goes on
        assert step_5_row(app) == "▶ running"
        assert f"still going (pid {pid})" in offer(app)
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
        title = text_of(app.screen.query_one("#step-title", Static))
        assert title.endswith("[▶ running]"), title
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BuildScreen)
        title = text_of(app.screen.query_one("#build-title", Static))
        assert f"running in the background, pid {pid}" in title, title


async def test_a_build_that_ended_unseen_is_not_a_run_that_stopped(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await leave_the_build_running(sandbox, monkeypatch, speed="20")
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await wait_for(pilot, build_exit_file(sandbox).exists, timeout=60)  # it ends
        app.open_step(5)
        await settle(pilot)
        app.open_welcome()  # drawn again, now that it has ended
        await settle(pilot)
        said = offer(app)
        assert said == (
            "▶ The build left running earlier has ended: press r to open step 5, then r to "
            "read how it ended"
        ), said
        assert step_5_row(app) == "○ pending"  # its end is not read yet: not "done" either
        await pilot.press("r")  # as it says
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.number == 5
        await pilot.press("r")
        await wait_for(pilot, lambda: app.live is not None and app.live.outcome is not None)
        await settle(pilot)
        assert statuses(app)[5] == StepStatus.DONE
    assert sum("build" in c["argv"] for c in sandbox.calls("bazel")) == 1  # read, not rerun


def refused(term: Terminal, pid: int, sb: Sandbox) -> str:
    """The second wizard's whole output, once it has exited 2."""
    assert term.proc.wait(timeout=60) == 2
    term.reader.join(timeout=5)
    said = bytes(term.output).decode(errors="replace")
    assert f"emlsetup: another emlsetup (pid {pid}) is using {sb.state_dir}" in said, said
    assert "still going" not in said and "Validate" not in said  # it never opened
    return said


async def test_a_second_wizard_is_refused_while_the_first_follows_the_build(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with building(sandbox, monkeypatch, speed="1") as (app, pilot):
        second = Terminal(sandbox.cli_argv(), sandbox.env(TERM="xterm-256color"), (80, 24))
        try:
            refused(second, os.getpid(), sandbox)
        finally:
            second.close()
        assert app.busy  # the first wizard goes on following its build
        app.driver.cancel()
        await wait_for(pilot, lambda: not app.busy, timeout=60)


def test_a_second_wizard_is_refused_while_the_first_is_open(sandbox: Sandbox) -> None:
    env = sandbox.env(TERM="xterm-256color")
    first = Terminal(sandbox.cli_argv(), env, (80, 24))
    try:
        first.until(lambda: first.shows("Validate"), 60, "the first wizard's welcome screen")
        second = Terminal(sandbox.cli_argv(), env, (80, 24))
        try:
            refused(second, first.proc.pid, sandbox)
        finally:
            second.close()
        # A headless run is refused the same way: one process acts on a state folder.
        headless = sandbox.run_cli("run", "--yes", "--only-step", "2")
        assert headless.returncode == 2
        assert f"another emlsetup (pid {first.proc.pid})" in headless.stderr
        assert sandbox.calls("useradd") == []
        at = first.press("q")
        first.proc.wait(timeout=30)
        assert first.proc.returncode == 0, bytes(first.output[at:]).decode(errors="replace")
    finally:
        first.close()
    after = Terminal(sandbox.cli_argv(), env, (80, 24))  # the first one gone, its lock too
    try:
        after.until(lambda: after.shows("Validate"), 60, "the next wizard's welcome screen")
    finally:
        after.close()
