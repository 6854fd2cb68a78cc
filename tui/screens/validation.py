"""The final screen: connect to HANA with hdbcli and show every result the tutorial expects
(AFL rows, role, remote source, UPDATE_CONFIGURATION, registered models, the model server's
port), each with its status word and, when red, its fix."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Static

from checks.result import CheckResult, Status
from tui.screens.base import WizardScreen
from tui.widgets.check_table import CheckTable
from tui.widgets.password_form import PasswordForm

VALIDATED_STEPS = (1, 6, 7)


def hana_client_notice() -> str:
    """One line when the HANA client layer cannot be imported; empty when it can."""
    try:
        import steps.hana.client  # noqa: F401
    except ImportError as exc:
        return f"HANA client not available ({exc}): the HANA checks will show as skipped."
    return ""


def passed(rows: list[tuple[int, CheckResult]]) -> bool:
    """Every expected result read and there: none failed, none left unread."""
    return bool(rows) and all(r.status not in (Status.FAIL, Status.SKIP) for _, r in rows)


def summary(rows: list[tuple[int, CheckResult]]) -> str:
    counts = {s: sum(1 for _, r in rows if r.status == s) for s in Status}
    words = ", ".join(f"{n} {s.symbol}" for s, n in counts.items() if n)
    verdict = "all expected results are there" if not counts[Status.FAIL] else "fix the ✘ rows"
    return f"{len(rows)} checks: {words}: {verdict}"


def registered_models(driver: object) -> str:
    """What EML_CHECKDESTINATION_PROC answered when step 7 last ran it: shown, never read
    (what HANA writes into its ("Code", "Longtext") table is not published)."""
    state = getattr(driver, "state", None)
    try:
        listed = state.step(7).action("check-destination").captured if state else None
    except StopIteration:
        listed = None
    if not listed:
        return "EML_CHECKDESTINATION_PROC: not called yet (step 7 calls it)."
    return "EML_CHECKDESTINATION_PROC answered (for information):\n" + "\n".join(
        "  " + " | ".join(row) for row in listed
    )


class ValidationScreen(WizardScreen):
    BINDINGS = [
        Binding("ctrl+r", "check", "Check again"),
        Binding("escape", "back", "Step 7"),
    ]

    def __init__(self) -> None:
        super().__init__(name="validation")
        self.rows: list[tuple[int, CheckResult]] = []

    def compose(self) -> ComposeResult:
        hana = self.driver.session.settings.hana
        yield Header()
        with VerticalScroll(id="body"):
            yield Static(id="hana-notice", markup=False)
            if self.wizard.demo_notice:
                yield Static(self.wizard.demo_notice, id="demo-notice", markup=False)
            yield Static(
                "Passwords stay in this process's memory only (hdbuserstore keys work too). "
                "Tab: next field; Enter: connect and check.",
                markup=False,
            )
            yield PasswordForm(hana.system_user, hana.ml_user, id="passwords")
            yield Button("Connect and check (enter)", id="check", compact=True)
            yield Static("Not checked yet.", id="summary", markup=False)
            yield CheckTable(id="results")
            yield Static(id="models", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Validation in HANA"
        notice = hana_client_notice()
        box = self.query_one("#hana-notice", Static)
        box.update(notice)
        box.display = bool(notice)
        # The cursor starts in the first password field (base.FieldsFirst): letters typed
        # there are the password; Tab past the fields gives q, e and ? back.

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_check()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "check":
            self.action_check()

    def action_check(self) -> None:
        self.driver.passwords.update(self.query_one(PasswordForm).values())
        self.query_one("#summary", Static).update("Checking…")
        self.validate()

    @work(thread=True, exclusive=True, group="validate")
    def validate(self) -> None:
        try:
            rows = self.driver.validate(VALIDATED_STEPS)
            notice = self.driver.hana_notice
        except Exception as exc:  # a connection problem is a result to show, not a crash
            rows, notice = [], f"could not check: {type(exc).__name__}: {exc}"
        self.app.call_from_thread(self.show, rows, notice)

    def show(self, rows: list[tuple[int, CheckResult]], notice: str) -> None:
        if not self.is_attached:  # left (Escape) while HANA answered: nothing to draw
            return
        self.rows = rows
        text = summary(rows) if rows else "No results."
        self.query_one("#summary", Static).update(text + (f"\n{notice}" if notice else ""))
        self.query_one("#results", CheckTable).show(
            [r for _, r in rows], [f"step {n}: " for n, _ in rows]
        )
        from steps.models.journal import smoke_prediction

        smoke = smoke_prediction(self.driver.session.store.folder)
        self.query_one("#models", Static).update(f"{registered_models(self.driver)}\n{smoke}")
        if passed(rows) and self.app.screen is self:
            self.wizard.open_finish()  # the last screen: what was set up, what next

    def action_back(self) -> None:
        self.wizard.open_step(7)
