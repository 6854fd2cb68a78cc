"""Opening the wizard on a sandboxed system, for pilot and snapshot tests, and the steps every
pilot test shares (a wizard opened and settled, steps done beforehand, a build under way,
a step's Run key), so that each test reads as what the admin does and sees."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from rich.text import Text
from textual.command import CommandList
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from steps.core.session import Options, Session
from steps.core.state import StepStatus
from tests.sandbox import Sandbox
from tui.app import WizardApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.preflight import PreflightScreen

SIZES = [(80, 24), (120, 40)]
FIXED_PORT = "8500"  # snapshots must not show the sandbox's random port
# What the screens' checks may run: they read, never change (rpm -q, pip show...).
READ_ONLY = re.compile(
    r"\brpm -q\b|\bdpkg(-query)? |\bbazel version\b|\bpip (--version|show)\b|\bgit .*\b"
    r"(describe|rev-parse)\b|\bpython[0-9.]* -c\b|\bwhich\b"
)
S = TypeVar("S", bound=Screen[object])


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
    app.logs_folder = Path("/srv/state/logs")
    return app


@asynccontextmanager
async def opened(app: WizardApp, size: tuple[int, int] = (80, 24)) -> AsyncIterator[Pilot[int]]:
    """The app running headless, its first screen drawn and its probes done."""
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield pilot


@asynccontextmanager
async def wizard(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int] = (80, 24), **extra: str
) -> AsyncIterator[tuple[WizardApp, Pilot[int]]]:
    """The admin starts the wizard on the sandbox and it has settled on its first screen."""
    app = open_app(sb, monkeypatch, **extra)
    async with opened(app, size) as pilot:
        yield app, pilot


@asynccontextmanager
async def building(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, speed: str = "2"
) -> AsyncIterator[tuple[WizardApp, Pilot[int]]]:
    """Steps 2-4 done headless, then the wizard on step 5's build screen, the replayed Bazel
    build (``speed`` times real time) under way."""
    prepare_steps(sb, 2, 3, 4)
    app = open_app(sb, monkeypatch, FAKE_BAZEL_SPEED=speed)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_build_in_progress(pilot, app)
        yield app, pilot


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


async def until_screen(pilot: Pilot[int], kind: type[S]) -> S:
    """Until the screen on top is a ``kind`` (a modal a worker thread opens, a switch)."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind))
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


async def until_root_prompt(pilot: Pilot[int]) -> ConfirmScreen:
    """Until the root prompt (a ConfirmScreen that is not the preflight) is up."""
    await wait_for(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, ConfirmScreen)
            and not isinstance(pilot.app.screen, PreflightScreen)
        ),
    )
    assert isinstance(pilot.app.screen, ConfirmScreen)
    return pilot.app.screen


async def press_run_on_step(pilot: Pilot[int], number: int) -> None:
    """From the welcome screen: the step's key, then Run once its checks are read. Returns
    at once: the run waits for the answers to its preflight and root prompts."""
    await pilot.press(str(number))
    await settle(pilot)
    await pilot.press("r")


async def yes_to_all_until_done(pilot: Pilot[int]) -> None:
    """At the root prompt: "a" (yes to all), then until the run has ended and its screen has
    been redrawn."""
    await pilot.press("a")
    app = pilot.app
    assert isinstance(app, WizardApp)
    await wait_for(pilot, lambda: not app.busy)
    await settle(pilot)


async def open_build_in_progress(pilot: Pilot[int], app: WizardApp) -> None:
    """The build screen, started as the Run key on step 5 starts it, once Bazel has printed
    its first progress counter."""
    await settle(pilot)
    app.open_build(run=True)
    await wait_for(
        pilot, lambda: bool(app.live and app.live.tracker and app.live.tracker.done is not None)
    )


def prepare_steps(sb: Sandbox, *numbers: int) -> None:
    """Earlier steps done headless, the way an admin may have started with the CLI."""
    for n in numbers:
        done = sb.run_cli("run", "--yes", "--only-step", str(n))
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr


def text_of(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def started(sb: Sandbox) -> list[str]:
    """Every command a stand-in received that is not a read-only check."""
    calls = [" ".join([c["tool"], *(a for a in c["argv"] if "=" not in a)]) for c in sb.calls()]
    return [f"{c}" for c in calls if not READ_ONLY.search(c)]


def statuses(app: WizardApp) -> dict[int, StepStatus]:
    app.driver.reload()
    assert app.driver.state is not None
    return {s.number: s.status for s in app.driver.state.steps}


def palette_offers(app: WizardApp, text: str) -> bool:
    """The command palette has found a command with this text (its search runs in a worker)."""
    found = app.screen.query(CommandList)
    return bool(found) and any(
        text in str(found.first().get_option_at_index(i).prompt)
        for i in range(found.first().option_count)
    )


_CELL = re.compile(
    r'<text class="terminal-(?:\d+-)?r\d+" x="([0-9.]+)" y="[0-9.]+" textLength="[0-9.]+" '
    r'clip-path="url\(#terminal-(?:\d+-)?line-(\d+)\)">(.*?)</text>'
)


def screen_lines(app: WizardApp) -> list[str]:
    """What the admin reads on the screen, row by row, each character in its column (the
    exported picture leaves blank cells out; they are put back as spaces)."""
    width = app.size.width
    rows = [[" "] * width for _ in range(app.size.height)]
    for x, row, chunk in _CELL.findall(app.export_screenshot()):
        col = round(float(x) / 12.2)
        for i, ch in enumerate(html.unescape(chunk).replace("\xa0", " ")):
            if 0 <= col + i < width and int(row) < len(rows):
                rows[int(row)][col + i] = ch
    return ["".join(r).rstrip() for r in rows]


def on_screen(app: WizardApp, text: str) -> bool:
    """The text is on the screen as the admin reads it, wrapped over rows or not (compared
    without white space, so that a row break between two words does not matter)."""
    squashed = re.sub(r"\s+", "", "".join(screen_lines(app)))
    return re.sub(r"\s+", "", text) in squashed
