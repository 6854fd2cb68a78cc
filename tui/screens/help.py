"""Every key binding, read from the screens and the app themselves."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tui.screens.base import WizardModal


def binding_lines(title: str, bindings: list[BindingType]) -> Text:
    text = Text(title + "\n", style="bold")
    for b in bindings:
        if isinstance(b, Binding) and b.show:
            keys = b.key_display or ", ".join(k.strip() for k in b.key.split(","))
            text.append(f"  {keys:<14} {b.description or b.action}\n")
    return text


EXTRAS = """\
Also
  1-7            open that step (welcome screen)
  enter          open the step under the cursor (welcome screen)
  up, down       move; page up/down scroll a long screen
  tab            next field or button
  y, a, n        at a root prompt: yes, yes to all (every root action of every
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
                text = Text()
                for title, bindings in self.sections:
                    text.append_text(binding_lines(title, bindings))
                text.append(EXTRAS)
                yield Static(text, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
