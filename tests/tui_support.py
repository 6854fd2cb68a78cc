"""Opening the wizard on a sandboxed system, for pilot and snapshot tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from steps.core.session import Options, Session
from tests.sandbox import Sandbox
from tui.app import WizardApp

SIZES = [(80, 24), (120, 40)]
FIXED_PORT = "8500"  # snapshots must not show the sandbox's random port


def open_app(sb: Sandbox, monkeypatch: pytest.MonkeyPatch, **extra: str) -> WizardApp:
    """The real app on the sandbox; child commands get the sandbox's environment, and what
    the screens show does not depend on temporary paths or the clock."""
    env = sb.env(**extra)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    session = Session.open(Options(root=sb.root, state_dir=sb.state_dir, environ=env))
    app = WizardApp(session, clock=lambda: 1000.0)
    app.reattach = "emlsetup --root /srv/hxe --state-dir /srv/state resume"
    app.report_folder = Path("/srv/state")
    return app


async def settle(pilot: Pilot[int]) -> None:
    """Screen switches, workers (probes, runs) and their repaints, all finished."""
    await pilot.pause()
    # A worker waiting on a screen the test never answers fails the test instead of hanging CI.
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=300)
    await pilot.pause()
    await pilot.pause()


async def wait_for(pilot: Pilot[int], predicate: Callable[[], bool], timeout: float = 20) -> None:
    """Until the predicate holds (a modal opened by a worker thread, a build's progress)."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


async def open_build_in_progress(pilot: Pilot[int], app: WizardApp) -> None:
    """The build screen, started as the Run key on step 5 starts it, once Bazel has printed
    its first progress counter."""
    await settle(pilot)
    app.open_build(run=True)
    await wait_for(
        pilot, lambda: bool(app.live and app.live.tracker and app.live.tracker.done is not None)
    )
