"""The first screen: which system this is, the seven steps and their state, and the offer to
resume an interrupted run at the exact action it stopped on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from tui.messages import RunDone
from tui.screens.base import WizardScreen
from tui.widgets.step_table import StepTable

OVERRIDE = "emlsetup --distro sles|rhel|debian"


class WelcomeScreen(WizardScreen):
    BINDINGS = [
        Binding("r", "resume", "Resume"),
        Binding("a", "run_all", "Run all"),
        Binding("enter", "open", "Open step", show=False),
        Binding("v", "validate", "Validate"),
        *[Binding(str(n), f"step({n})", f"Step {n}", show=False) for n in range(1, 8)],
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="body"):
            yield Static(id="distro", markup=False)
            yield Static(id="resume", markup=False)
            yield StepTable(id="steps")
            yield Static(id="unverified", markup=False)
            yield Static(id="hint", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Welcome"
        self.render_state()
        self.query_one(StepTable).focus()

    def on_screen_resume(self) -> None:
        if not self.wizard.busy:
            self.driver.reload()
        self.render_state()

    def on_run_done(self, message: RunDone) -> None:
        self.render_state()

    def render_state(self) -> None:
        d = self.driver.session.distro
        distro = self.query_one("#distro", Static)
        if d.supported:
            forced = " (forced with --distro)" if d.forced else ""
            plan = self.driver.plan
            route = (
                f"\nTF Serving: {plan.serving_route} ({plan.serving_duration}); {plan.route_title}"
                if plan is not None and plan.serving_route
                else ""
            )
            distro.update(f"System: {d.name}, family {d.family}{forced}{route}")
        else:
            distro.update(
                f"System: {d.name}: not supported: {d.reason}\n"
                f"If it is a compatible system, force a family: {OVERRIDE}"
            )
        state = self.driver.state
        table = self.query_one(StepTable)
        table.display = state is not None
        if state is not None:
            table.show(state, self.running_steps())
        unread = self.query_one("#unverified", Static)
        numbers = state.unverified() if state is not None else []
        unread.display = bool(numbers)
        if state is not None and numbers:
            lines = [f"? Step {n} is done, unverified: {state.step(n).reason}" for n in numbers]
            unread.update("\n".join(lines))
        offer = self.query_one("#resume", Static)
        said = self.offer()
        offer.display = bool(said)
        offer.update(said)
        resume = " · r: resume" if self.driver.resume_point() and not self.wizard.busy else ""
        self.query_one("#hint", Static).update(
            f"Enter or 1-7: open a step{resume} · a: run all · v: validate · e: report · "
            "?: help"
        )
        self.refresh_bindings()

    def offer(self) -> str:
        """What is under way or stopped, as it is now (a run in this wizard, a build left
        running in the background, a run that stopped part-way), or nothing."""
        live = self.wizard.live
        if self.wizard.busy and live is not None:
            doing = f" ({live.action_title})" if live.action_title else ""
            return f"▶ Step {live.number} is running{doing}: press {live.number} to follow it"
        build = self.driver.running_build()
        if build is not None:
            return (
                f"▶ The build left running earlier is still going (pid {build[0]}): "
                "press 5, then b, then r to follow it"
            )
        point = self.driver.resume_point()
        if point is None:
            return ""
        if self.driver.build_ended_unseen(point[0]):  # nothing stopped: it ran to its end
            return (
                f"▶ The build left running earlier has ended: press r to open step {point[0]}, "
                "then r to read how it ended"
            )
        what = (
            f"action {point[1]} ({self.driver.action(*point).title})"
            if point[1]
            else "its result checks"
        )
        return f"▶ An earlier run stopped. Resume at step {point[0]}, {what}: press r"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resume":
            return self.driver.resume_point() is not None and not self.wizard.busy
        if action in ("open", "step", "validate"):
            return self.driver.state is not None
        if action == "run_all":
            return self.driver.state is not None and not self.wizard.busy
        return True

    def action_resume(self) -> None:
        point = self.driver.resume_point()
        if point is not None:
            self.wizard.open_step(point[0])

    def action_open(self) -> None:
        table = self.query_one(StepTable)
        if table.row_count:
            self.wizard.open_step(table.cursor_row + 1)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.wizard.open_step(int(str(event.row_key.value)))

    def action_step(self, number: int) -> None:
        self.wizard.open_step(number)

    def action_validate(self) -> None:
        self.wizard.open_validation()

    def action_run_all(self) -> None:
        self.wizard.action_run_all()
