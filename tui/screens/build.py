"""Step 5's long build: the live Bazel log (a bounded tail; the full log is on disk), progress
from the `[n / m]` counters, elapsed time, ETA, errors, and how to re-attach over SSH."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header, Static

from steps.bazel.log import BuildTracker
from steps.state import StepStatus
from tui.bridge import EventPump
from tui.messages import RunDone
from tui.screens.base import WizardScreen
from tui.status import step_word
from tui.widgets.log_view import LogTail

BUILD_STEP = 5
ERRORS_SHOWN = 50


class BuildScreen(WizardScreen):
    BINDINGS = [
        Binding("r", "run", "Run/resume"),
        Binding("c", "cancel", "Cancel build"),
        Binding("escape", "back", "Step 5"),
    ]

    def __init__(self) -> None:
        super().__init__(name="build")
        self.cancelling = False
        self.message = ""

    def compose(self) -> ComposeResult:
        from tui.widgets.build_progress import BuildProgress

        yield Header()
        with Vertical(id="build-body"):
            yield Static(id="build-title", markup=False)
            yield Static(id="build-action", markup=False)
            yield BuildProgress(id="progress")
            yield Static(id="detach", markup=False)
            yield LogTail(id="build-log")
            yield Static(id="errors", markup=False)
        yield Footer(compact=True)

    @property
    def live(self) -> EventPump | None:
        live = self.wizard.live
        return live if live is not None and live.number == BUILD_STEP else None

    def on_mount(self) -> None:
        self.sub_title = "Step 5: the build"
        self.query_one("#detach", Static).update(
            "The build keeps running if your SSH session drops or you quit (l). "
            f"Re-attach from any shell with: {self.wizard.reattach}"
        )
        self.set_interval(1 / 10, self.tick)
        st = self.driver.state.step(BUILD_STEP) if self.driver.state else None
        if not self.wizard.busy and st is not None and st.status != StepStatus.DONE:
            self.action_run()
        self.tick()

    def action_run(self) -> None:
        if self.wizard.busy:
            return
        self.cancelling, self.message = False, ""
        self.query_one("#build-log", LogTail).clear()
        self.wizard.start_run(BUILD_STEP)
        self.refresh_bindings()

    def tick(self) -> None:
        live = self.live
        state = self.driver.state
        word = step_word(state.step(BUILD_STEP)) if state else "?"
        running = live is not None and live.outcome is None
        title = f"Step 5: build TensorFlow Serving  [{'▶ running' if running else word}]"
        if self.cancelling and running:
            title += "  (interrupt sent; waiting for Bazel to stop cleanly)"
        elif self.message:
            title += f"  {self.message}"
        self.query_one("#build-title", Static).update(title)
        doing = live.action_title if live and live.action_title else "-"
        self.query_one("#build-action", Static).update(f"Action: {doing}")
        tracker = live.tracker if live and live.tracker else BuildTracker()
        started = live.started if live else 0.0
        self.query_one("#progress").show(  # type: ignore[attr-defined]
            tracker, started, self.wizard.clock(), running
        )
        if live is not None:
            lines, _events = live.drain()
            self.query_one("#build-log", LogTail).add(lines)
        self.show_errors(tracker)

    def show_errors(self, tracker: BuildTracker) -> None:
        box = self.query_one("#errors", Static)
        box.display = bool(tracker.errors)
        if not tracker.errors:
            return
        count = len(tracker.errors) + tracker.errors_dropped
        text = Text(f"✘ {count} errors (full text in the log):", style="bold")
        text.no_wrap, text.overflow = True, "ellipsis"  # one line per error
        for err in tracker.errors[-ERRORS_SHOWN:]:
            where = f"{err.file}:{err.line}: " if err.file else ""
            text.append(f"\n  {where}{err.message}", style="")
        box.update(text)

    def on_run_done(self, message: RunDone) -> None:
        if message.number == BUILD_STEP:
            self.cancelling = False
            self.message = "" if message.outcome.ok else message.outcome.message
            self.tick()
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.wizard.busy and self.live is not None and not self.cancelling
        if action == "run":
            return not self.wizard.busy
        return True

    def action_cancel(self) -> None:
        """One interrupt, as Ctrl+C in the CLI; then wait for Bazel to stop cleanly."""
        if self.cancelling:
            return
        if self.driver.cancel():
            self.cancelling = True
            self.refresh_bindings()
            self.tick()

    def action_back(self) -> None:
        self.wizard.open_step(BUILD_STEP)
