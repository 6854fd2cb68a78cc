"""What went wrong: the failed action, its last meaningful output lines, and the fix."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class FailurePanel(Static):
    def show(self, failure: tuple[str, list[str], str] | None, step_reason: str = "") -> None:
        if failure is None and not step_reason:
            self.display = False
            return
        self.display = True
        text = Text("✘ failed: ", style="bold")
        if failure is None:
            text.append(step_reason)
        else:
            title, tail, fix = failure
            text.append(title + "\n")
            if tail:
                text.append("Last lines of its output:\n", style="bold")
                for line in tail[-12:]:
                    text.append(f"  | {line}\n")
            if fix:
                text.append("Fix: ", style="bold")
                text.append(fix + "\n")
        text.append("Then press t to retry.", style="bold")
        self.update(text)
