"""Every key binding, read from the screens and the app themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tui.screens.modal import WizardModal
from tui.widgets.wrapping import Wrapped


def binding_lines(title: str, bindings: list[BindingType]) -> list[tuple[str, str]]:
    """(text, style) parts: the section's title, then a row per shown key."""
    parts = [(title + "\n", "bold")]
    for b in bindings:
        if isinstance(b, Binding) and b.show:
            keys = b.key_display or ", ".join(k.strip() for k in b.key.split(","))
            parts.append((f"  {keys:<14} {b.description or b.action}\n", ""))
    return parts


EXTRAS = """\
Also
  1-7            open that step (welcome screen)
  enter          open the step under the cursor (welcome screen)
  up, down       move; page up/down scroll a long screen
  tab            next field or button
  y, a, n        at a root prompt: yes, yes to all (every root action of every \
step until you quit the wizard), no
  ctrl+p         command palette: every step, the build, validation, report
"""


class HelpScreen(WizardModal[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, sections: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Keys (Esc closes; Ctrl+P opens the command palette)")
            with VerticalScroll(id="help-body"):
                parts = [p for title, keys in self.sections for p in binding_lines(title, keys)]
                # Rows too long for the dialog go on under their description, not column 0.
                yield Static(Wrapped(*parts, (EXTRAS, "")), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
