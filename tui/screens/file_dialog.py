"""A dialog that writes one file the admin names (the report, the answers file): the path in
a text field, Enter or Write writes it, Escape or Cancel leaves, and a path that cannot be
written is said under the field (wrapped, never cut) while the dialog stays open."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from tui.screens.modal import WizardModal
from tui.widgets.text_field import TextField


class FileDialog(WizardModal[str | None]):
    """Subclasses compose their own head, then ``path_rows``, and write in ``write``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def path_rows(self, default: Path) -> ComposeResult:
        yield Label("File (Enter writes it):")
        yield TextField(str(default), id="path")
        yield Static("", id="file-error", markup=False)  # wraps; a Label is cut
        with Horizontal(id="buttons"):
            yield Button("Write (enter)", id="write", variant="primary", compact=True)
            yield Button("Cancel (esc)", id="cancel", compact=True)

    @property
    def path(self) -> Path:
        return Path(self.query_one("#path", Input).value).expanduser()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.write()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "write":
            self.write()
        else:
            self.dismiss(None)

    def refuse(self, said: str) -> None:
        """Why this path cannot be written; the admin types another."""
        self.query_one("#file-error", Static).update(said)

    def write(self) -> None:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)
