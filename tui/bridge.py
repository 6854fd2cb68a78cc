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
from steps.core.engine import Event, describe
from steps.core.model import Action
from steps.core.output import Tail
from tui.driver import Outcome

if TYPE_CHECKING:
    from textual.app import App

MAX_BATCH = 2000  # lines handed to the screen per tick: what its log widget holds
TAIL_BYTES = 256 * 1024  # of output kept for a screen that has not drained it yet
TAIL = 5000  # events kept likewise
SAID = ("action", "skip", "done", "failed", "manual", "stopped")  # shown in the log too


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
        self.ended: float | None = None  # the clock when the run ended: elapsed stops there

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
            if event.kind in SAID:
                # What the engine did, in order with what the commands printed: a step whose
                # commands print nothing (step 6's server logs to a file) still shows it.
                said = "".join(f"» {line}\n" for line in event.text.splitlines())
                with self._lock:
                    self._output.add(said.encode())
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


YES_TO_ALL = "Yes to all until you quit"


class Confirmer:
    """The engine's confirm callback: a modal shows the command and who runs it; the worker
    thread waits for the answer. "All" answers yes for the rest of the wizard's run (every
    later step too, until the wizard is closed): it is kept on the app, not per step."""

    def __init__(self, app: App[int], who: Callable[[Action], str]) -> None:
        self.app, self.who = app, who
        self.asked: list[str] = []

    @property
    def yes_to_all(self) -> bool:
        return bool(getattr(self.app, "yes_to_all", False))

    def __call__(self, action: Action) -> bool:
        if self.yes_to_all:
            return True
        if threading.current_thread() is threading.main_thread():
            return False  # never block the event loop
        self.asked.append(action.id)
        answer: str = self.app.call_from_thread(self._ask, action)  # type: ignore[arg-type]
        if answer == "all":
            self.app.yes_to_all = True  # type: ignore[attr-defined]
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
            choices=(("yes", "Yes", "y"), ("all", YES_TO_ALL, "a"), ("no", "No", "n")),
            verbatim=True,
        )
        await self.app.push_screen(screen, callback=done)
        return await future


class Asker:
    """The undo's questions of their own (remove the checkout? hours of build): a modal the
    worker thread waits on; No unless answered."""

    def __init__(self, app: App[int]) -> None:
        self.app = app

    def __call__(self, question: str) -> bool:
        if threading.current_thread() is threading.main_thread():
            return False  # never block the event loop
        answer: str = self.app.call_from_thread(self._ask, question)  # type: ignore[arg-type]
        return answer == "yes"

    async def _ask(self, question: str) -> str:
        from tui.screens.confirm import ConfirmScreen

        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def done(answer: str | None) -> None:
            if not future.done():
                future.set_result(answer or "no")

        await self.app.push_screen(ConfirmScreen(question), callback=done)
        return await future
