"""What an admin reads in an 80x24 SSH window (issue 23): a failed build's first error and
its log's path without scrolling, commands that copy whole, words never cut in two, rows
that wrap under what they continue, footers that fit, sentences that say what is so."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from steps.core.actions import describe
from steps.core.engine import Event
from steps.core.model import Command, Manual
from steps.core.secret_input import missing_sentence
from steps.core.state import ActionStatus, StepStatus
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox
from tests.screenshots import BAZEL_FIXTURES
from tests.test_run_hana import ML_PW, SYSTEM_PW
from tests.tui_support import (
    on_screen,
    open_app,
    opened,
    pasted,
    prepare_steps,
    rows_through,
    screen_lines,
    settle,
    shown_in,
    until_screen,
    wait_for,
    wizard,
)
from tui.bridge import EventPump
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.passwords import PasswordScreen
from tui.screens.preflight import PreflightScreen
from tui.screens.report import ReportScreen
from tui.screens.step import StepScreen

BOX = "│┃█"  # a box's sides on a row


def inner(row: str) -> str:
    """A row's text inside the boxes it is drawn in."""
    return re.sub(f"^[\\s{BOX}]+|[\\s{BOX}]+$", "", row)


# -- a failed build ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_a_failed_build_shows_its_first_error_and_the_log_path_without_scrolling(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    prepare_steps(sandbox, 2, 3, 4)
    app = open_app(sandbox, monkeypatch, FAKE_BAZEL_FIXTURE="04-compile-error")
    async with opened(app, size) as pilot:
        app.open_build(run=True)
        await wait_for(pilot, lambda: app.live is not None and app.live.outcome is not None, 60)
        await settle(pilot)
        assert app.live is not None and app.live.tracker is not None
        # The error `emlsetup run` names too: the compiler's file:line, not Bazel's BUILD line.
        first = app.live.tracker.first_error
        assert first is not None and first.file and "BUILD" not in first.file
        assert app.driver.state is not None
        log = app.driver.state.step(5).action("build").commands[-1].log_file
        assert log is not None and first.message in Path(log).read_text()
        assert on_screen(app, f"{first.file}:{first.line}: {first.message}"), screen_lines(app)
        assert on_screen(app, f"the full text is in {log}"), screen_lines(app)
        assert on_screen(app, "Step 5: build TensorFlow Serving [✘ failed]")
        # A finished build has nothing to re-attach to.
        assert not on_screen(app, "It keeps running if SSH drops")


