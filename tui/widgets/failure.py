"""What went wrong: the failed action, its last meaningful output lines, and the fix."""

from __future__ import annotations

from textual.widgets import Static

from tui.widgets.wrapping import Wrapped


class FailurePanel(Static):
    def show(self, failure: tuple[str, list[str], str] | None, step_reason: str = "") -> None:
        if failure is None and not step_reason:
            self.display = False
            return
        self.display = True
        parts = [("✘ failed: ", "bold")]
        if failure is None:
            parts.append((step_reason + "\n", ""))
        else:
            title, tail, fix = failure
            parts.append((title + "\n", ""))
            if tail:
                parts.append(("Last lines of its output:\n", "bold"))
                parts += [(f"  | {line}\n", "") for line in tail[-12:]]
            if fix:
                parts += [("Fix: ", "bold"), (fix + "\n", "")]
        parts.append(("Then press r to retry.", "bold"))
        self.update(Wrapped(*parts))
