"""The wizard's preflight hook: measured in the run's worker thread before the engine
starts; a failure the admin has not accepted yet opens PreflightScreen, and the thread
waits for the answer as it does for a root prompt (tui.bridge.Confirmer)."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from checks.preflight import Row, failures
from tui.driver import Driver

if TYPE_CHECKING:
    from textual.app import App

STOPPED = "stopped by the preflight: nothing was run; fix what it showed and press r again"


def passes(app: App[int], driver: Driver, *numbers: int) -> bool:
    """True to run the steps: nothing failed, the admin accepted it before, or now."""
    if threading.current_thread() is threading.main_thread():
        return False  # never block the event loop
    rows = driver.preflight(*numbers)
    blocking = failures(rows, driver.accepted)
    if not blocking:
        return True
    what = steps_text(numbers) + (" needs" if len(numbers) == 1 else " need")
    answer: str = app.call_from_thread(_ask, app, what, rows)  # type: ignore[arg-type]
    if answer != "accept":
        return False
    driver.accepted |= {r.name for r in blocking}
    return True


def steps_text(numbers: tuple[int, ...] | list[int]) -> str:
    """For a sentence about a run's steps: "Step 3", "Steps 2-7", "Steps 1, 3, 5"."""
    if len(numbers) == 1:
        return f"Step {numbers[0]}"
    if list(numbers) == list(range(numbers[0], numbers[-1] + 1)):
        return f"Steps {numbers[0]}-{numbers[-1]}"
    return "Steps " + ", ".join(map(str, numbers))


async def _ask(app: App[int], what: str, rows: list[Row]) -> str:
    from tui.screens.preflight import PreflightScreen

    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def done(answer: str | None) -> None:
        if not future.done():
            future.set_result(answer or "no")

    await app.push_screen(PreflightScreen(what, rows), callback=done)
    return await future
