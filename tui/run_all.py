"""Run all remaining steps from the wizard: one confirmation that lists every root command of
the run (as `emlsetup run` lists them, steps/cli/plan.py), then the steps one after another
as `emlsetup run --yes` runs them: through the same driver and engine as a step's Run key,
each on its own screen (step 5 on the build screen), stopping at the first failure with its
sentence. The preflight measures the whole run once, before its first step."""

from __future__ import annotations

import io
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.screen import ModalScreen

from steps.cli.plan import list_root_actions
from steps.core.model import Action
from tui import preflight
from tui.bridge import EventPump
from tui.driver import HANA_STEPS, Outcome
from tui.preflight import steps_text
from tui.screens.confirm import ConfirmScreen
from tui.shell import Wizard

if TYPE_CHECKING:
    from textual.app import App

BUILD_STEP = 5
CHOICES = (("yes", "Run them", "y"), ("no", "No", "n"))
STOPPED = "stopped by the preflight: nothing was run; fix what it showed and press a again"
NO_MORE = (
    "Nothing more is asked: the steps run one after another as `emlsetup run --yes` runs "
    "them, each on its screen, and the run stops at the first failure. q or c stops it."
)


def root_commands(wizard: Wizard, numbers: list[int]) -> str:
    """The root actions of these steps, in the words of `emlsetup run`."""
    driver = wizard.driver
    assert driver.plan is not None
    out = io.StringIO()
    list_root_actions(driver.session, driver.plan, numbers, out)
    return out.getvalue() or "No action of these steps needs root.\n"


def ask(app: App[int]) -> None:
    """The action behind `a` and the palette's "Run all remaining steps": one question;
    nothing runs unless it is answered yes."""
    wizard = cast(Wizard, app)
    driver = wizard.driver
    if wizard.busy:
        app.notify("a step is already running", severity="warning")
        return
    if driver.plan is None:
        app.notify("not a supported system: no steps to run", severity="warning")
        return
    numbers = driver.remaining()
    if not numbers:
        app.notify("every step is done or skipped: nothing left to run; v validates")
        return
    question = f"Run {steps_text(numbers).lower()} now, one after another?"
    detail = f"{root_commands(wizard, numbers)}\n{NO_MORE}"

    def answered(answer: str | None) -> None:
        if answer != "yes":
            return
        hana = any(n in HANA_STEPS for n in numbers) and driver.needs_passwords()
        if hana or (1 in numbers and driver.needs_system_password(1)):
            wizard.ask_passwords(lambda: start(app, numbers))
        else:
            start(app, numbers)

    app.push_screen(ConfirmScreen(question, detail, CHOICES), callback=answered)


def start(app: App[int], numbers: list[int]) -> None:
    wizard = cast(Wizard, app)
    if wizard.busy:
        return
    wizard.running_all = True  # busy from now until the last step's end is shown
    wizard.driver.stopping.clear()
    app.run_worker(
        partial(_run, app, numbers), name="run all", group="run", exclusive=True, thread=True
    )


def _yes(action: Action) -> bool:
    return True  # the one confirmation listed every root action of the run


def _run(app: App[int], numbers: list[int]) -> None:
    """The worker thread: the steps in order, each shown as it starts."""
    wizard = cast(Wizard, app)
    try:
        _steps(app, numbers)
    finally:  # whatever ended it, the wizard is free again (unless it is closing)
        if wizard.running_all and not wizard.leave_running:
            app.call_from_thread(_release, app)


def _release(app: App[int]) -> None:
    cast(Wizard, app).running_all = False
    app.screen.refresh_bindings()


def _steps(app: App[int], numbers: list[int]) -> None:
    wizard = cast(Wizard, app)
    driver = wizard.driver
    try:
        # As `emlsetup run`: a step that needs one the run does not include (skipped by the
        # admin), or a failed preflight, stops the run before anything runs.
        unmet = driver.unmet_need(*numbers)
        refused = Outcome(False, message=f"{unmet}.") if unmet is not None else None
        if refused is None and not preflight.passes(app, driver, *numbers):
            refused = Outcome(False, message=STOPPED)
    except Exception as exc:  # a probe problem
        refused = _internal(exc)
    if refused is not None:  # said on the first step's screen
        live = app.call_from_thread(_begin, app, numbers[0])
        app.call_from_thread(_end, app, live, refused, True)
        return
    for number in numbers:
        if driver.stopping.is_set():  # interrupted between two steps: none starts
            return
        live = app.call_from_thread(_begin, app, number)
        try:
            outcome = driver.run_step(number, _yes, live.put)
        except Exception as exc:  # shown on the screen; the state on disk is intact
            outcome = _internal(exc)
        if wizard.leave_running:  # the app is closing: nobody to tell
            return
        last = number == numbers[-1] or not outcome.ok
        app.call_from_thread(_end, app, live, outcome, last)
        if last:
            return


def _internal(exc: Exception) -> Outcome:
    return Outcome(False, message=f"internal error: {type(exc).__name__}: {exc}")


def _begin(app: App[int], number: int) -> EventPump:
    """On the event loop: the step's run as the screens follow it, and its screen, unless
    the admin is reading a question (quit, help, report), which is never replaced."""
    wizard = cast(Wizard, app)
    live = wizard.new_pump(number)
    if not isinstance(app.screen, ModalScreen):
        if number == BUILD_STEP:
            wizard.open_build()
        else:
            wizard.open_step(number)
    return live


def _end(app: App[int], live: EventPump, outcome: Outcome, last: bool) -> None:
    wizard = cast(Wizard, app)
    if last:
        wizard.running_all = False  # before the screens hear of the end: Run is back
    wizard.run_done(live, outcome)
    if last and outcome.ok:
        app.notify("All remaining steps done: validate the setup in HANA")
        if not isinstance(app.screen, ModalScreen):
            wizard.open_validation()
