"""The interactive wizard: a small shell that pushes screens. The screens render from the
run state (the state file is the truth) and drive the same engine as the headless CLI."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from steps.core.lock import LockedError
from steps.core.session import Options, Session, SessionError
from steps.core.settings import SettingsError
from steps.core.state import StateError
from tui import preflight, run_all
from tui.bridge import Confirmer, EventPump
from tui.commands import WizardCommands
from tui.demo_notice import demo_notice
from tui.driver import Driver, Outcome, reattach_command
from tui.messages import RunDone
from tui.screens.build import BuildScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.finish import FinishScreen
from tui.screens.help import HelpScreen
from tui.screens.passwords import PasswordScreen
from tui.screens.report import ReportScreen
from tui.screens.step import StepScreen
from tui.screens.validation import ValidationScreen
from tui.screens.welcome import WelcomeScreen
from tui.shell import Wizard

LAST_STEP, BUILD_STEP = 7, 5


class WizardApp(App[int]):
    TITLE = "emlsetup"
    CSS_PATH = "wizard.tcss"
    COMMANDS = App.COMMANDS | {WizardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("e", "export", "Report"),
    ]

    def __init__(self, session: Session, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.driver = Driver.open(session)
        self.clock: Callable[[], float] = clock
        self.reattach = reattach_command(session.options)
        self.leave_running = False
        self.yes_to_all = False  # "Yes to all" at a root prompt: every root action until quit
        self.demo_notice = demo_notice(session.options.environ)  # "" unless in tests.demo
        self.report_folder: Path = session.store.folder  # where reports go by default
        self.logs_folder: Path = session.store.folder / "logs"
        self.live: EventPump | None = None  # the run under way, or the last one
        self.running_all = False  # "Run all": busy between its steps too

    @property
    def busy(self) -> bool:
        return self.running_all or (self.live is not None and self.live.outcome is None)

    def on_mount(self) -> None:
        self.push_screen(WelcomeScreen())

    # -- navigation -------------------------------------------------------------------------
    def _go(self, screen: WelcomeScreen | StepScreen | BuildScreen | ValidationScreen) -> None:
        if isinstance(self.screen, WelcomeScreen):
            self.push_screen(screen)
        else:
            self.switch_screen(screen)

    def open_welcome(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, WelcomeScreen):
            self.pop_screen()
        if not isinstance(self.screen, WelcomeScreen):
            self.switch_screen(WelcomeScreen())

    def open_step(self, number: int) -> None:
        if self.driver.plan is None:
            self.notify("not a supported system: no steps to open", severity="warning")
        elif number < 1:
            self.open_welcome()
        elif number > LAST_STEP:
            self.open_validation()
        else:
            self._go(StepScreen(number))

    def open_build(self, *, run: bool = False) -> None:
        """The build's log and progress; it starts the build only when ``run`` (the Run key
        on step 5): opening the screen alone never runs anything."""
        if self.driver.plan is not None:
            self._go(BuildScreen(run=run))

    def open_validation(self) -> None:
        if self.driver.plan is not None:
            self._go(ValidationScreen())

    def open_finish(self) -> None:
        """The last screen, over the validation that passed: escape goes back to it."""
        if self.driver.plan is not None:
            self.push_screen(FinishScreen())

    def ask_passwords(self, then: Callable[[], None]) -> None:
        hana = self.driver.session.settings.hana

        def got(passwords: dict[str, str] | None) -> None:
            if passwords is not None:
                self.driver.passwords.update(passwords)
                then()

        self.push_screen(
            PasswordScreen(hana.system_user, hana.ml_user, self.demo_notice), callback=got
        )

    # -- running (one step at a time, in a thread; the engine blocks) ---------------------
    def new_pump(self, number: int) -> EventPump:
        """The run of one step as the screens follow it."""
        builds = frozenset(self.driver.build_actions(number))
        self.live = EventPump(number, builds, self.clock)
        left = self.driver.running_build() if builds else None
        if left is not None:  # re-attaching: the build's time counts from its own start
            self.live.started -= max(0.0, time.time() - left[1])
        return self.live

    def start_run(self, number: int) -> EventPump | None:
        if self.busy:
            self.notify("a step is already running", severity="warning")
            return None
        live = self.new_pump(number)
        self._run_thread(live)
        return live

    def action_run_all(self) -> None:
        run_all.ask(self)

    @work(thread=True, exclusive=True, group="run")
    def _run_thread(self, live: EventPump) -> None:
        try:
            # A step asked for before the step it needs says so (in run_step) rather than
            # showing a preflight of what that earlier step would have put in place.
            needs_met = self.driver.unmet_need(live.number) is None
            if needs_met and not preflight.passes(self, self.driver, live.number):
                outcome = Outcome(False, message=preflight.STOPPED)
            else:
                confirm = Confirmer(self, self.driver.who)
                outcome = self.driver.run_step(live.number, confirm, live.put)
        except Exception as exc:  # shown on the screen; the state on disk is intact
            outcome = Outcome(False, message=f"internal error: {type(exc).__name__}: {exc}")
        if not self.leave_running:  # the app is closing: nobody to tell
            self.call_from_thread(self.run_done, live, outcome)

    def run_done(self, live: EventPump, outcome: Outcome) -> None:
        live.outcome, live.ended = outcome, self.clock()
        for screen in self.screen_stack:
            screen.post_message(RunDone(live.number, outcome))

    # -- everywhere -------------------------------------------------------------------------
    def action_help(self) -> None:
        sections: list[tuple[str, list[BindingType]]] = [("Everywhere", list(self.BINDINGS))]
        for screen in (WelcomeScreen, StepScreen, BuildScreen, ValidationScreen, FinishScreen):
            sections.append((screen.__name__.removesuffix("Screen"), list(screen.BINDINGS)))
        self.push_screen(HelpScreen(sections))

    def action_export(self) -> None:
        state = self.driver.state
        if state is None:
            self.notify("no run yet: nothing to report", severity="warning")
            return

        def done(said: str | None) -> None:
            if said:
                self.notify(said)

        self.push_screen(ReportScreen(state, self.report_folder), callback=done)

    async def action_quit(self) -> None:
        if not self.busy:
            self.exit(0)
            return
        building = isinstance(self.screen, BuildScreen)
        choices = (
            (("leave", "Quit, build keeps going", "l"), ("stop", "Stop it, quit", "s"))
            if building
            else (("stop", "Interrupt it and quit", "y"),)
        )
        detail = (
            "Nothing done is lost: the state is saved after every change, and "
            f"`{self.reattach}` continues where this run stops."
        )
        self.push_screen(
            ConfirmScreen("A step is running. Quit?", detail, (*choices, ("no", "Stay", "n"))),
            callback=self._quit_answer,
        )

    def _quit_answer(self, answer: str | None) -> None:
        if answer == "leave":
            # The engine's thread must end for the app to close; the build goes on.
            self.leave_running = True
            self.driver.leave()
            self.exit(0)
        elif answer == "stop":
            self.driver.cancel()
            self.notify("interrupting; the wizard closes once the command has stopped")
            self.set_interval(0.2, self._exit_when_stopped)

    def _exit_when_stopped(self) -> None:
        if not self.busy:
            self.exit(130)


if TYPE_CHECKING:  # mypy proves the app is what its screens and palette take it for
    _IS_A_WIZARD: type[Wizard] = WizardApp


def run_wizard(args: argparse.Namespace) -> int:
    try:
        session = Session.open(Options.from_args(args))
        app = WizardApp(session)
    except (SettingsError, SessionError, StateError) as exc:
        print(f"emlsetup: {exc}")
        return 2
    try:  # one wizard per state folder, as one headless run: refused before it opens
        app.driver.hold()
    except LockedError as exc:
        print(f"emlsetup: {exc}", file=sys.stderr)
        return 2
    except StateError:
        pass  # a folder this user cannot write: the screens still show; Run says why
    code = app.run() or 0
    if app.leave_running:
        print(f"The build goes on in the background. Re-attach with: {app.reattach}")
    return code
