"""A bounded tail of a command's output: lines arrive in batches, the full log is on disk.
Lines wider than the box are wrapped at spaces (continuation lines indented), never cut off:
a Bazel error's file and message are often past column 80."""

from __future__ import annotations

from textual.widgets import Log

from tui.widgets.wrapping import plain_lines

TAIL_LINES = 2000
CONTINUED = "  ↪ "


def wrap_lines(lines: list[str], width: int) -> list[str]:
    """Each line in pieces that fit ``width``, broken at spaces (never inside a word shorter
    than the box); pieces after the first are indented with a mark."""
    if width <= len(CONTINUED) + 10:
        return lines
    out: list[str] = []
    for line in lines:
        line = line.expandtabs(4)
        if len(line) <= width:
            out.append(line)
        else:
            # A `command` in the wizard's own lines (») is laid out to copy; the tools'
            # output is shown as it is, backticks and all.
            out += plain_lines(line, width, CONTINUED, commands=line.startswith("» "))
    return out


class LogTail(Log):
    def __init__(self, max_lines: int = TAIL_LINES, **kwargs: object) -> None:
        super().__init__(max_lines=max_lines, highlight=False, **kwargs)  # type: ignore[arg-type]
        self._unsized: list[str] = []  # lines that came before the box had a width

    def add(self, lines: list[str]) -> None:
        if not lines:
            return
        width = self.scrollable_content_region.width - 1  # the vertical scrollbar
        if width <= 0:  # not laid out yet: wrapped once its width is known
            self._unsized = (self._unsized + lines)[-(self.max_lines or TAIL_LINES) :]
            return
        tail = self._unsized + lines
        self._unsized = []
        tail = tail[-self.max_lines :] if self.max_lines else tail
        self.write_lines(wrap_lines(tail, width))

    def on_resize(self) -> None:
        if self._unsized and self.scrollable_content_region.width > 1:
            waiting, self._unsized = self._unsized, []
            self.add(waiting)
