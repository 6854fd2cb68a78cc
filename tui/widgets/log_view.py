"""A bounded tail of a command's output: lines arrive in batches, the full log is on disk."""

from __future__ import annotations

from textual.widgets import Log

TAIL_LINES = 2000


class LogTail(Log):
    def __init__(self, max_lines: int = TAIL_LINES, **kwargs: object) -> None:
        super().__init__(max_lines=max_lines, highlight=False, **kwargs)  # type: ignore[arg-type]

    def add(self, lines: list[str]) -> None:
        if lines:
            self.write_lines(lines[-self.max_lines :] if self.max_lines else lines)
