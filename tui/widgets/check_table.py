"""Checks as a table that fits any width: status word and symbol (never colour alone), then
the check with what was measured, what was expected and, when it is not ok, the fix; long
text wraps inside the row instead of running off an 80-column screen."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from checks.result import CheckResult, Status
from tui.status import check_label
from tui.widgets.wrapping import plain_lines

STATUS_WIDTH = 7


def check_cell(r: CheckResult, width: int, prefix: str = "") -> Text:
    width = max(20, width)
    text = Text()
    lines = textwrap.wrap(prefix + r.name, width) or [""]
    text.append("\n".join(lines), style="bold")
    detail = f"measured: {r.measured or '-'} · expected: {r.expected or '-'}"
    for line in textwrap.wrap(detail, width, subsequent_indent="  "):
        text.append("\n" + line)
    if r.fix and r.status in (Status.FAIL, Status.WARN):
        for line in plain_lines("fix: " + r.fix, width, "  "):  # a `command` stays whole
            text.append("\n" + line, style="italic")
    return text


class CheckTable(DataTable[object]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.results: list[tuple[CheckResult, str]] = []
        self._width = 0

    def on_mount(self) -> None:
        self.add_column("Status", key="status", width=STATUS_WIDTH)
        self.add_column("Check: measured, expected, fix", key="check")

    def show(self, results: list[CheckResult], prefixes: list[str] | None = None) -> None:
        self.results = list(zip(results, prefixes or [""] * len(results), strict=True))
        self._fill()

    def _fill(self) -> None:
        self.clear()
        self._width = self.size.width or (self.app.size.width - 2)
        cell_width = self._width - STATUS_WIDTH - 6
        for r, prefix in self.results:
            self.add_row(check_label(r.status), check_cell(r, cell_width, prefix), height=None)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width and self.results:
            self._fill()
