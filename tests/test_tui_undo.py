"""Issue 26 in the wizard: "Undo this step" on a step screen (the key appears once emlsetup
did something there, a modal lists every command of the undo first, root commands are
confirmed as a run's are, the step is pending again; No changes nothing), and the last
screen's offer to write the answers file."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from steps.core.state import StepStatus
from tests.sandbox import Sandbox
from tests.tui_support import (
    prepare_steps,
    settle,
    statuses,
    text_of,
    until_root_prompt,
    until_screen,
    wait_for,
    wizard,
)
from tui.screens.confirm import ConfirmScreen
from tui.screens.step import StepScreen


async def test_undo_this_step_lists_the_commands_then_undoes_after_the_root_prompt(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
        assert app.screen.check_action("undo", ()) is False  # nothing done here yet
    prepare_steps(sandbox, 2)
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        app.driver.hold()  # the state folder's lock, held while the wizard is open (run_wizard)
        await pilot.press("2")
        await settle(pilot)
        step = app.screen
        assert isinstance(step, StepScreen) and step.check_action("undo", ()) is True
        await pilot.press("u")
        modal = await until_screen(pilot, ConfirmScreen)
        assert "Undo step 2: Create a dedicated user?" in text_of(modal.query_one("#question"))
        detail = text_of(modal.query_one("#detail", Static))
        assert "$ rm -f /etc/sudoers.d/tmsadm   [root]" in detail
        assert "$ userdel -r tmsadm   [root]" in detail
        await pilot.press("n")  # No: nothing changes
        await settle(pilot)
        assert sandbox.target("/etc/sudoers.d/tmsadm").exists() and sandbox.calls("rm") == []

        await pilot.press("u")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")  # undo this step
        prompt = await until_root_prompt(pilot)  # then each root command, as a run asks
        assert "rm -f /etc/sudoers.d/tmsadm" in text_of(prompt.query_one("#detail", Static))
        await pilot.press("a")  # yes to all
        await wait_for(pilot, lambda: statuses(app)[2] == StepStatus.PENDING)
        await settle(pilot)
        assert not sandbox.target("/etc/sudoers.d/tmsadm").exists()
        assert "tmsadm:x:" not in sandbox.target("/etc/passwd").read_text()
        assert "undone" in text_of(step.query_one("#notice", Static))
        assert "pending" in text_of(step.query_one("#step-title", Static))
        assert step.check_action("undo", ()) is False
        assert app.driver.held is not None
        app.driver.held.release()


async def test_the_last_screen_writes_the_answers_file_of_this_setup(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 26: the last screen offers the answers file; it plans the same run elsewhere."""
    from tests.hana_server import Catalogue, HanaTestServer
    from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env
    from tui.screens.answers import AnswersScreen
    from tui.screens.finish import FinishScreen

    with HanaTestServer(Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})) as srv:
        env = hana_env(sandbox, srv, EMLSETUP_HANA__TENANT="HXE")
        ran = sandbox.run_cli("--set", "admin.user=tfadmin", "run", "--yes", env=env)
        assert ran.returncode == 0, ran.stdout[-2000:]
        async with wizard(sandbox, monkeypatch, **env) as (app, pilot):
            await pilot.press("v")
            await settle(pilot)
            await pilot.press("ctrl+r")
            finish = await until_screen(pilot, FinishScreen)
            await settle(pilot)
            assert "Write the answers file (w)" in str(finish.query_one("#answers").label)
            await pilot.press("w")
            modal = await until_screen(pilot, AnswersScreen)
            target = tmp_path / "answers.toml"
            box = modal.query_one("#path", Input)
            box.value = str(target)
            await pilot.press("enter")
            await wait_for(pilot, lambda: target.exists())
            await settle(pilot)
            assert isinstance(app.screen, FinishScreen)
    text = target.read_text()
    assert 'user = "tfadmin"' in text and SYSTEM_PW not in text and ML_PW not in text
    assert sandbox.run_cli("answers", "validate", str(target)).returncode == 0


async def test_a_folder_typed_as_the_answers_file_is_said_in_the_dialog_not_a_crash(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The answers box at 80x24: a folder (or an edited file) is one line under the box and
    the dialog stays; a file name then writes it."""
    from tests.tui_support import screen_lines
    from tui.screens.answers import AnswersScreen

    folder = tmp_path / "fleet"
    folder.mkdir()
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        app.push_screen(AnswersScreen(app.driver.session, folder))
        modal = await until_screen(pilot, AnswersScreen)
        await settle(pilot)
        box = modal.query_one("#path", Input)
        box.value = str(folder)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is modal and app.is_running
        said = text_of(modal.query_one("#file-error", Static))
        assert f"{folder}: is a folder; give a file name" in said, said
        inside = [row.split("█")[1] for row in screen_lines(app) if row.count("█") >= 2]
        shown = "".join(row.strip() for row in inside)  # the dialog's rows, read whole
        assert f"e.g.{folder}/answers.toml" in shown, inside  # a long path wraps anywhere
        assert "(they are given as before on the next server)" in " ".join(inside), inside
        box.value = str(folder / "answers.toml")
        await pilot.press("enter")
        await wait_for(pilot, lambda: (folder / "answers.toml").exists())
        await settle(pilot)
        assert not isinstance(app.screen, AnswersScreen)


async def test_the_undo_question_of_a_long_step_title_is_read_whole_at_80x24(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tui_support import screen_lines

    prepare_steps(sandbox, 2, 3, 4)
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("u")
        await until_screen(pilot, ConfirmScreen)
        await settle(pilot)
        inside = [row.split("█")[1] for row in screen_lines(app) if row.count("█") >= 2]
        shown = " ".join(" ".join(row.split()) for row in inside)  # the dialog's rows
    assert "Undo step 4: Install TensorFlow Serving Python prerequisites?" in shown, shown
    assert "Only what emlsetup did." in shown, shown
