"""The key matrix: on every screen, every key its footer shows does what its label says, and
nothing else. Only Run (and Yes at the root prompt) may start a command; only Run and Skip
may change a step's state. Each key is pressed on a freshly opened wizard on a fresh system,
so one key's effect cannot hide another's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from steps.core.state import StepStatus
from tests.sandbox import Sandbox
from tests.tui_support import open_app, settle, started, statuses, text_of, wait_for
from tui.app import WizardApp
from tui.screens.build import BuildScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.passwords import PasswordScreen
from tui.screens.report import ReportScreen
from tui.screens.step import StepScreen
from tui.screens.validation import ValidationScreen
from tui.screens.welcome import WelcomeScreen

SCREENS = ["welcome", *[f"step-{n}" for n in range(1, 8)], "build", "validation"]


async def goto(app: WizardApp, pilot: object, screen: str) -> None:
    """The screen the way the palette reaches it (opening it must run nothing either)."""
    await settle(pilot)  # type: ignore[arg-type]
    if screen.startswith("step-"):
        app.open_step(int(screen.removeprefix("step-")))
    elif screen == "build":
        app.open_build()
    elif screen == "validation":
        app.open_validation()
    await settle(pilot)  # type: ignore[arg-type]
    if screen == "validation":  # the cursor starts in a password field, where letters are
        await pilot.press("tab", "tab")  # type: ignore[attr-defined]  # text: to the button
        assert app.focused is not None and app.focused.id == "check"


def shown_keys(app: WizardApp) -> list[tuple[str, str]]:
    """(key, action) of every binding the footer shows on the current screen."""
    found = []
    for active in app.active_bindings.values():
        b: Binding = active.binding
        if b.show and active.enabled:
            found.append((b.key.split(",")[0], b.action))
    return sorted(set(found))


def step_of(screen: Screen[object]) -> int | None:
    return screen.number if isinstance(screen, StepScreen) else None


def expected(screen: str, action: str) -> Callable[[WizardApp], bool]:
    """What the user expects to see after the key, given where they pressed it."""
    n = int(screen.removeprefix("step-")) if screen.startswith("step-") else 0
    table: dict[str, Callable[[WizardApp], bool]] = {
        "help": lambda app: isinstance(app.screen, HelpScreen),
        "export": lambda app: isinstance(app.screen, ReportScreen),
        "validate": lambda app: isinstance(app.screen, ValidationScreen),
        "build": lambda app: isinstance(app.screen, BuildScreen),
        "next": lambda app: (
            isinstance(app.screen, ValidationScreen) if n == 7 else step_of(app.screen) == n + 1
        ),
        "previous": lambda app: (
            isinstance(app.screen, WelcomeScreen) if n == 1 else step_of(app.screen) == n - 1
        ),
        "check": lambda app: "Not checked yet." not in text_of(
            app.screen.query_one("#summary", Static)
        ),
        # Run all: its one question, unanswered; nothing runs before it is answered.
        "run_all": lambda app: isinstance(app.screen, ConfirmScreen)
        and "Run steps 1-7 now" in text_of(app.screen.query_one("#question", Static)),
    }
    if action == "back":
        return {
            "build": lambda app: step_of(app.screen) == 5,
            "validation": lambda app: step_of(app.screen) == 7,
        }.get(screen, lambda app: isinstance(app.screen, WelcomeScreen))
    return table[action]


@pytest.mark.parametrize("screen", SCREENS)
async def test_every_shown_key_does_what_it_says_and_nothing_else(
    make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch, screen: str
) -> None:
    sb = make_sandbox()
    app = open_app(sb, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(app, pilot, screen)
        keys = shown_keys(app)
    actions = {a for _, a in keys}
    assert {"quit", "help", "export"} <= actions, keys  # everywhere, as README promises
    assert app.live is None and started(sb) == []  # opening the screen ran nothing

    for key, action in keys:
        (sb.state_dir / "state.json").unlink(missing_ok=True)  # a fresh system each time
        app = open_app(sb, monkeypatch)
        async with app.run_test(size=(80, 24)) as pilot:
            await goto(app, pilot, screen)
            before = statuses(app)
            await pilot.press(key)
            if action != "run":  # a run waits for the root prompt's answer: no settling
                await settle(pilot)
            where = f"{screen}: {key} ({action})"
            if action == "quit":
                assert app.return_value == 0, where
                continue
            if action == "run":
                await ran_nothing_without_yes(app, pilot, screen, where)
            elif action == "skip":
                await skipped_only_when_confirmed(app, pilot, screen, before, where)
            else:
                assert expected(screen, action)(app), f"{where}: now on {app.screen}"
                assert statuses(app) == before, where
                assert app.live is None, where
            assert started(sb) == [], where


async def ran_nothing_without_yes(app: WizardApp, pilot: object, screen: str, where: str) -> None:
    """Run: a HANA step asks for passwords, a root step shows its command and asks; a step
    whose needs are not met says which step first. Without Yes, nothing runs, and the step
    is not left "running"."""
    n = 5 if screen == "build" else int(screen.removeprefix("step-"))
    await pilot.pause()  # type: ignore[attr-defined]
    if n in (1, 7):
        await wait_for(pilot, lambda: isinstance(app.screen, PasswordScreen))  # type: ignore[arg-type]
        await pilot.press("escape")  # type: ignore[attr-defined]
    elif n in (2, 3):
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # type: ignore[arg-type]
        await pilot.press("n")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    await wait_for(pilot, lambda: not app.busy)  # type: ignore[arg-type]
    if n in (4, 5, 6):
        shown = app.screen.query_one("#build-message" if n == 5 else "#notice", Static)
        assert "run step 2 first" in text_of(shown), where
    assert all(s != StepStatus.RUNNING for s in statuses(app).values()), where


async def skipped_only_when_confirmed(
    app: WizardApp, pilot: object, screen: str, before: dict[int, StepStatus], where: str
) -> None:
    """Skip asks first, naming the step; Escape and No keep it; Skip it (s) skips it."""
    n = int(screen.removeprefix("step-"))
    for no in ("escape", "n"):
        asked = app.screen
        assert isinstance(asked, ConfirmScreen), f"{where}: skipped without asking"
        assert asked.question.startswith(f"Skip step {n} "), where
        await pilot.press(no)  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[arg-type]
        assert step_of(app.screen) == n and statuses(app) == before, f"{where}, then {no}"
        await pilot.press("s")  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[arg-type]
    await pilot.press("s")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert statuses(app) == {**before, n: StepStatus.SKIPPED}, where
    assert expected(screen, "next")(app), f"{where}: now on {app.screen}"
