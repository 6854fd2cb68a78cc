"""A modal asking for the HANA passwords before a HANA step runs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from tui.screens.modal import WizardModal
from tui.widgets.password_form import PasswordForm


class PasswordScreen(WizardModal[dict[str, str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, system_user: str, ml_user: str, notice: str = "") -> None:
        super().__init__()
        self.users, self.notice = (system_user, ml_user), notice

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("This step talks to HANA. Passwords stay in memory only.", markup=False)
            if self.notice:
                yield Label(self.notice, id="demo-notice", markup=False)
            yield PasswordForm(*self.users)
            with Horizontal(id="buttons"):
                yield Button("Continue (enter)", id="ok", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(self.query_one(PasswordForm).values())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.dismiss(self.query_one(PasswordForm).values())
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
