"""Write the answers file from the last screen: this setup, for the next server (`emlsetup
--config FILE`, `export ansible`); the same file `emlsetup answers write -o FILE` writes."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from steps.cli.answers import save, text_for
from steps.core.session import Session, SessionError
from tui.screens.file_dialog import FileDialog


class AnswersScreen(FileDialog):
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
            yield from self.path_rows(self.default_dir / "answers.toml")

    def write(self) -> None:
        try:
            said = save(self.path, text_for(self.session))
        except SessionError as exc:
            self.refuse(str(exc))
            return
        self.dismiss(said)
