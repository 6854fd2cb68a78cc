"""What a failed build says first: how many errors, where the full log is, and the first
error whole (file:line and message, wrapped, never cut); the others one row each. It sits
above the log box, so at 80x24 it is read without scrolling."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from steps.bazel.log import BuildError, BuildTracker
from tui.widgets.wrapping import Wrapped

OTHERS_SHOWN = 8  # further errors listed, one row each
OTHERS_SHOWN_SHORT = 1  # on a short screen the log box keeps its rows


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def first_error(tracker: BuildTracker) -> BuildError | None:
    """The error the build stops on, as `emlsetup run` names it: the compiler's file:line
    (not Bazel 4.2's BUILD line printed before it), else Bazel's first located error."""
    return tracker.first_error


def where(err: BuildError) -> str:
    return f"{err.file}:{err.line}: " if err.file else ""


def errors_text(
    tracker: BuildTracker, log_path: str | None, failed: bool, short: bool
) -> RenderableType | None:
    """None when there is nothing to say (no error, the build not failed)."""
    first = first_error(tracker)
    if first is None and not failed:
        return None
    count = len(tracker.errors) + tracker.errors_dropped
    log = f"`{log_path}`" if log_path else "the log"
    head = f"✘ {plural(count, 'error')}; the full text is in {log}" if count else ""
    if not count:
        head = f"✘ The full log is {log}" if log_path else ""
    parts: list[Text | tuple[str, str]] = [(head, "bold")] if head else []
    if first is not None:
        parts.append((f"\n  {where(first)}{first.message}", ""))
    blocks: list[RenderableType] = [Wrapped(*parts)] if parts else []
    others = [e for e in tracker.errors if e is not first]
    limit = OTHERS_SHOWN_SHORT if short else OTHERS_SHOWN
    if others:
        rows = Text("\n".join(f"  {where(e)}{e.message}" for e in others[:limit]))
        rows.no_wrap, rows.overflow = True, "ellipsis"  # one row per error
        blocks.append(rows)
    more = len(others) - limit + tracker.errors_dropped
    if more > 0:
        blocks.append(Text(f"  … and {more} more in the log"))
    return Group(*blocks) if blocks else None


class BuildErrors(Static):
    def show(
        self, tracker: BuildTracker, log_path: str | None, failed: bool, short: bool
    ) -> None:
        said = errors_text(tracker, log_path, failed, short)
        self.display = said is not None
        if said is not None:
            self.update(said)