async def test_the_error_count_is_said_in_words(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        live = EventPump(5, frozenset({"build"}), clock=app.clock)
        assert live.tracker is not None
        live.tracker.feed("ERROR: /home/tmsadm/serving/BUILD:3:1: no such package 'foo'", 1.0)
        app.live = live
        app.open_build()
        await settle(pilot)
        assert on_screen(app, "✘ 1 error; the full text is in the log")
        assert not on_screen(app, "1 errors")
        app.live = None


async def test_log_lines_break_between_words(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bazel's progress lines at 80 columns: `runnin` / `g)` was the log box's wrap."""
    lines = (BAZEL_FIXTURES / "01-first-build.stderr.raw").read_text().splitlines()
    words = {w for line in lines for w in line.split()}
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        live = EventPump(5, frozenset({"build"}), clock=app.clock)
        for line in lines:
            live.put(Event("line", 5, line))
        app.live = live
        app.open_build()
        await settle(pilot)
        rows = screen_lines(app)
        app.live = None
    top = next(i for i, r in enumerate(rows) if r.strip().startswith("╭"))
    shown = [inner(r).removeprefix("↪").strip() for r in rows[top + 1 : -2]]
    assert any("running)" in r for r in shown), shown
    cut = [w for r in shown for w in r.split() if w not in words and w.strip("▁▂▃▄▅▆▇█")]
    assert cut == [], shown


# -- commands to copy -----------------------------------------------------------------------
async def test_a_hand_run_command_in_the_log_is_whole(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hxe_gc.sh skipped for want of the SYSTEM password: the engine's sentence says how to
    run it by hand, and the command is on a row of its own, never `hxe` / `adm`."""
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("1")
        await settle(pilot)
        action = app.driver.action(1, "hxe-gc")
        assert isinstance(action, Command)
        said = missing_sentence(action, "hxeadm", None)
        command = f"sudo su -l hxeadm -c {shlex.join(action.argv)}"
        live = EventPump(1)
        live.put(Event("skip", 1, said))
        app.live = live
        screen = app.screen
        assert isinstance(screen, StepScreen)
        screen.drain()
        await settle(pilot)
        rows = [inner(r) for r in screen_lines(app)]
        app.live = None
    assert command in rows, "\n".join(rows)


async def test_every_command_a_step_runs_pastes_as_that_command(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step 5's bazel command is wider than 80 columns: its rows, copied as they are shown,
    paste as the command (broken at spaces, each row but the last ending in ` \\`)."""
    async with wizard(sandbox, monkeypatch, size=(80, 120)) as (app, pilot):
        await pilot.press("5")
        await settle(pilot)
        rows = screen_lines(app)
        action = app.driver.action(5, "build")
    start = next(i for i, r in enumerate(rows) if "Compile TensorFlow Serving" in r)
    shown = []
    for row in rows[start + 1 :]:
        if not row.strip():
            break
        shown.append(row.replace(" $ ", "   ", 1) if not shown else row)
    assert len(shown) > 1 and all(r.endswith(" \\") for r in shown[:-1]), shown
    assert pasted("\n".join(shown)) == shlex.split(describe(action))


async def test_a_fix_with_a_command_ends_before_the_next_sentence(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure panel ran the fix into "Then press t" (`hdbuserstore list`Then press t)."""
    with HanaTestServer(Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})) as srv:
        async with wizard(
            sandbox,
            monkeypatch,
            EMLSETUP_HANA__ADDRESS="127.0.0.1",
            EMLSETUP_HANA__SQL_PORT=str(srv.port),
            EMLSETUP_HANA__CONNECT_TIMEOUT_S="3",
        ) as (app, pilot):
            await pilot.press("1", "r")
            await until_screen(pilot, PasswordScreen)
            await pilot.press("tab", *ML_PW, "enter")  # no SYSTEM password
            await until_screen(pilot, PreflightScreen)
            await pilot.press("g")
            await wait_for(pilot, lambda: not app.busy)
            await settle(pilot)
            rows = [inner(r) for r in screen_lines(app)]
    assert any(r.startswith("Then press ") for r in rows), rows
    assert not any(re.search(r"\wThen press", r) for r in rows), rows


async def test_run_all_lists_each_root_command_as_it_pastes(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run-all question lists every root command of the run in its box: a command wider
    than the box goes on indented rows, each but the last ending in ` \\`, and a word wider
    than the box (zypper addrepo's URL) is cut with a bare `\\`, its rest at column 0, so
    that copied from the dialog it pastes as the command. Before, `useradd ... 'TensorFlow
    Administrator'` went on with `tmsadm` on the next row: pasted, useradd without its user."""
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("a")
        dialog = await until_screen(pilot, ConfirmScreen)
        await settle(pilot)
        rows = await rows_through(pilot, dialog.query_one("#detail-box"))
        await pilot.press("n")
        plan = app.driver.plan
    assert plan is not None
    listed = [  # in the order `emlsetup run` lists them, one `step N:` row each at its start
        a for s in plan.steps for a in s.actions if a.needs_root and not isinstance(a, Manual)
    ]
    starts = [i for i, r in enumerate(rows) if r.startswith("  step ")]
    assert len(starts) == len(listed), rows
    checked, cut = 0, []
    for start, action in zip(starts, listed, strict=True):
        if not isinstance(action, Command):
            continue
        after = rows[start].split(": ", 1)[1:]
        shown = after or [rows[start + 1]]  # after `step N:`, or whole on the next row
        first = start + (0 if after else 1)
        while shown[-1].endswith("\\"):
            shown.append(rows[first + len(shown)])
        for above, row in zip(shown, shown[1:], strict=False):
            if above.endswith(" \\"):
                assert row.startswith("    "), rows  # under `step N:`
            else:  # a word wider than the box goes on at column 0, or it pastes as two
                assert not row.startswith(" "), rows
                cut.append(action.argv)
        assert pasted("\n".join(shown)) == action.argv, "\n".join(rows)
        checked += 1
    assert checked >= 13, checked
    assert any(r.endswith(" \\") for r in rows), rows  # a wide one was broken for pasting
    assert any("addrepo" in argv for argv in cut), rows  # the SLES 12 URL, cut and whole


async def test_a_report_path_that_cannot_be_written_is_said_whole_in_its_dialog(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """e, a file in a folder that does not exist, Enter: the sentence ended at the dialog's
    edge ("...; choose another" and no more; a Label does not wrap)."""
    target = tmp_path / "no such folder" / "emlsetup-report.md"
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("e")
        dialog = await until_screen(pilot, ReportScreen)
        await pilot.press("ctrl+u", *str(target), "enter")
        await settle(pilot)
        said = shown_in(app, dialog.query_one("#file-error"))
        rows = screen_lines(app)
    assert said == f"cannot write {target} (No such file or directory); choose another path", rows
    assert not target.parent.exists()


# -- rows that wrap under what they continue --------------------------------------------------
async def test_help_rows_wrap_under_their_description(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("question_mark")
        await until_screen(pilot, HelpScreen)
        app.screen.query_one("#help-body").scroll_end(animate=False)
        await settle(pilot)
        rows = screen_lines(app)
    at = next(i for i, r in enumerate(rows) if "ctrl+p" in r)
    column = rows[at].index("command palette")
    follow = rows[at + 1]
    assert re.search(r"\w", follow) and re.search(r"\w", follow).start() == column, rows  # type: ignore[union-attr]


@pytest.mark.parametrize("number", [1, 3, 5])
async def test_departure_notes_wrap_under_their_bullet(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, number: int
) -> None:
    """"Where the wizard departs from the tutorial": a note's second row started at column
    0, under its bullet, so the notes ran together; now it goes on under the note's words."""
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press(str(number))
        await settle(pilot)
        rows = await rows_through(pilot, app.screen.query_one("#body"))
    start = rows.index("Where the wizard departs from the tutorial") + 1
    notes = rows[start : rows.index("Prerequisites", start)]
    notes = notes[: next((i for i, r in enumerate(notes) if not r), len(notes))]
    assert len(notes) > len([r for r in notes if r.startswith("• ")]) > 0, rows
    assert all(r.startswith(("• ", "  ")) and r[2] != " " for r in notes), notes
    assert not any("`" in r for r in notes), notes  # a command is shown as one, not in quotes


async def test_preflight_continuation_rows_are_indented(
    make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = make_sandbox(omit=("useradd",))
    async with wizard(sb, monkeypatch) as (app, pilot):
        await pilot.press("2", "r")
        await until_screen(pilot, PreflightScreen)
        await pilot.pause()  # not settle(): the run waits for this dialog's answer
        rows = screen_lines(app)
        await pilot.press("n")  # nothing of the step runs
        await wait_for(pilot, lambda: not app.busy)
    at = next(i for i, r in enumerate(rows) if "measured: missing: useradd" in r)
    column = rows[at].index("measured:")
    follow = rows[at + 1]
    assert "visudo" in follow and follow.index("visudo") > column, rows


# -- footers --------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["pending", "failed", "done"])
@pytest.mark.parametrize("number", [1, 5, 7])
async def test_a_step_footer_fits_80_columns(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, number: int, status: str
) -> None:
    """Failed or done, emlsetup did something there (its first action): Undo is offered.
    A done step shows Undo where Skip was; elsewhere u works, listed in help (?)."""
    app = open_app(sandbox, monkeypatch)
    failed, done = status == "failed", status == "done"
    if status != "pending":
        state = app.driver.state
        assert state is not None
        state.step(number).status = StepStatus.FAILED if failed else StepStatus.DONE
        first = state.step(number).actions[0]
        first.status, first.performed = ActionStatus.DONE, True
        app.driver.session.store.ensure_folder()
        app.driver.session.store.save(state)
    async with opened(app) as pilot:
        app.open_step(number)
        await settle(pilot)
        footer = screen_lines(app)[-1]
        undo_key = app.screen.check_action("undo", ()) or app.screen.check_action("undo_here", ())
    assert "e Report" in footer and "^p palette" in footer, footer
    assert ("r Retry" in footer) == failed, footer
    assert ("n Validate" in footer) == (number == 7), footer
    assert ("u Undo" in footer) == done and ("s Skip" in footer) != done, footer
    assert bool(undo_key) == (status != "pending")


async def test_quit_during_a_build_names_the_reattach_command_whole(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(sandbox, monkeypatch)
    command = (
        "emlsetup --root /srv/hxe --state-dir '/var/lib/emlsetup/state of this run' "
        "--set serving.port=8500 resume"
    )
    app.reattach = command
    async with opened(app) as pilot:
        app.live = EventPump(5, frozenset({"build"}), clock=app.clock)  # a build under way
        app.open_build()
        await settle(pilot)
        await pilot.press("q")
        await until_screen(pilot, ConfirmScreen)
        rows = [inner(r) for r in screen_lines(app)]
        await pilot.press("n")
        app.live = None
    start = next(i for i, r in enumerate(rows) if "emlsetup --root" in r)
    end = next((i for i, r in enumerate(rows) if i >= start and r.endswith("resume")), None)
    assert end is not None, "\n".join(rows)
    shown = [rows[start][rows[start].index("emlsetup") :], *rows[start + 1 : end + 1]]
    assert pasted("\n".join(shown)) == shlex.split(command), rows
