"""Undo this step, from its screen: what `emlsetup undo --step N` would do, shown in full in a
modal first; then the undo in a thread, its root commands confirmed as a run's are, the
checkout and Bazel's output base asked on their own, its lines in the step's log."""

from __future__ import annotations

from typing import Any, Protocol

from checks.result import CheckResult
from steps.core.engine import Event
from steps.core.model import Step
from tui.bridge import SAID, Asker, Confirmer
from tui.driver import Driver, Outcome
from tui.screens.confirm import ConfirmScreen
from tui.widgets.log_view import LogTail


class StepScreen(Protocol):
    """What of the step screen (tui/screens/step.py) the undo uses; a Protocol, so that the
    screen and this module do not import each other."""

    number: int
    message: str
    checks: list[CheckResult] | None

    @property
    def app(self) -> Any: ...
    @property
    def driver(self) -> Driver: ...
    @property
    def step(self) -> Step: ...
    def run_worker(self, work: Any, *, thread: bool, group: str, exclusive: bool) -> Any: ...
    def query_one(self, selector: str, expect_type: type[LogTail]) -> LogTail: ...
    def notify(self, message: str) -> None: ...
    def render_state(self) -> None: ...
    def inspect(self) -> Any: ...


def start(screen: StepScreen) -> None:
    """Reads what there is to undo (a thread: it asks the system), then asks."""
    screen.run_worker(lambda: _preview(screen), thread=True, group="undo", exclusive=True)


def _preview(screen: StepScreen) -> None:
    try:
        text = screen.driver.undo_preview(screen.number)
    except Exception as exc:  # a probe problem must not take the wizard down
        screen.app.call_from_thread(_done, screen, Outcome(False, message=str(exc)))
        return
    screen.app.call_from_thread(_ask, screen, text)


def _ask(screen: StepScreen, text: str) -> None:
    def answered(answer: str | None) -> None:
        if answer == "yes":
            log = screen.query_one("#run-log", LogTail)
            log.display = True
            log.clear()
            screen.run_worker(lambda: _run(screen), thread=True, group="undo", exclusive=True)

    question = f"Undo step {screen.number}: {screen.step.title}? Only what emlsetup did."
    choices = (("yes", "Undo this step", "y"), ("no", "No", "n"))
    screen.app.push_screen(ConfirmScreen(question, text, choices), callback=answered)


def _run(screen: StepScreen) -> None:
    app, driver = screen.app, screen.driver

    def said(event: Event) -> None:
        if event.kind in (*SAID, "line"):
            app.call_from_thread(_log, screen, event.text)

    try:
        outcome = driver.undo_step(screen.number, Confirmer(app, driver.who), Asker(app), said)
    except Exception as exc:  # shown on the screen; the state on disk is intact
        outcome = Outcome(False, message=f"internal error: {type(exc).__name__}: {exc}")
    app.call_from_thread(_done, screen, outcome)


def _log(screen: StepScreen, text: str) -> None:
    screen.query_one("#run-log", LogTail).add([f"» {line}" for line in text.splitlines()])


def _done(screen: StepScreen, outcome: Outcome) -> None:
    screen.message = outcome.message
    if outcome.ok:
        screen.notify(f"Step {screen.number} undone")
    screen.driver.reload()
    screen.checks = None
    screen.render_state()
    screen.inspect()
