"""Export the run report: a path and a format (md / json / html); written from the state."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select

from steps.core.report import FORMATS, render
from steps.core.state import RunState
from tui.screens.file_dialog import FileDialog


def write_report(state: RunState, path: Path, fmt: str) -> str:
    """One sentence saying where the report went, or why it could not be written."""
    try:
        path.write_text(render(state, fmt))
    except OSError as exc:
        return f"cannot write {path} ({exc.strerror}); choose another path"
    return f"Report written to {path}"


class ReportScreen(FileDialog):
    def __init__(self, state: RunState, default_dir: Path) -> None:
        super().__init__()
        self.state, self.default_dir = state, default_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Export the run report (no passwords are ever in it)", markup=False)
            yield Label("Format:")
            yield Select(
                [(f, f) for f in FORMATS], value=FORMATS[0], allow_blank=False, id="format"
            )
            yield from self.path_rows(self.default_dir / "emlsetup-report.md")

    @property
    def fmt(self) -> str:
        value = self.query_one("#format", Select).value
        return str(value) if value in FORMATS else FORMATS[0]

    def on_select_changed(self, event: Select.Changed) -> None:
        box = self.query_one("#path", Input)
        path = Path(box.value)
        if path.suffix.lstrip(".") in FORMATS:
            box.value = str(path.with_suffix("." + self.fmt))

    def write(self) -> None:
        said = write_report(self.state, self.path, self.fmt)
        if said.startswith("cannot"):
            self.refuse(said)
            return
        self.dismiss(said)
