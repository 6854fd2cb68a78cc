"""A first-time admin cannot hurt themselves: opening a screen runs nothing, stopping a build
asks, a step run too early says which step comes first, the screens say what is true, keys
land where they are meant, and text fits 80x24 (issue 16)."""

from __future__ import annotations

import html
import re
import shlex
import subprocess
from collections import deque

import pytest
from textual.widgets import Button, Input, Static

from steps.bazel.log import BuildTracker
from steps.core.engine import Event
from steps.core.state import StepStatus
from tests.sandbox import Sandbox
from tests.tui_support import (
    building,
    open_app,
    opened,
    palette_offers,
    prepare_steps,
    press_run_on_step,
    screen_lines,
    settle,
    started,
    statuses,
    text_of,
    until_root_prompt,
    until_screen,
    wait_for,
    wizard,
    yes_to_all_until_done,
)
from tui.app import WizardApp
from tui.bridge import EventPump
from tui.screens.build import BuildScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.preflight import PreflightScreen
from tui.screens.report import ReportScreen
from tui.screens.step import StepScreen
from tui.screens.validation import ValidationScreen
from tui.screens.welcome import WelcomeScreen
from tui.widgets.build_progress import eta_now
from tui.widgets.log_view import CONTINUED, LogTail, wrap_lines


def screen_rows(app: WizardApp) -> list[str]:
    """The characters on screen, one string per row."""
    rows: dict[float, list[str]] = {}
    svg = app.export_screenshot()
    for y, t in re.findall(r'<text[^>]*?y="([0-9.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(y), []).append(html.unescape(t).replace("\xa0", " "))
    return ["".join(v) for _, v in sorted(rows.items())]


# -- 1: opening the build log runs nothing ------------------------------------------------
@pytest.mark.parametrize("how", ["key b on step 5", "palette"])
async def test_opening_the_build_log_on_a_fresh_system_starts_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        before = statuses(app)
        ticks = [0]

        def counting_clock() -> float:  # the build screen reads it on every tick
            ticks[0] += 1
            return 1000.0

        app.clock = counting_clock
        if how == "palette":
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Build log")
            await wait_for(pilot, lambda: palette_offers(app, "Build log"))
            await pilot.press("enter")
        else:
            await pilot.press("5")
            await settle(pilot)
            await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BuildScreen)
        seen = ticks[0]
        # Five ticks of the screen, or a run started (then the clock is the run's, no longer
        # read by every tick, and the assertions below say what went wrong).
        await wait_for(pilot, lambda: ticks[0] >= seen + 5 or app.live is not None)
        await settle(pilot)
        assert app.live is None and not app.busy
        assert "Not running." in text_of(app.screen.query_one("#counters", Static))
        assert statuses(app) == before
    assert started(sandbox) == []
    assert sandbox.calls("bazel") == sandbox.calls("git") == sandbox.calls("curl") == []


# -- 2: cancelling a build asks ------------------------------------------------------------
async def test_cancel_asks_saying_what_is_lost_and_no_keeps_building(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with building(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        detail = text_of(app.screen.query_one("#detail", Static))
        # What is true and what the status line says afterwards ("nothing done is lost"):
        # Bazel's cache keeps every finished action; only those under way are redone.
        assert "The build has run for 0:00:00." in detail and "time is lost" not in detail
        assert "Stopping it loses only the actions under way" in detail
        assert "what Bazel has finished stays in its cache" in detail
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, BuildScreen))  # no settle: it
        assert app.busy  # would wait for the build to end; it is still building
        assert app.driver.engine is not None and not app.driver.engine.cancelled.is_set()
        app.driver.cancel()
        await wait_for(pilot, lambda: not app.busy, timeout=60)


# -- 3: a step run before the step it needs ------------------------------------------------
@pytest.mark.parametrize("number", [4, 5, 6])
async def test_a_step_run_before_step_2_says_so_and_stays_pending(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, number: int
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, number)
        await settle(pilot)
        await wait_for(pilot, lambda: not app.busy)
        await settle(pilot)
        box = "#build-message" if number == 5 else "#notice"
        said = text_of(app.screen.query_one(box, Static))
        assert (
            f"step {number} cannot run yet: step 2 creates tmsadm, whose home /home/tmsadm "
            "this step uses; run step 2 first." in said
        )
        assert "Traceback" not in said and "internal error" not in said
        assert not isinstance(app.screen, ConfirmScreen)
        assert statuses(app)[number] == StepStatus.PENDING
        assert app.live is not None and app.live.outcome is not None
    assert started(sandbox) == []


