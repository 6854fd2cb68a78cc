"""The whole setup from the wizard (issue 23): "Run all remaining steps" asks once, listing
every root command of the run, then runs the steps as `emlsetup run --yes` does, each on its
screen; declining runs nothing; a failure, or quitting, stops it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import Input, Static

from steps.core.state import StepStatus
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env
from tests.tui_support import (
    palette_offers,
    settle,
    started,
    statuses,
    text_of,
    until_screen,
    wait_for,
    wizard,
)
from tui.app import WizardApp
from tui.screens.build import BuildScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.passwords import PasswordScreen
from tui.screens.step import StepScreen
from tui.screens.validation import ValidationScreen

ALL = {n: StepStatus.DONE for n in range(1, 8)}


@pytest.fixture
def hana() -> Iterator[HanaTestServer]:
    with HanaTestServer(Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})) as srv:
        yield srv


def watch(
    app: WizardApp, seen: list[Screen[object]], monkeypatch: pytest.MonkeyPatch
) -> Callable[[], bool]:
    """Until the run has ended, noting every screen the wizard shows on the way: each as it
    is pushed or switched to (a step on screen for less than a poll is still seen)."""
    for name in ("push_screen", "switch_screen"):
        real = getattr(app, name)

        def noted(screen: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if isinstance(screen, Screen):
                seen.append(screen)
            return _real(screen, *args, **kwargs)

        monkeypatch.setattr(app, name, noted)
    return lambda: not app.busy


async def test_run_all_asks_once_then_every_step_runs_to_done(
    sandbox: Sandbox, hana: HanaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch, **hana_env(sandbox, hana)) as (app, pilot):
        footer = app.screen.query_one("#hint", Static)
        assert "a: run all ·" in text_of(footer)
        await pilot.press("a")
        question = await until_screen(pilot, ConfirmScreen)
        asked = text_of(question.query_one("#question", Static))
        listed = text_of(question.query_one("#detail", Static)).replace("`", "")  # its marks
        assert asked == "Run steps 1-7 now, one after another?"
        assert "actions of this run need root (each is skipped if already done):" in listed
        assert "step 2: useradd -m -d /home/tmsadm -c 'TensorFlow Administrator' tmsadm" in listed
        assert "step 3: zypper --non-interactive install" in listed
        assert "Nothing more is asked" in listed and "stops at the first failure" in listed
        assert started(sandbox) == []  # asking ran nothing
        seen: list[Screen[object]] = []
        ended = watch(app, seen, monkeypatch)
        await pilot.press("y")
        await wait_for(pilot, ended, timeout=240)
        await settle(pilot)
        assert statuses(app) == ALL
        questions = [s for s in seen if isinstance(s, ConfirmScreen)]
        assert questions == [], questions  # no root prompt, no preflight question
        on = [s.number for s in seen if isinstance(s, StepScreen)]
        assert on == [1, 2, 3, 4, 6, 7], on  # each step on its screen, without a key
        assert any(isinstance(s, BuildScreen) for s in seen)  # step 5: the live build
        assert isinstance(app.screen, ValidationScreen)  # what comes next
        assert sum("build" in c["argv"] for c in sandbox.calls("bazel")) == 1
        await pilot.press("a")  # nothing left: said, not asked
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)


async def test_declining_run_all_from_the_palette_runs_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wizard(sandbox, monkeypatch) as (app, pilot):
        before = statuses(app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"run all")
        await wait_for(pilot, lambda: palette_offers(app, "Run all remaining steps"))
        await pilot.press("enter")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.live is None and not app.busy
        assert statuses(app) == before
    assert started(sandbox) == [] and sandbox.calls("useradd") == []
    assert not (sandbox.state_dir / "state.json").exists()


async def test_run_all_stops_at_the_first_failure_with_its_sentence(
    sandbox: Sandbox, hana: HanaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = hana_env(sandbox, hana, FAKE_FAIL="zypper:install")
    typed = {k: v for k, v in env.items() if "PASSWORD" not in k}  # asked for, this time
    async with wizard(sandbox, monkeypatch, **typed) as (app, pilot):
        await pilot.press("a")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        form = await until_screen(pilot, PasswordScreen)  # step 1 talks to HANA
        for box, secret in zip(form.query(Input), (SYSTEM_PW, ML_PW), strict=True):
            box.focus()
            await pilot.press(*secret)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.busy, timeout=120)
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.number == 3
        failure = text_of(app.screen.query_one("#failure", Static))
        assert "failed" in failure and "zypper" in failure, failure
        title = text_of(app.screen.query_one("#step-title", Static))
        assert title.endswith("[✘ failed]"), title
        done = statuses(app)
        assert (done[1], done[2], done[3]) == (StepStatus.DONE, StepStatus.DONE, StepStatus.FAILED)
        assert {done[n] for n in (4, 5, 6, 7)} == {StepStatus.PENDING}
        # the wizard is free again: the failed step offers Retry (r), no longer Run
        assert app.screen.check_action("retry", ()) is True
        assert app.driver.passwords  # typed once, kept in memory for the run's HANA steps
    assert sandbox.calls("pip") == [] and sandbox.calls("bazel") == []  # nothing after it


async def test_quitting_during_run_all_stops_it_and_no_later_step_starts(
    sandbox: Sandbox, hana: HanaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = hana_env(sandbox, hana, FAKE_BAZEL_SPEED="1")
    async with wizard(sandbox, monkeypatch, **env) as (app, pilot):
        await pilot.press("a")
        await until_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        build = await until_screen(pilot, BuildScreen)  # step 5, reached without a key
        await wait_for(pilot, lambda: bool(app.live and app.live.tracker and app.live.tracker.done))
        assert text_of(build.query_one("#build-title", Static)).endswith("[▶ running]")
        await pilot.press("q")
        await until_screen(pilot, ConfirmScreen)  # it asks first
        await pilot.press("s")  # stop it and quit
        await wait_for(pilot, lambda: app.return_value is not None, timeout=60)
    assert app.return_value == 130
    state = json.loads((sandbox.state_dir / "state.json").read_text())
    said = {s["number"]: (s["status"], s["reason"]) for s in state["steps"]}
    # Bazel's own exit 8, said: its finished actions are kept for the next run.
    assert said[5] == (
        "pending",
        "interrupted during: Compile TensorFlow Serving (2-4 hours): exit 8: The build was "
        "interrupted; finished actions are kept, so running the identical command again (same "
        "folder, same environment) resumes where it stopped.",
    )
    assert said[6] == ("pending", "") and said[7] == ("pending", "")
