"""Text fields own the keyboard: on every screen with a text field, focus starts in the first
empty one, and every letter the wizard binds anywhere (q quits, e exports, r runs, s skips...)
typed there is a character of the password or path, never a command. Typing fast, Tab
included, lands in the fields the admin meant."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable

import pytest
from textual import events
from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette
from textual.keys import key_to_character
from textual.pilot import Pilot
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

import tui.screens
from tests.sandbox import Sandbox
from tests.tui_support import open_app, press_run_on_step, settle, started, until_screen
from tui.app import WizardApp
from tui.screens.answers import AnswersScreen
from tui.screens.build import BuildScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.file_dialog import FileDialog  # report and answers: never opened itself
from tui.screens.finish import FinishScreen
from tui.screens.help import HelpScreen
from tui.screens.passwords import PasswordScreen
from tui.screens.report import ReportScreen
from tui.screens.step import StepScreen
from tui.screens.validation import ValidationScreen
from tui.screens.welcome import WelcomeScreen

BOUND = (
    App,
    Screen,
    WizardApp,
    WelcomeScreen,
    StepScreen,
    BuildScreen,
    ValidationScreen,
    PasswordScreen,
    ReportScreen,
    HelpScreen,
    ConfirmScreen,
    FinishScreen,
    AnswersScreen,
)


def letter_keys() -> list[str]:
    """Every key bound to one printable character, by the wizard or by Textual, anywhere."""
    keys: set[str] = set()
    for owner in BOUND:
        for b in owner.BINDINGS:
            if isinstance(b, Binding):
                for key in b.key.split(","):
                    char = key_to_character(key.strip())
                    if char is not None and char.isprintable():
                        keys.add(key.strip())
    return sorted(keys)


async def to_validation(pilot: Pilot[int]) -> Screen[object]:
    await pilot.press("v")
    return await until_screen(pilot, ValidationScreen)


async def to_passwords(pilot: Pilot[int]) -> Screen[object]:
    await press_run_on_step(pilot, 1)  # step 1 talks to HANA: it asks for the passwords
    return await until_screen(pilot, PasswordScreen)


async def to_report(pilot: Pilot[int]) -> Screen[object]:
    await pilot.press("e")
    return await until_screen(pilot, ReportScreen)


async def to_answers(pilot: Pilot[int]) -> Screen[object]:
    """The answers box, as the last screen's w opens it (that screen needs a validated
    setup; the box is the same one)."""
    app = pilot.app
    assert isinstance(app, WizardApp)
    app.push_screen(AnswersScreen(app.driver.session, app.report_folder))
    return await until_screen(pilot, AnswersScreen)


async def to_palette(pilot: Pilot[int]) -> Screen[object]:
    await pilot.press("ctrl+p")
    return await until_screen(pilot, CommandPalette)


WITH_FIELDS: dict[str, Callable[[Pilot[int]], Awaitable[Screen[object]]]] = {
    "validation": to_validation,
    "passwords": to_passwords,
    "report": to_report,
    "answers": to_answers,
    "palette": to_palette,
}


def test_the_matrix_covers_every_screen_with_a_text_field() -> None:
    """A screen added with a text field joins WITH_FIELDS, or this fails."""
    with_fields = set()
    for info in pkgutil.iter_modules(tui.screens.__path__, "tui.screens."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == info.name and cls is not FileDialog:
                # its own fields, or its base's (the file dialogs' path field)
                source = "".join(
                    inspect.getsource(c) for c in cls.__mro__ if c.__module__.startswith("tui.")
                )
                if any(f"{name}(" in source for name in ("Input", "TextField", "PasswordForm")):
                    with_fields.add(cls)
    assert with_fields == {ValidationScreen, PasswordScreen, ReportScreen, AnswersScreen}


def test_the_matrix_knows_the_wizards_letters() -> None:
    keys = letter_keys()
    for key in ("q", "e", "question_mark", "r", "s", "n", "p", "t", "v", "b", "c", "1"):
        assert key in keys, keys


@pytest.mark.parametrize("where", WITH_FIELDS)
async def test_every_letter_typed_in_a_text_field_is_text_and_fires_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    app = open_app(sandbox, monkeypatch)
    keys = letter_keys()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await WITH_FIELDS[where](pilot)
        await settle(pilot)
        fields = list(screen.query(Input))
        assert fields, f"{where} has no text field"
        stack = list(app.screen_stack)
        for index, field in enumerate(fields):
            if index:
                await pilot.press("tab")
            # Focus starts in the first empty field (the path, the only field, on report);
            # Tab moves to the next one.
            assert app.focused is field, f"{where}: focus on {app.focused!r}, not field {index}"
            await pilot.press("end")  # a filled field (the path) opens all selected
            for key in keys:
                before = field.value
                await pilot.press(key)
                await pilot.pause()
                said = f"{where}, field {index}: {key}"
                assert field.value == before + (key_to_character(key) or ""), said
                assert list(app.screen_stack) == stack, f"{said}: opened {app.screen!r}"
                assert app.return_value is None and app.is_running, f"{said}: quit"
                assert not app.busy and started(sandbox) == [], f"{said}: ran something"
        if isinstance(screen, ModalScreen):
            await pilot.press("escape")  # leaves without running or writing anything
            await settle(pilot)
    assert started(sandbox) == []
    assert not list((sandbox.state_dir).glob("emlsetup-report*"))
    assert not list((sandbox.state_dir).rglob("answers*.toml"))


BACK_TAB = "\x1b[Z"  # shift+tab, as a terminal sends it


def burst(app: App[int], typed: str) -> None:
    """Keys as a terminal delivers a burst (one read: a paste without bracketed paste, a
    password manager, a fast typist over SSH): each posted as Textual's driver posts what
    it parsed, none waiting for the one before it to be handled (Pilot.press waits)."""
    for n, piece in enumerate(typed.split(BACK_TAB)):
        if n:
            app.post_message(events.Key("shift+tab", None))
        for ch in piece:
            app.post_message(events.Key("tab" if ch == "\t" else ch, ch))


@pytest.mark.parametrize("where", ["validation", "passwords"])
async def test_typing_fast_with_tab_lands_in_both_password_fields(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    app = open_app(sandbox, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await WITH_FIELDS[where](pilot)
        burst(app, "abcd\tefgh")
        await settle(pilot)
        assert [f.value for f in screen.query(Input)] == ["abcd", "efgh"]
        burst(app, f"{BACK_TAB}xy")  # shift+tab back: the first field again
        await settle(pilot)
        first, second = (f.value for f in screen.query(Input))
        assert first.endswith("xy") and second == "efgh"  # (Textual selects a field entered)
        assert app.screen is screen
        if where == "passwords":
            await pilot.press("escape")
            await settle(pilot)
    assert started(sandbox) == []


@pytest.mark.parametrize(
    ("where", "keys", "expected"),
    [
        ("passwords", ["a", "b", "c", "d", "backspace", "e"], "abce"),
        ("report", ["ctrl+u", *"/tmp/r.md"], "/tmp/r.md"),
        ("answers", ["ctrl+u", "x", "home", "y"], "yx"),
    ],
)
async def test_editing_keys_in_a_burst_act_where_they_were_typed(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, where: str, keys: list[str], expected: str
) -> None:
    """Backspace, Ctrl+U, Home in one read with the letters around them (a slow SSH link, a
    password manager): each acts at its place in the typing, as it does typed slowly."""
    app = open_app(sandbox, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await WITH_FIELDS[where](pilot)
        await settle(pilot)
        for key in keys:  # posted at once, as the driver posts what one read parsed
            char = key if len(key) == 1 else {"backspace": "\x7f", "ctrl+u": "\x15"}.get(key)
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert screen.query(Input).first().value == expected
