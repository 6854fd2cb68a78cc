"""Between the engine's worker thread and the event loop: events queue up in a deque the UI
drains on a timer (a log of any volume costs one repaint per tick, never one per line), and
root actions are confirmed in a modal the worker thread waits on."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from steps.bazel.log import BuildTracker
from steps.engine import Event, describe
from steps.model import Action
from tui.driver import Outcome

if TYPE_CHECKING:
    from textual.app import App

MAX_BATCH = 5000  # lines handed to the screen per tick; more wait for the next tick
TAIL = 5000  # lines kept for a screen that has not drained them yet


class EventPump:
    """Thread-safe: `put` from the engine's thread, `drain` on the event loop. Lines are
    bounded (a screen that does not drain them, or hours of build log, cost a fixed amount
    of memory); the Bazel tracker, when there is one, sees every line as it arrives."""

    def __init__(
        self,
        number: int,
        builds: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``builds``: ids of the step's Bazel actions; each starts a fresh tracker."""
        self.number, self.builds, self.clock = number, builds, clock
        self.tracker: BuildTracker | None = BuildTracker() if builds else None
        self.action_title = ""  # the engine's action under way
        self._lines: deque[str] = deque(maxlen=TAIL)
        self._events: deque[Event] = deque(maxlen=TAIL)
        self.outcome: Outcome | None = None
        self.started = clock()

    def put(self, event: Event) -> None:
        if event.kind == "line":
            if self.tracker is not None:
                self.tracker.feed(event.text, self.clock())
            self._lines.append(event.text)
        else:
            if event.kind == "action":
                self.action_title = event.text.splitlines()[0]
                if event.action in self.builds:
                    self.tracker = BuildTracker()
            self._events.append(event)

    def drain(self) -> tuple[list[str], list[Event]]:
        """(new log lines, other events) since the last drain."""
        lines = [self._lines.popleft() for _ in range(min(len(self._lines), MAX_BATCH))]
        events = [self._events.popleft() for _ in range(len(self._events))]
        return lines, events


class Confirmer:
    """The engine's confirm callback: a modal shows the command and who runs it; the worker
    thread waits for the answer. "All" answers yes for the rest of this run."""

    def __init__(self, app: App[int], who: Callable[[Action], str]) -> None:
        self.app, self.who = app, who
        self.yes_to_all = False
        self.asked: list[str] = []

    def __call__(self, action: Action) -> bool:
        if self.yes_to_all:
            return True
        if threading.current_thread() is threading.main_thread():
            return False  # never block the event loop
        self.asked.append(action.id)
        answer: str = self.app.call_from_thread(self._ask, action)  # type: ignore[arg-type]
        if answer == "all":
            self.yes_to_all = True
        return answer in ("yes", "all")

    async def _ask(self, action: Action) -> str:
        from tui.screens.confirm import ConfirmScreen

        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def done(answer: str | None) -> None:
            if not future.done():
                future.set_result(answer or "no")

        screen = ConfirmScreen(
            f"Run as {self.who(action)}: {action.title}?",
            describe(action),
            choices=(("yes", "Yes", "y"), ("all", "Yes to all", "a"), ("no", "No", "n")),
        )
        await self.app.push_screen(screen, callback=done)
        return await future
