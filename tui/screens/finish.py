"""The last screen, once the validation in HANA has passed: what was set up (a line per step,
read from the run state), where the logs and the report are, and what to do next, with the
exact commands: the shipped model served by TF Serving and called from SQL through EML."""

from __future__ import annotations

from collections import Counter

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Label, Static

from steps.core.state import ActionStatus, RunState
from steps.models import hana_sql as hs
from tui.screens.base import WizardScreen
from tui.status import step_word

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


def fold(text: str, width: int, indent: str = "    ", mark: str = "") -> list[str]:
    """``text`` cut at spaces, never inside a word, into lines of at most ``width``; each
    line but the last ends in ``mark`` (" \\" for a shell command, which the shell joins),
    each but the first starts with ``indent`` (the first keeps the text's own)."""
    words = text.lstrip(" ").split(" ")
    lines: list[str] = []
    line = text[: len(text) - len(text.lstrip(" "))] + words[0]
    for word in words[1:]:
        if len(f"{line} {word}{mark}") > width:
            lines.append(line + mark)
            line = indent + word
        else:
            line = f"{line} {word}"
    return [*lines, line]


def next_steps(emlsetup: str, ml_user: str, width: int) -> str:
    """The commands, as the admin types them here (``emlsetup``: the program and the global
    options of this wizard), folded to ``width`` columns."""
    obj = hs.Objects(MODEL)
    shell = [
        ("Serve the shipped model (y = x / 2 + 2) and make it callable from HANA:", "add"),
        ('Ask it from SQL through EML; it answers "got 2.5 for 1":', "test"),
    ]
    out: list[str] = []
    for n, (say, verb) in enumerate(shell, start=1):
        out += fold(f"{n}. {say}", width, "   ")
        out += fold(f"   $ {emlsetup} model {verb} {MODEL}", width, "       ", " \\")
    out += fold(f"3. Call it from your own SQL, as {ml_user}:", width, "   ")
    given, answer = f"{hs.SCHEMA}.{obj.input_table(1)}", f"{hs.SCHEMA}.{obj.output_table}"
    for statement in (  # as `model sql` writes them, its parameter rows left to `model add`
        f"TRUNCATE TABLE {given};",
        f"INSERT INTO {given} VALUES (1.0);",
        f"TRUNCATE TABLE {answer};",
        f"{obj.call(1)};",
        f"SELECT * FROM {hs.SCHEMA}.{obj.output_table};  -- 2.5 (1.0 / 2 + 2)",
    ):
        out += fold(f"   {statement}", width, "     ")
    out += fold("   The whole script, for an application (parameters, inputs, CALL, output):",
                width, "   ")  # fmt: skip
    out += fold(f"   $ {emlsetup} model sql {MODEL}", width, "       ", " \\")
    out += fold("4. Your own SavedModel (README: A model answers from SQL):", width, "   ")
    out += fold(f"   $ {emlsetup} model add NAME PATH", width, "       ", " \\")
    return "\n".join(out)


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
            yield Static(HEADLINE, id="finish-title", markup=False)
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

    def on_resize(self, event: events.Resize) -> None:
        self.show()

    def show(self) -> None:
        state = self.driver.state
        if state is None:
            return
        width = max(40, self.size.width - 4)  # the body's padding and its scroll bar
        self.query_one("#setup", Static).update("\n".join(setup_lines(state)))
        report = self.wizard.report_folder / "emlsetup-report.md"
        paths = [
            f"Logs    {self.wizard.logs_folder}: a folder per run, a file per command",
            f"Report  e writes it (md, json or html), to {report} unless you choose another",
        ]
        folded = [line for text in paths for line in fold(text, width, " " * 8)]
        self.query_one("#paths", Static).update("\n".join(folded))
        emlsetup = self.wizard.reattach.removesuffix(" resume")  # the demo's own in tests.demo
        ml_user = self.driver.session.settings.hana.ml_user
        self.query_one("#next", Static).update(next_steps(emlsetup, ml_user, width))

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
