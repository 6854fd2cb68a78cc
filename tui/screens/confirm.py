"""A question in a modal: the command in full, and buttons each with a key."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from tui.screens.modal import WizardModal
from tui.widgets.wrapping import Wrapped

Choice = tuple[str, str, str]  # (answer, label, key)
YES_NO: tuple[Choice, ...] = (("yes", "Yes", "y"), ("no", "No", "n"))


class ConfirmScreen(WizardModal[str]):
    BINDINGS = [Binding("escape", "answer('no')", "No", show=False)]

    def __init__(
        self,
        question: str,
        detail: str = "",
        choices: tuple[Choice, ...] = YES_NO,
        *,
        verbatim: bool = False,
    ):
        """``verbatim``: the detail is what will run or be written, backticks and all;
        otherwise a `command` in it is laid out to be copied (tui.widgets.wrapping)."""
        super().__init__()
        self.question, self.detail, self.choices = question, detail, choices
        self.verbatim = verbatim

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="question", markup=False)
            if self.detail:
                with VerticalScroll(id="detail-box"):
                    yield Static(
                        Wrapped((self.detail, ""), commands=not self.verbatim), id="detail"
                    )
            with Horizontal(id="buttons"):
                for answer, label, key in self.choices:
                    yield Button(
                        f"{label} ({key})", id=f"answer-{answer}", classes="answer", compact=True
                    )

    def on_mount(self) -> None:
        self.query_one(f"#answer-{self.choices[-1][0]}", Button).focus()

    def on_key(self, event: events.Key) -> None:
        for answer, _label, k in self.choices:
            if event.key == k:
                event.stop()
                event.prevent_default()
                self.dismiss(answer)
                return

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "answer-no").removeprefix("answer-"))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
