"""Export the run report: a path and a format (md / json / html); written from the state."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from steps.core.report import FORMATS, render
from steps.core.state import RunState
from tui.screens.modal import WizardModal


def write_report(state: RunState, path: Path, fmt: str) -> str:
    """One sentence saying where the report went, or why it could not be written."""
    try:
        path.write_text(render(state, fmt))
    except OSError as exc:
        return f"cannot write {path} ({exc.strerror}); choose another path"
    return f"Report written to {path}"


class ReportScreen(WizardModal[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

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
            yield Label("File (Enter writes it):")
            yield Input(str(self.default_dir / "emlsetup-report.md"), id="path")
            yield Label("", id="report-error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Write (enter)", id="write", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @property
    def fmt(self) -> str:
        value = self.query_one("#format", Select).value
        return str(value) if value in FORMATS else FORMATS[0]

    def on_select_changed(self, event: Select.Changed) -> None:
        box = self.query_one("#path", Input)
        path = Path(box.value)
        if path.suffix.lstrip(".") in FORMATS:
            box.value = str(path.with_suffix("." + self.fmt))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.write()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "write":
            self.write()
        else:
            self.dismiss(None)

    def write(self) -> None:
        path = Path(self.query_one("#path", Input).value).expanduser()
        said = write_report(self.state, path, self.fmt)
        if said.startswith("cannot"):
            self.query_one("#report-error", Label).update(said)
            return
        self.dismiss(said)

    def action_cancel(self) -> None:
        self.dismiss(None)
