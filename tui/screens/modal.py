"""What every screen of the wizard does on opening, dialogs included: text fields own the
keyboard. Apart from tui.screens.base, which needs the app's shape (tui.shell): dialogs are
opened by the engine's bridge, which tui.shell itself imports."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from textual.screen import ModalScreen, Screen
from textual.widgets import Input

R = TypeVar("R")


def focus_first_field(screen: Screen[Any]) -> Input | None:
    """The cursor in the first empty text field (else the first one), if the screen has any.
    While an Input has focus Textual hands it every printable key before any binding, so a
    letter typed there is text; with focus left on a button or a table, the `e` of a
    password opened the report and a `q` quit the wizard (issue 23)."""
    fields = [f for f in screen.query(Input) if f.focusable]
    if not fields:
        return None
    field = next((f for f in fields if not f.value), fields[0])
    screen.set_focus(field)
    return field


class FieldsFirst:
    """Mixed into every screen of the wizard: it opens with the cursor in its first empty
    text field. Textual calls this on_mount after the screen's own."""

    def on_mount(self) -> None:
        focus_first_field(cast(Screen[Any], self))


class WizardModal(FieldsFirst, ModalScreen[R]):
    """A dialog over a wizard screen (a question, passwords, the report's path, help)."""
