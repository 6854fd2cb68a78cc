"""The last screen, once the validation in HANA has passed: what was set up (a line per step,
read from the run state), where the logs and the report are, and what to do next, with the
exact commands: the shipped model served by TF Serving and called from SQL through EML."""

from __future__ import annotations

from collections import Counter

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Label, Static

from steps.core.state import ActionStatus, RunState
from steps.models import hana_sql as hs
from tui.screens.base import WizardScreen
from tui.status import step_word
from tui.widgets.wrapping import Wrapped

MODEL = "half_plus_two"  # shipped with emlsetup (steps/models/half_plus_two): y = x / 2 + 2
HEADLINE = "✔ Every expected result is there: SAP HANA calls TensorFlow Serving through EML."
COUNTED = (
    (ActionStatus.DONE, "run"),
    (ActionStatus.ALREADY_DONE, "found done"),
    (ActionStatus.SKIPPED, "skipped"),
    (ActionStatus.MANUAL, "for you"),
)


def setup_lines(state: RunState) -> list[str]:
    """One line per step: its status and what its actions came to."""
    lines = []
    for st in state.steps:
        counts = Counter(a.status for a in st.actions)
        came = ", ".join(f"{counts[s]} {word}" for s, word in COUNTED if counts[s])
        lines.append(f"{step_word(st)}  {st.number} {st.title}: {came or 'nothing to do'}")
    return lines


def next_steps(emlsetup: str, ml_user: str) -> str:
    """The commands, as the admin types them here (``emlsetup``: the program and the global
    options of this wizard). A shell command is marked (backticks) to be laid out as it
    pastes (tui.widgets.wrapping); SQL is not: a ` \\` would end up in the statement."""
    obj = hs.Objects(MODEL)
    given, answer = f"{hs.SCHEMA}.{obj.input_table(1)}", f"{hs.SCHEMA}.{obj.output_table}"
    sql = (  # as `model sql` writes them, its parameter rows left to `model add`
        f"TRUNCATE TABLE {given};",
        f"INSERT INTO {given} VALUES (1.0);",
        f"TRUNCATE TABLE {answer};",
        f"{obj.call(1)};",
        f"SELECT * FROM {hs.SCHEMA}.{obj.output_table};  -- 2.5 (1.0 / 2 + 2)",
    )
    return "\n".join(
        [
            "1. Serve the shipped model (y = x / 2 + 2) and make it callable from HANA:",
            f"   $ `{emlsetup} model add {MODEL}`",
            '2. Ask it from SQL through EML; it answers "got 2.5 for 1":',
            f"   $ `{emlsetup} model test {MODEL}`",
            f"3. Call it from your own SQL, as {ml_user}:",
            *(f"   {statement}" for statement in sql),
            "   The whole script, for an application (parameters, inputs, CALL, output):",
            f"   $ `{emlsetup} model sql {MODEL}`",
            "4. Your own SavedModel (README: A model answers from SQL):",
            f"   $ `{emlsetup} model add NAME PATH`",
        ]
    )


class FinishScreen(WizardScreen):
    BINDINGS = [
        Binding("w", "answers", "Answers file"),
        Binding("escape", "back", "Validation"),
    ]

    def __init__(self) -> None:
        super().__init__(name="finish")

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="body"):
            yield Static(Wrapped((HEADLINE, "")), id="finish-title")
            yield Label("What was set up", classes="section")
            yield Static(id="setup", markup=False)
            yield Label("Where the logs and the report are", classes="section")
            yield Static(id="paths", markup=False)
            yield Label("What next", classes="section")
            yield Static(id="next", markup=False)
            # The wizard's last actions, one button each.
            with Horizontal(id="finish-actions"):
                yield Button("Write the report (e)", id="export", compact=True)
                yield Button("Write the answers file (w)", id="answers", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Finished"
        self.show()

    def show(self) -> None:
        state = self.driver.state
        if state is None:
            return
        setup = "\n".join(setup_lines(state))
        self.query_one("#setup", Static).update(Wrapped((setup, ""), commands=False))
        report = self.wizard.report_folder / "emlsetup-report.md"
        paths = [
            f"Logs    {self.wizard.logs_folder}: a folder per run, a file per command",
            f"Report  e writes it (md, json or html), to {report} unless you choose another",
        ]
        self.query_one("#paths", Static).update(Wrapped(("\n".join(paths), ""), commands=False))
        emlsetup = self.wizard.reattach.removesuffix(" resume")  # the demo's own in tests.demo
        ml_user = self.driver.session.settings.hana.ml_user
        self.query_one("#next", Static).update(Wrapped((next_steps(emlsetup, ml_user), "")))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            self.wizard.action_export()
        elif event.button.id == "answers":
            self.action_answers()

    def action_answers(self) -> None:
        """This setup for the next server: `emlsetup answers write`, from here."""
        from tui.screens.answers import AnswersScreen

        def done(said: str | None) -> None:
            if said:
                self.notify(said)

        screen = AnswersScreen(self.driver.session, self.wizard.report_folder)
        self.app.push_screen(screen, callback=done)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()  # the validation's results, as they were
        else:
            self.wizard.open_validation()
