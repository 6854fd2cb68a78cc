"""One tutorial step: what it does and why, where the wizard departs from the tutorial, its
prerequisites, the exact commands and their users; Run / Skip / Retry."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Label, Markdown, Static

from checks.result import CheckResult
from steps.core.model import Action, Step
from steps.core.state import StepStatus
from tui.driver import HANA_STEPS
from tui.messages import RunDone
from tui.screens.base import WizardScreen
from tui.screens.confirm import ConfirmScreen
from tui.status import step_word
from tui.widgets.action_list import ActionList
from tui.widgets.check_table import CheckTable
from tui.widgets.failure import FailurePanel
from tui.widgets.log_view import LogTail
from tui.widgets.wrapping import Wrapped

BUILD_STEP, VALIDATION_STEP = 5, 7


class StepScreen(WizardScreen):
    # Two bindings share r (Run, or Retry on a failed step) and n (Next, or Validate after
    # step 7): each key shows one word, and step 7's footer fits 80 columns.
    BINDINGS = [
        Binding("r", "run", "Run"),
        Binding("r,t", "retry", "Retry"),
        Binding("a", "run_all", "Run all", show=False),  # the welcome's footer shows it
        Binding("s", "skip", "Skip"),
        Binding("n,right", "next", "Next"),
        Binding("n,right", "validate", "Validate"),
        Binding("v", "validate", "Validate", show=False),
        Binding("p,left", "previous", "Prev"),
        Binding("b", "build", "Log"),
        # Undo is shown where Skip was on a done step (skipping it means nothing), so the
        # footer keeps 80 columns; elsewhere u works unshown (help lists it).
        Binding("u", "undo", "Undo"),
        Binding("u", "undo_here", "Undo", show=False),
        Binding("escape", "back", "Steps"),
    ]

    def __init__(self, number: int) -> None:
        super().__init__(name=f"step-{number}")
        self.number = number
        self.checks: list[CheckResult] | None = None
        self.verdicts: dict[str, str] = {}
        self.message = ""

    @property
    def step(self) -> Step:
        return self.driver.step(self.number)

    def compose(self) -> ComposeResult:
        step = self.step
        yield Header()
        with VerticalScroll(id="body"):
            yield Static(id="step-title", markup=False)
            yield Static(id="notice")
            yield FailurePanel(id="failure")
            yield LogTail(max_lines=500, id="run-log")
            yield Markdown(step.explanation, id="explanation")
            if step.corrections:
                yield Label("Where the wizard departs from the tutorial", classes="section")
                notes = "\n".join(f"• {c}" for c in step.corrections)
                yield Static(Wrapped((notes, "")), id="corrections")  # under the bullet's text
            yield Label("Prerequisites", classes="section")
            if step.checks:
                yield CheckTable(id="checks")
            else:
                yield Static("none for this step", classes="dim")
            yield Label("What it runs, and as whom", classes="section")
            yield ActionList(id="actions")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#run-log", LogTail).display = False
        live = self.wizard.live
        if self.wizard.busy and live is not None and live.number == self.number:
            self.message = "running…"  # opened on a run under way ("Run all", the palette)
        self.set_interval(1 / 15, self.drain)
        self.render_state()
        self.inspect()

    def on_screen_resume(self) -> None:
        if not self.wizard.busy:
            self.driver.reload()
        self.render_state()

    # -- rendering from the state -----------------------------------------------------------
    def render_state(self) -> None:
        if not self.is_attached:  # left while a probe ran (Run all moves on): nothing to draw
            return
        state = self.driver.state
        assert state is not None
        st = state.step(self.number)
        self.sub_title = f"Step {self.number} of {len(state.steps)}"
        running = self.number in self.running_steps()
        title = f"Step {self.number}: {st.title}  [{step_word(st, running)}]"
        self.query_one("#step-title", Static).update(title)
        notice = self.query_one("#notice", Static)
        failed = st.status == StepStatus.FAILED
        notice.update(Wrapped((self.message, "")))  # a `command` in it copies whole
        notice.display = bool(self.message) and not failed  # the panel below says it all
        if self.step.checks:
            checks = self.checks if self.checks is not None else st.checks
            self.query_one("#checks", CheckTable).show(checks)
        who = {a.id: self.driver.who(a) for a in self.step.actions}
        self.query_one("#actions", ActionList).show(self.step.actions, who, st, self.verdicts)
        reason = st.reason if failed else ""
        self.query_one("#failure", FailurePanel).show(
            self.driver.failed_action(self.number) if failed else None, reason
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("validate", "next"):
            return (self.number == VALIDATION_STEP) == (action == "validate")
        if action == "build":
            return self.number == BUILD_STEP
        state = self.driver.state
        failed = state is not None and state.step(self.number).status == StepStatus.FAILED
        if action in ("run", "retry"):
            return not self.wizard.busy and failed == (action == "retry")
        done = state is not None and state.step(self.number).status == StepStatus.DONE
        if action == "skip":
            return not self.wizard.busy and not done
        if action == "run_all":
            return not self.wizard.busy
        if action in ("undo", "undo_here"):  # offered once emlsetup did something here
            shown = done == (action == "undo")
            return shown and self.driver.did_something(self.number) and not self.wizard.busy
        return True

    # -- reading the system (a thread: probes run commands) --------------------------------
    @work(thread=True, exclusive=True, group="inspect")
    def inspect(self) -> None:
        try:
            checks, preview = self.driver.inspect(self.number)
        except Exception as exc:  # a probe problem must not take the wizard down
            self.app.call_from_thread(self._say, f"could not read the system: {exc}")
            return
        self.app.call_from_thread(self._inspected, checks, preview)

    def _inspected(self, checks: list[CheckResult], preview: list[tuple[Action, str]]) -> None:
        self.checks = checks
        self.verdicts = {a.id: verdict for a, verdict in preview}
        if self.driver.hana_notice and self.number in HANA_STEPS:
            self.message = self.driver.hana_notice
        self.render_state()

    def _say(self, message: str) -> None:
        self.message = message
        self.render_state()

    # -- running --------------------------------------------------------------------------
    def action_run(self) -> None:
        if self.wizard.busy:
            self.notify("a step is already running", severity="warning")
            return
        if self.number == BUILD_STEP:
            self.wizard.open_build(run=True)
            return
        if self.number in HANA_STEPS and (
            self.driver.needs_passwords() or self.driver.needs_system_password(self.number)
        ):
            self.wizard.ask_passwords(lambda: self.start())
            return
        self.start()

    def action_retry(self) -> None:
        self.action_run()

    def action_run_all(self) -> None:
        self.wizard.action_run_all()

    def start(self) -> None:
        if self.wizard.start_run(self.number) is None:
            return
        log = self.query_one("#run-log", LogTail)
        log.display = True
        log.clear()
        self.message = "running…"
        self.render_state()

    def drain(self) -> None:
        live = self.wizard.live
        if live is None or live.number != self.number:
            return
        lines, events = live.drain()
        if lines:
            log = self.query_one("#run-log", LogTail)
            log.display = True
            log.add(lines)
        if events:
            self.render_state()

    def on_run_done(self, message: RunDone) -> None:
        if message.number != self.number:
            return
        self.drain()
        outcome = message.outcome
        self.message = outcome.message  # a step done, unverified says which checks to run
        if outcome.ok:
            self.notify(f"Step {self.number} {'done, unverified' if outcome.message else 'done'}")
        self.checks = None
        self.render_state()
        self.inspect()

    def action_undo_here(self) -> None:
        self.action_undo()

    def action_undo(self) -> None:
        from tui import undo_flow

        if self.number in HANA_STEPS and self.driver.needs_passwords():
            self.wizard.ask_passwords(lambda: undo_flow.start(self))
            return
        undo_flow.start(self)

    # -- elsewhere --------------------------------------------------------------------------
    def action_skip(self) -> None:
        """Asks first: a skipped step is passed over by resume and counts as finished."""
        title = self.step.title
        detail = (
            "Nothing of it runs. Resume passes over it and the report lists it as skipped; "
            "Run (r) on this step still runs it later."
        )
        choices = (("skip", "Skip it", "s"), ("no", "Keep it", "n"))
        self.app.push_screen(
            ConfirmScreen(f"Skip step {self.number} ({title})?", detail, choices),
            callback=self._skip_answer,
        )

    def _skip_answer(self, answer: str | None) -> None:
        if answer == "skip":
            self.driver.skip(self.number)
            self.wizard.open_step(self.number + 1)

    def action_next(self) -> None:
        self.wizard.open_step(self.number + 1)

    def action_previous(self) -> None:
        self.wizard.open_step(self.number - 1)

    def action_validate(self) -> None:
        self.wizard.open_validation()

    def action_build(self) -> None:
        self.wizard.open_build()

    def action_back(self) -> None:
        self.wizard.open_welcome()
