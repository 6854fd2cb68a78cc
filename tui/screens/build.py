"""Step 5's long build: the live Bazel log (a bounded tail; the full log is on disk), progress
from the `[n / m]` counters, elapsed time, ETA, errors, and how to re-attach over SSH."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header, Static

from steps.bazel.log import BuildTracker
from tui.bridge import EventPump
from tui.messages import RunDone
from tui.screens.base import WizardScreen
from tui.screens.confirm import ConfirmScreen
from tui.status import step_word
from tui.widgets.build_errors import BuildErrors
from tui.widgets.build_progress import clock_text
from tui.widgets.log_view import LogTail
from tui.widgets.wrapping import Wrapped

BUILD_STEP = 5
SHORT = 30  # rows: below this the screen drops what the log box needs more
DETACH = "It keeps running if SSH drops or you quit (l). Re-attach from any shell with:"


class BuildScreen(WizardScreen):
    BINDINGS = [
        Binding("r", "run", "Run/resume"),
        Binding("c", "cancel", "Cancel build"),
        Binding("escape", "back", "Step 5"),
    ]

    def __init__(self, *, run: bool = False) -> None:
        """``run``: the admin pressed Run on step 5; opening the screen alone runs nothing."""
        super().__init__(name="build")
        self.run_on_open = run
        self.background: tuple[int, float] | None = None
        self.cancelling = False
        self.message = ""

    def compose(self) -> ComposeResult:
        from tui.widgets.build_progress import BuildProgress

        yield Header()
        with Vertical(id="build-body"):
            yield Static(id="build-title", markup=False)
            yield Static(id="build-message")
            # Above the log: a failed build's first error and the log's path come first.
            yield BuildErrors(id="errors")
            yield Static(id="build-action", markup=False)
            yield BuildProgress(id="progress")
            # The re-attach command whole, broken only at spaces with ` \` (it copies as
            # one command); shown while there is a build to re-attach to.
            yield Static(id="detach")
            yield LogTail(id="build-log")
        yield Footer(compact=True)

    @property
    def live(self) -> EventPump | None:
        live = self.wizard.live
        return live if live is not None and live.number == BUILD_STEP else None

    def on_mount(self) -> None:
        self.sub_title = "Step 5: the build"
        detach = Wrapped((f"{DETACH} `{self.wizard.reattach}`", ""))
        self.query_one("#detach", Static).update(detach)
        self.set_class(self.app.size.height < SHORT, "-short")
        self.set_interval(1 / 10, self.tick)
        # A build left running by an earlier wizard: said so, followed only on Run.
        self.background = None if self.wizard.busy else self.driver.running_build()
        if self.run_on_open and not self.wizard.busy:
            self.action_run()
        self.tick()

    def action_run(self) -> None:
        if self.wizard.busy:
            return
        self.cancelling, self.message, self.background = False, "", None
        self.query_one("#build-log", LogTail).clear()
        self.wizard.start_run(BUILD_STEP)
        self.refresh_bindings()

    def tick(self) -> None:
        live = self.live
        state = self.driver.state
        word = step_word(state.step(BUILD_STEP)) if state else "?"
        running = live is not None and live.outcome is None
        title = f"Step 5: build TensorFlow Serving  [{'▶ running' if running else word}]"
        if not running and self.background is not None:  # its process, read each tick
            self.background = self.driver.running_build()
        if not running and self.background is not None:
            title = (
                f"Step 5: build TensorFlow Serving  [▶ running in the background, "
                f"pid {self.background[0]}: r follows it]"
            )
        if self.cancelling and running:
            title += "  (interrupt sent; waiting for Bazel to stop cleanly)"
        self.query_one("#build-title", Static).update(title)
        doing = live.action_title if live and live.action_title else "-"
        self.query_one("#build-action", Static).update(f"Action: {doing}")
        tracker = live.tracker if live and live.tracker else BuildTracker()
        started = live.started if live else 0.0
        now = live.ended if live and live.ended is not None else self.wizard.clock()
        self.query_one("#progress").show(  # type: ignore[attr-defined]
            tracker, started, now, running
        )
        if live is not None:
            lines, _events = live.drain()
            self.query_one("#build-log", LogTail).add(lines)
        failed = bool(live and live.outcome and not live.outcome.ok and not live.outcome.cancelled)
        errors = self.query_one("#errors", BuildErrors)
        errors.show(tracker, self.log_path(), failed, self.has_class("-short"))
        message = self.message
        if errors.display and "; first error at " in message:
            message = message.split("; first error at ")[0] + "."  # shown whole below
        box = self.query_one("#build-message", Static)
        box.display = bool(message)
        box.update(Wrapped((message, "")))
        # Nothing to re-attach to once the build has ended: the line would say what is not so.
        self.query_one("#detach").display = running or (live is None and bool(self.background))

    def log_path(self) -> str | None:
        """The file the build writes its whole output to (the state records it)."""
        state = self.driver.state
        if state is None:
            return None
        step = state.step(BUILD_STEP)
        ran = [step.action(a).commands for a in self.driver.build_actions(BUILD_STEP)]
        last = max((c[-1] for c in ran if c), key=lambda rec: rec.started, default=None)
        return last.log_file if last else None

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < SHORT, "-short")

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
        """Asks first (hours of building are at stake), then one interrupt, as Ctrl+C in the
        CLI, and waits for Bazel to stop cleanly."""
        if self.cancelling or not self.wizard.busy:
            return
        live = self.live
        elapsed = clock_text(self.wizard.clock() - live.started) if live else "-"
        detail = (
            f"The build has run for {elapsed}. Stopping it loses only the actions under way: "
            "what Bazel has finished stays in its cache, so Run (r) later goes on from there "
            "rather than from the start."
        )
        self.app.push_screen(
            ConfirmScreen(
                "Stop the build?",
                detail,
                (("stop", "Stop the build", "s"), ("no", "Keep building", "n")),
            ),
            callback=self._cancel_answer,
        )

    def _cancel_answer(self, answer: str | None) -> None:
        if answer != "stop" or self.cancelling:
            return
        if self.driver.cancel():
            self.cancelling = True
            self.refresh_bindings()
            self.tick()

    def action_back(self) -> None:
        self.wizard.open_step(BUILD_STEP)
