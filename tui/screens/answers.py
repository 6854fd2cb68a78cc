"""Write the answers file from the last screen: this setup, for the next server (`emlsetup
--config FILE`, `export ansible`); the same file `emlsetup answers write -o FILE` writes."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from steps.cli.answers import save, text_for
from steps.core.session import Session, SessionError
from tui.screens.modal import WizardModal


class AnswersScreen(WizardModal[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: Session, default_dir: Path) -> None:
        super().__init__()
        self.session, self.default_dir = session, default_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(
                "Write the answers file: these settings and what was detected, every key "
                "explained, no password (they are given as before on the next server)",
                markup=False,
            )
            yield Label("File (Enter writes it):")
            yield Input(str(self.default_dir / "answers.toml"), id="path")
            yield Label("", id="answers-error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Write (enter)", id="write", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.write()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "write":
            self.write()
        else:
            self.dismiss(None)

    def write(self) -> None:
        path = Path(self.query_one("#path", Input).value).expanduser()
        try:
            said = save(path, text_for(self.session))
        except SessionError as exc:
            self.query_one("#answers-error", Label).update(str(exc))
            return
        self.dismiss(said)

    def action_cancel(self) -> None:
        self.dismiss(None)