# -- 4: screens that tell the truth --------------------------------------------------------
async def test_no_at_the_root_prompt_leaves_the_step_pending_and_nothing_to_resume(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        hint = text_of(app.screen.query_one("#hint", Static))
        assert "r: resume" not in hint and app.screen.check_action("resume", ()) is False
        await press_run_on_step(pilot, 2)
        await until_root_prompt(pilot)
        await pilot.press("n")
        await settle(pilot)
        title = text_of(app.screen.query_one("#step-title", Static))
        assert title.endswith("[○ pending]"), title
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert not app.screen.query_one("#resume", Static).display
        assert "r: resume" not in text_of(app.screen.query_one("#hint", Static))


async def test_welcome_says_a_step_is_running_not_that_a_run_stopped(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with building(sandbox, monkeypatch) as (app, pilot):
        app.open_welcome()
        await until_screen(pilot, WelcomeScreen)
        await wait_for(pilot, lambda: bool(text_of(app.screen.query_one("#resume", Static))))
        assert app.busy
        offer = text_of(app.screen.query_one("#resume", Static))
        assert offer.startswith("▶ Step 5 is running"), offer
        assert "stopped" not in offer
        assert app.screen.check_action("resume", ()) is False
        app.driver.cancel()
        await wait_for(pilot, lambda: not app.busy, timeout=60)


async def test_after_the_build_the_clock_stops_and_the_counter_is_full(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare_steps(sandbox, 2, 3, 4)
    app = open_app(sandbox, monkeypatch)
    now = [1000.0]
    app.clock = lambda: now[0]
    async with opened(app) as pilot:
        app.open_build(run=True)
        await wait_for(pilot, lambda: app.live is not None)
        now[0] += 65
        await wait_for(pilot, lambda: app.live is not None and app.live.outcome is not None)
        assert app.live is not None and app.live.outcome is not None and app.live.outcome.ok
        await settle(pilot)
        times = app.screen.query_one("#times", Static)
        assert text_of(times).startswith("Elapsed 0:01:05 · finished"), text_of(times)
        now[0] += 3600  # an hour later, the build's time has not grown
        # A late line through the run's pump: shown by the screen's next tick, which has
        # then redrawn the times too.
        assert app.live is not None
        app.live.put(Event("line", 5, "a line after the hour"))
        log = app.screen.query_one("#build-log", LogTail)
        await wait_for(pilot, lambda: any("a line after the hour" in x for x in log.lines))
        assert text_of(times).startswith("Elapsed 0:01:05"), text_of(times)
        counters = text_of(app.screen.query_one("#counters", Static))
        done, total = re.match(r"\[(\d+) / (\d+)\]", counters).groups()  # type: ignore[union-attr]
        assert done == total, counters


def test_the_eta_counts_down_between_bazel_progress_lines() -> None:
    tracker = BuildTracker()
    tracker.samples = deque([(0.0, 0, 100), (60.0, 10, 100), (120.0, 20, 100)])
    at_line = eta_now(tracker, 120.0)
    later = eta_now(tracker, 420.0)  # five minutes without a progress line
    assert at_line is not None and later is not None
    assert at_line.seconds == pytest.approx(480.0)
    assert later.seconds == pytest.approx(180.0)
    assert later.low <= later.seconds <= later.high


async def test_status_counts_what_every_step_of_the_wizard_changed(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, 2)
        await until_root_prompt(pilot)
        await yes_to_all_until_done(pilot)
        await pilot.press("r")  # again: everything is found done, nothing changes now
        await wait_for(pilot, lambda: app.live is not None and app.live.outcome is not None)
        await wait_for(pilot, lambda: not app.busy)
        await settle(pilot)
    said = sandbox.run_cli("status").stdout
    assert "changed by the last run: yes" in said, said


# -- 5: keys that land where they are meant ------------------------------------------------
async def test_validation_screen_keys_work_and_type_nothing_into_passwords(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ValidationScreen)
        first = screen.query(Input).first()
        assert app.focused is first  # the cursor starts in the first password field
        await pilot.press("tab", "tab")  # past the second field, to the button
        assert isinstance(app.focused, Button)
        for key, modal in (("e", ReportScreen), ("question_mark", HelpScreen)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, modal), key
            await pilot.press("escape")
            await settle(pilot)
        assert [i.value for i in screen.query(Input)] == ["", ""]
        await pilot.press("q")
        await settle(pilot)
    assert app.return_value == 0


async def test_fast_typing_with_tab_fills_each_field(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        app.open_validation()
        await settle(pilot)
        first, second = app.screen.query(Input)
        first.focus()
        await pilot.pause()
        # One burst, as a fast typist (or a password manager) sends it.
        await pilot.press(*"qe?Sys1", "tab", *"Mlq2e", "tab")
        await settle(pilot)
        assert (first.value, second.value) == ("qe?Sys1", "Mlq2e")
        assert isinstance(app.screen, ValidationScreen) and app.return_value is None


async def test_yes_to_all_covers_the_later_steps_too(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, 2)
        await until_root_prompt(pilot)
        label = app.screen.query_one("#answer-all", Button).label
        assert "Yes to all until you quit (a)" in str(label)
        await yes_to_all_until_done(pilot)
        assert statuses(app)[2] == StepStatus.DONE
        await pilot.press("n")  # step 3: its root actions are not asked again
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.number == 3
        await pilot.press("r")
        await wait_for(pilot, lambda: app.live is not None and app.live.number == 3)
        await wait_for(pilot, lambda: not app.busy, timeout=60)
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert statuses(app)[3] == StepStatus.DONE
    assert any("install" in c["argv"] for c in sandbox.calls("zypper"))


# -- 6: text an admin can use at 80x24 -----------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (140, 45)])
async def test_the_reattach_command_is_whole_and_pastes_as_one_command(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """Issue 23: at 80 columns the command was cut (`... --state-dir DIR/sandbox` and the
    rest off screen). Now its rows, copied as they are, paste as the same command."""
    app = open_app(sandbox, monkeypatch)
    command = (
        "emlsetup --root /srv/hxe --state-dir '/var/lib/emlsetup/state of this run' "
        "--set serving.port=8500 resume"
    )
    app.reattach = command
    async with opened(app, size) as pilot:
        app.live = EventPump(5, frozenset({"build"}), clock=app.clock)  # a build under way
        app.open_build()
        await settle(pilot)
        rows = screen_lines(app)
        start = next(i for i, r in enumerate(rows) if "Re-attach from any shell with:" in r)
        shown = []
        for row in rows[start + 1 :]:
            if row.strip().startswith("╭"):  # the log box
                break
            shown.append(row)
        app.live = None
    assert all(len(r) <= size[0] - 1 for r in shown), shown
    if size[0] > len(command) + 2:
        assert [r.strip() for r in shown] == [command]
    else:
        assert len(shown) > 1 and all(r.endswith(" \\") for r in shown[:-1]), shown
    assert pasted("\n".join(shown)) == shlex.split(command)


def pasted(text: str) -> list[str]:
    """The words bash reads from the text pasted at its prompt."""
    done = subprocess.run(
        ["/bin/bash", "-c", "printf '%s\\0' " + text], capture_output=True, text=True, check=True
    )
    return done.stdout.split("\0")[:-1]


async def test_the_footer_is_not_cut_at_80_columns(
    make_sandbox: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb: Sandbox = make_sandbox(omit=("useradd",))  # type: ignore[operator]
    async with wizard(sb, monkeypatch) as (app, pilot):
        await press_run_on_step(pilot, 2)  # a failed step: Retry joins the footer
        # The preflight names the missing useradd first; the admin goes on anyway.
        await until_screen(pilot, PreflightScreen)
        await pilot.press("g")
        await until_root_prompt(pilot)
        await yes_to_all_until_done(pilot)
        assert app.screen.check_action("retry", ()) is True
        for where in ("step", "step 5", "build", "validation", "welcome"):
            if where == "step 5":
                app.open_step(5)
            elif where == "build":
                app.open_build()
            elif where == "validation":
                app.open_validation()
            elif where == "welcome":
                app.open_welcome()
            await settle(pilot)
            if where == "validation":  # in a password field e is a letter: out to the button
                await pilot.press("tab", "tab")
            footer = screen_rows(app)[-1]
            assert "e Report" in footer and "^p palette" in footer, (where, footer)


def test_long_log_lines_wrap_instead_of_being_cut() -> None:
    line = "ERROR: /home/tmsadm/serving/tensorflow_serving/BUILD:17:1: " + "x" * 150 + " END"
    wrapped = wrap_lines([line, "short"], 78)
    assert all(len(part) <= 78 for part in wrapped)
    assert wrapped[-1] == "short" and wrapped[1].startswith(CONTINUED)
    joined = wrapped[0] + "".join(p.removeprefix(CONTINUED) for p in wrapped[1:-1])
    assert joined.replace(" ", "") == line.replace(" ", "")  # rows break at its spaces


async def test_log_box_at_80_columns_shows_the_end_of_a_long_line(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        app.open_build()
        await settle(pilot)
        log = app.screen.query_one("#build-log", LogTail)
        log.add(["ERROR: a very long Bazel message " + "y" * 120 + " THE-END"])
        await settle(pilot)
        assert any("THE-END" in row for row in screen_rows(app))


async def test_step_6_shows_what_it_did(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    prepare_steps(sandbox, 2, 3, 4, 5)
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("6", "r")
        await wait_for(pilot, lambda: app.live is not None and app.live.outcome is not None)
        await settle(pilot)
        log = app.screen.query_one("#run-log", LogTail)
        shown = "\n".join(log.lines)
        assert log.display and "» Start tensorflow_model_server on port" in shown, shown
        assert "» Create /home/tmsadm/export" in shown or "/home/tmsadm/export" in shown


