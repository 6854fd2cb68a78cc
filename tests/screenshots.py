"""Pictures of every screen, from the test sandbox: `python -m tests.screenshots [folder]`
writes one SVG per screen and size into screenshots/. The snapshot tests replay the same
scenes, so the pictures in the README are the screens the tests check."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from steps.bazel.exit_codes import bazel_failure
from steps.core.engine import Event
from steps.core.model import Manual
from steps.core.session import Options, Session
from steps.core.state import ActionStatus, CommandRecord, StepStatus
from tests.sandbox import Sandbox
from tests.tui_support import settle, wait_for
from tui.app import WizardApp
from tui.bridge import EventPump
from tui.driver import Outcome
from tui.messages import RunDone
from tui.screens.confirm import ConfirmScreen
from tui.screens.preflight import PreflightScreen

REPO = Path(__file__).resolve().parent.parent
BAZEL_FIXTURES = REPO / "tests" / "fixtures" / "bazel"
SIZES = [(80, 24), (120, 40)]
FIXED = {"EMLSETUP_SERVING__PORT": "8500"}  # pictures must not show a random port
NOW = 1000.0  # the screens' clock in pictures: elapsed times and silences are fixed


def _app(pilot: Pilot[Any]) -> WizardApp:
    assert isinstance(pilot.app, WizardApp)
    return pilot.app


# -- preparing the sandbox before the app starts -----------------------------------------
def no_useradd(fakebin: Path, app_factory: Callable[[], WizardApp]) -> None:
    (fakebin / "useradd").unlink(missing_ok=True)


def interrupted_run(fakebin: Path, app_factory: Callable[[], WizardApp]) -> None:
    """A state file as a run leaves it when the wizard was closed during step 3."""
    app = app_factory()
    state = app.driver.state
    assert state is not None
    for a in state.step(2).actions:
        a.status = ActionStatus.DONE
    state.step(2).status = StepStatus.DONE
    st = state.step(3)
    for a in st.actions[:4]:
        a.status = ActionStatus.DONE
    st.actions[4].attempts = 1
    st.reason = f"interrupted during: {st.actions[4].title}"
    state.current = (3, st.actions[4].id)
    state.requested = []
    app.driver.session.store.ensure_folder()
    app.driver.session.store.save(state)


def finished_run(fakebin: Path, app_factory: Callable[[], WizardApp]) -> None:
    """A state file as a run leaves it when every step is done."""
    app = app_factory()
    state, plan = app.driver.state, app.driver.plan
    assert state is not None and plan is not None
    for step in plan.steps:
        st = state.step(step.number)
        for action in step.actions:
            manual = isinstance(action, Manual)
            st.action(action.id).status = ActionStatus.MANUAL if manual else ActionStatus.DONE
        st.status = StepStatus.DONE
    app.driver.session.store.ensure_folder()
    app.driver.session.store.save(state)


# -- driving the app to a screen ---------------------------------------------------------
def keys(*pressed: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run


async def failed_step(pilot: Pilot[Any]) -> None:
    app = _app(pilot)
    await preflight_modal(pilot)
    await pilot.press("g")  # the admin goes on although useradd is missing
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, ConfirmScreen)
        and not isinstance(app.screen, PreflightScreen),
    )
    await pilot.press("a")
    await wait_for(pilot, lambda: not app.busy)
    await settle(pilot)


async def preflight_modal(pilot: Pilot[Any]) -> None:
    app = _app(pilot)
    await keys("2")(pilot)
    await pilot.press("r")  # not settle(): the run waits for the modal's answer
    await wait_for(pilot, lambda: isinstance(app.screen, PreflightScreen))


async def confirm_modal(pilot: Pilot[Any]) -> None:
    app = _app(pilot)
    await keys("2")(pilot)
    await pilot.press("r")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    await pilot.pause()


FAILED_LOG = "/srv/state/logs/20180601-101500-4f2a9c/5-build-101500.log"


def failed_build(app: WizardApp, live: EventPump) -> Outcome:
    """The state and the outcome a build that ended with Bazel's exit 1 leaves, as the
    engine words it; its log at a fixed path."""
    assert app.driver.state is not None and live.tracker is not None
    st = app.driver.state.step(5)
    build = st.action("build")
    build.commands = [
        CommandRecord(display="bazel build ...", user="tmsadm", log_file=FAILED_LOG, exit_code=1)
    ]
    build.status, st.status = ActionStatus.FAILED, StepStatus.FAILED
    live.ended = NOW
    return Outcome(False, message=f"{live.action_title} failed: {bazel_failure(1, live.tracker)}")


def replayed_build(
    fixture: str, lines: int | None, failed: bool = False
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """The build screen fed the first lines of a recorded Bazel run, at fixed times; with
    ``failed``, the run has ended there as a failed build."""

    async def run(pilot: Pilot[Any]) -> None:
        app = _app(pilot)
        await settle(pilot)
        live = EventPump(5, frozenset({"build"}), clock=app.clock)
        live.action_title = "Compile TensorFlow Serving (2-4 hours)"
        text = (BAZEL_FIXTURES / f"{fixture}.stderr.raw").read_text(errors="replace")
        assert live.tracker is not None
        taken = text.splitlines()[:lines]
        for i, line in enumerate(taken):
            t = NOW - 120 + 90 * i / max(1, len(taken))  # progress stopped 30 s ago
            live.tracker.feed(line, t)
            live.put(Event("line", 5, line))
        live.started = NOW - 125
        live.outcome = failed_build(app, live) if failed else None
        app.live = live  # a run under way: the screen follows it rather than starting one
        app.open_build()
        await settle(pilot)
        if live.outcome is not None:
            app.screen.post_message(RunDone(5, live.outcome))
            await settle(pilot)

    return run


async def finish_screen(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    _app(pilot).open_finish()  # as a validation that passed opens it
    await settle(pilot)


async def validation_checked(pilot: Pilot[Any]) -> None:
    await keys("v")(pilot)
    await pilot.press("enter")
    await settle(pilot)


def steady(run: Callable[[Pilot[Any]], Awaitable[None]]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """The scene, then a text field's cursor held still: a blinking one is drawn or not
    depending on when the picture is taken."""

    async def run_steady(pilot: Pilot[Any]) -> None:
        await run(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    return run_steady


@dataclass
class Scene:
    name: str
    run_before: Callable[[Pilot[Any]], Awaitable[None]]
    prepare: Callable[[Path, Callable[[], WizardApp]], None] | None = None

    def __post_init__(self) -> None:
        self.run_before = steady(self.run_before)


SCENES = [
    Scene("welcome", keys()),
    Scene("welcome-resume", keys(), interrupted_run),
    *[Scene(f"step-{n}", keys(str(n))) for n in range(1, 8)],
    Scene("step-2-failed", failed_step, no_useradd),
    Scene("confirm-root", confirm_modal),
    Scene("preflight", preflight_modal, no_useradd),
    Scene("build-running", replayed_build("01-first-build", 16)),
    Scene("build-errors", replayed_build("04-compile-error", None)),
    Scene("build-failed", replayed_build("04-compile-error", None, failed=True)),
    Scene("validation", keys("v")),
    Scene("validation-checked", validation_checked),
    Scene("passwords", keys("1", "r")),
    Scene("report", keys("e")),
    Scene("help", keys("question_mark")),
    Scene("run-all-confirm", keys("a")),
    Scene("finish", finish_screen, finished_run),
]


# -- the generator ------------------------------------------------------------------------
def scene_app(sb: Sandbox, scene: Scene, setenv: Callable[[str, str], None]) -> WizardApp:
    """The app on a sandbox, prepared for the scene; ``setenv`` gives the commands the wizard
    runs the sandbox's environment (pytest's monkeypatch in tests, os.environ here)."""
    env = sb.env(**FIXED)
    for key, value in env.items():
        setenv(key, value)

    def factory() -> WizardApp:
        session = Session.open(Options(root=sb.root, state_dir=sb.state_dir, environ=env))
        app = WizardApp(session, clock=lambda: NOW)
        app.reattach = "emlsetup --root /srv/hxe --state-dir /srv/state resume"
        app.report_folder = Path("/srv/state")
        app.logs_folder = Path("/srv/state/logs")
        return app

    if scene.prepare is not None:
        scene.prepare(sb.fakebin, factory)
    return factory()


async def shoot(scene: Scene, size: tuple[int, int], out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="emlsetup-shots-") as tmp:
        app = scene_app(Sandbox.create(Path(tmp)), scene, os.environ.__setitem__)
        async with app.run_test(size=size) as pilot:
            await scene.run_before(pilot)
            name = f"{scene.name}-{size[0]}x{size[1]}.svg"
            app.save_screenshot(name, str(out))
            if isinstance(app.screen, ConfirmScreen):
                app.screen.dismiss("no")  # the waiting run ends without running anything
            app.driver.cancel()
        return out / name


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else REPO / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for scene in SCENES:
        for size in SIZES:
            print(asyncio.run(shoot(scene, size, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
