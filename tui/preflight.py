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


def passes(app: App[int], driver: Driver, number: int) -> bool:
    """True to run the step: nothing failed, the admin accepted it before, or now."""
    if threading.current_thread() is threading.main_thread():
        return False  # never block the event loop
    rows = driver.preflight(number)
    blocking = failures(rows, driver.accepted)
    if not blocking:
        return True
    answer: str = app.call_from_thread(_ask, app, number, rows)  # type: ignore[arg-type]
    if answer != "accept":
        return False
    driver.accepted |= {r.name for r in blocking}
    return True


async def _ask(app: App[int], number: int, rows: list[Row]) -> str:
    from tui.screens.preflight import PreflightScreen

    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def done(answer: str | None) -> None:
        if not future.done():
            future.set_result(answer or "no")

    await app.push_screen(PreflightScreen(number, rows), callback=done)
    return await future
