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
from steps.output import Tail
from tui.driver import Outcome

if TYPE_CHECKING:
    from textual.app import App

MAX_BATCH = 2000  # lines handed to the screen per tick: what its log widget holds
TAIL_BYTES = 256 * 1024  # of output kept for a screen that has not drained it yet
TAIL = 5000  # events kept likewise


class EventPump:
    """Thread-safe: `put` from the engine's thread, `drain` on the event loop. Output is
    bounded (a screen that does not drain them, or hours of build log, cost a fixed amount
    of memory); the Bazel tracker is the engine's, handed over with the build's output."""

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
        self._output = Tail(TAIL_BYTES)
        self._lock = threading.Lock()  # drain swaps the tail put adds to
        self._events: deque[Event] = deque(maxlen=TAIL)
        self.outcome: Outcome | None = None
        self.started = clock()

    def put(self, event: Event) -> None:
        if event.kind == "line":
            with self._lock:
                self._output.add(f"{event.text}\n".encode())
        elif event.kind == "output":
            # The engine's tracker has read the block already; only its tail can be shown.
            self.tracker = event.tracker or self.tracker
            with self._lock:
                self._output.add(event.data)
        else:
            if event.kind == "action":
                self.action_title = event.text.splitlines()[0]
                if event.action in self.builds:
                    self.tracker = BuildTracker()
            self._events.append(event)

    def drain(self) -> tuple[list[str], list[Event]]:
        """(new log lines, other events) since the last drain."""
        with self._lock:
            output, self._output = self._output, Tail(TAIL_BYTES)
        lines = output.lines(MAX_BATCH)
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
