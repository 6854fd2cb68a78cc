"""A bounded tail of a command's output: lines arrive in batches, the full log is on disk.
Lines wider than the box are wrapped (continuation lines indented), never cut off: a Bazel
error's file and message are often past column 80."""

from __future__ import annotations

from textual.widgets import Log

TAIL_LINES = 2000
CONTINUED = "  ↪ "


def wrap_lines(lines: list[str], width: int) -> list[str]:
    """Each line cut into pieces that fit ``width``; pieces after the first are indented."""
    if width <= len(CONTINUED) + 10:
        return lines
    out: list[str] = []
    rest = width - len(CONTINUED)
    for line in lines:
        line = line.expandtabs(4)
        if len(line) <= width:
            out.append(line)
            continue
        out.append(line[:width])
        out.extend(CONTINUED + line[i : i + rest] for i in range(width, len(line), rest))
    return out


class LogTail(Log):
    def __init__(self, max_lines: int = TAIL_LINES, **kwargs: object) -> None:
        super().__init__(max_lines=max_lines, highlight=False, **kwargs)  # type: ignore[arg-type]

    def add(self, lines: list[str]) -> None:
        if lines:
            tail = lines[-self.max_lines :] if self.max_lines else lines
            width = self.scrollable_content_region.width - 1  # the vertical scrollbar
            self.write_lines(wrap_lines(tail, width))
