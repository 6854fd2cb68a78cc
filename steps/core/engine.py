"""Runs a plan: checks, then each action unless the system shows it done, saving the state
after every change. The CLI and the TUI both drive this one class."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checks.evaluate import CheckContext, ProbeResult, all_pass, evaluate_all
from checks.result import CheckResult, Status
from checks.spec import CheckSpec
from steps.bazel.log import BuildTracker
from steps.core.actions import Executor, SqlBackend, describe
from steps.core.model import Action, Command, Manual, Step
from steps.core.plan import Plan
from steps.core.runner import Runner
from steps.core.secret_input import held_secret, missing_sentence
from steps.core.settings import Settings
from steps.core.state import ActionState, ActionStatus, RunState, StateStore, StepState, StepStatus

__all__ = [
    "Engine",
    "Event",
    "NeedsConfirmation",
    "NeedsUnmet",
    "SqlBackend",
    "describe",
    "new_state",
    "unverified_reason",
]


@dataclass
class Event:
    kind: str  # step, checks, action, skip, line, output, done, unverified, failed, results,
    # manual, stopped
    step: int
    text: str
    action: str = ""
    results: list[CheckResult] | None = None
    data: bytes = b""  # "output": a block of a build's log, many lines, undecoded
    tracker: BuildTracker | None = None  # "output": what the build has shown so far


class NeedsConfirmation(Exception):
    """A root action was not confirmed: nothing of it ran."""


class NeedsUnmet(Exception):
    """A step was asked for before an earlier step it needs: nothing ran, nothing changed."""


def new_state(plan: Plan, settings: Settings) -> RunState:
    return RunState(
        run_id=time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6],
        distro=plan.distro.name,
        family=plan.family,
        settings=settings.model_dump(mode="json"),
        steps=[
            StepState(
                number=s.number,
                title=s.title,
                actions=[ActionState(id=a.id, title=a.title) for a in s.actions],
            )
            for s in plan.steps
        ],
    )


def unverified_reason(number: int, unread: list[CheckResult]) -> str:
    """Which checks could not run, why, and the command that runs them once it can."""
    names = "; ".join(f"{c.name} ({c.measured})" for c in unread)
    fixes = list(dict.fromkeys(c.fix for c in unread if c.fix))
    how = f"{fixes[0]}, then " if fixes else ""
    return (
        f"{len(unread)} check{'s' if len(unread) > 1 else ''} could not run: {names}; "
        f"{how}run them with `emlsetup check --step {number}` (`emlsetup resume` then records "
        "the step done)"
    )


def _under_way(action: Action, ast: ActionState) -> bool:
    """A detached command that was started and whose end was never recorded."""
    last = ast.commands[-1] if ast.commands else None
    return (
        isinstance(action, Command)
        and action.long_running
        and ast.status == ActionStatus.RUNNING
        and last is not None
        and last.exit_file is not None
        and last.exit_code is None
    )


def first_failure(label: str, results: list[CheckResult]) -> str | None:
    """The step's reason: its first failed check, with what was measured and the fix."""
    failed = next((c for c in results if c.status == Status.FAIL), None)
    if failed is None:
        return None
    return f"{label}: {failed.name} ({failed.measured}); fix: {failed.fix}"


class Engine:
    def __init__(
        self,
        plan: Plan,
        settings: Settings,
        runner: Runner,
        store: StateStore,
        state: RunState,
        *,
        sql: SqlBackend | None = None,
        confirm: Callable[[Action], bool] = lambda a: False,
        on_event: Callable[[Event], None] = lambda e: None,
        trust_state: bool = True,
    ) -> None:
        # resume trusts the state for finished actions; a new `run` asks the system again
        # (non-idempotent actions are still protected by their done_when checks).
        self.trust_state = trust_state
        self.plan, self.settings, self.runner, self.store = plan, settings, runner, store
        self.state, self.sql, self.confirm, self.on_event = state, sql, confirm, on_event
        self.cancelled = threading.Event()
        runner.listeners.append(self._line)
        self.executor = Executor(
            runner, sql, self.context, self._save, self.cancelled, self._line, self._output
        )
        self._step = 0
        self.rerun: set[str] = set()  # action ids to run again although nothing changed

    # -- checks -----------------------------------------------------------------------------
    def context(self, step: Step) -> CheckContext:
        def probe(argv: list[str], run_as: str) -> ProbeResult:
            return self.runner.probe(argv, run_as, step.path_extra)

        sql = None
        if self.sql is not None:
            backend = self.sql

            def sql(role: str, query: str, params: list[str]) -> list[tuple[Any, ...]]:
                return backend.query(role, query, tuple(params))

        return CheckContext(
            host=self.runner.host,
            probe=probe,
            distro=self.plan.distro,
            sql=sql,
            path_extra=tuple(step.path_extra),
        )

    def check(self, step: Step, specs: list[CheckSpec]) -> list[CheckResult]:
        return evaluate_all(specs, self.context(step))

    # -- running ----------------------------------------------------------------------------
    def unmet_need(self, steps: list[int] | None = None) -> str | None:
        """The first need of the given steps that the system does not show met, as the
        sentence to show; a need on a step that runs earlier in the same run counts as met."""
        wanted = [s for s in self.plan.steps if steps is None or s.number in steps]
        before = {s.number for s in wanted}
        for step in wanted:
            for need in step.needs:
                if need.step in before and need.step < step.number:
                    continue
                if not all_pass(need.met_when, self.context(step)):
                    return (
                        f"step {step.number} cannot run yet: {need.why}; run step {need.step} first"
                    )
        return None

    def run(self, steps: list[int] | None = None, *, new_run: bool = True) -> bool:
        """Runs the given steps (all by default) until one fails; True when all are done.
        Raises NeedsUnmet, before anything runs or changes, for a step run too early.
        ``new_run=False``: one more step of the same run (the wizard runs one step at a
        time), so what the run changed so far is kept."""
        unmet = self.unmet_need(steps)
        if unmet is not None:
            raise NeedsUnmet(unmet)
        if new_run:
            self.state.start_run()
        for step in self.plan.steps:
            if steps is not None and step.number not in steps:
                continue
            if self.cancelled.is_set() or not self.run_step(step):
                return False
        return True

    def run_step(self, step: Step) -> bool:
        st = self.state.step(step.number)
        self._step = step.number
        self.state.run_again(step.number)
        st.status, st.reason = StepStatus.RUNNING, ""
        self._emit("step", f"Step {step.number}: {step.title}")
        st.checks = self.check(step, step.checks)
        self._emit("checks", "prerequisites", results=st.checks)
        if blocking := first_failure("prerequisite failed", st.checks):
            return self._fail_step(st, blocking)
        for action in step.actions:
            if self.cancelled.is_set():
                return self._stop(st, "cancelled")
            if not self.run_action(step, action):
                return False
        st.results = self.check(step, step.results)
        self._emit("results", "expected results", results=st.results)
        if failed := first_failure("expected result not met", st.results):
            return self._fail_step(st, failed)
        self.state.current = None
        unread = [c for c in st.checks + st.results if c.status == Status.SKIP]
        if unread:  # a check that could not run proves nothing: the step is not "done"
            st.status, st.reason = StepStatus.UNVERIFIED, unverified_reason(step.number, unread)
            self._save()
            self._emit("unverified", f"Step {step.number} is {st.status.value}: {st.reason}")
            return True
        st.status = StepStatus.DONE
        self._save()
        self._emit("done", f"Step {step.number} done")
        return True

    def verdict(self, step: Step, action: Action) -> tuple[ActionStatus | None, str]:
        """Why an action will not run (a status and a reason), or (None, "") when it must."""
        ast = self.state.step(step.number).action(action.id)
        # A skip is a decision about the system and the inputs of that moment (no password,
        # no systemd), never work done: it is decided again, so a password given since then
        # runs what was skipped for want of it.
        if ast.status.finished and ast.status != ActionStatus.SKIPPED and self.trust_state:
            return ast.status, "finished in an earlier run"
        if _under_way(action, ast):
            # A build left running is followed again (or its end read), whatever the system
            # shows: a rebuild's bazel-bin still holds the last build's model server.
            return None, ""
        ctx = self.context(step)
        if action.optional_setting and not self._setting(action.optional_setting):
            return (
                ActionStatus.SKIPPED,
                f"optional: turn it on with --set {action.optional_setting}=true",
            )
        if action.only_if:
            unmet = [r for r in evaluate_all(action.only_if, ctx) if r.status != Status.OK]
            if unmet:
                return ActionStatus.SKIPPED, "not applicable here: " + "; ".join(
                    f"only where {r.name}, and here it is not so ({r.measured})" for r in unmet
                )
        if action.unneeded_when and all_pass(action.unneeded_when, ctx):
            return ActionStatus.SKIPPED, "not needed: " + ", ".join(
                c.name for c in action.unneeded_when
            )
        if action.rerun_after is not None:
            again = self._again(step, action)
            if again is not None:
                missing = self._secret_missing(action) if again[0] is None else None
                return missing or again
        if missing := self._secret_missing(action):
            return missing
        if action.done_when and all_pass(action.done_when, ctx):
            return ActionStatus.ALREADY_DONE, "found done on the system: " + ", ".join(
                c.name for c in action.done_when
            )
        if isinstance(action, Manual):
            return ActionStatus.MANUAL, f"for you to do: {action.instruction}"
        return None, ""

    def preview(self, step: Step) -> list[tuple[Action, str]]:
        """What a run of this step would do, read from the system; nothing is changed."""
        return [
            (a, (v[0].value if v[0] else "would run"))
            for a in step.actions
            for v in [self.verdict(step, a)]
        ]

    def run_action(self, step: Step, action: Action) -> bool:
        st = self.state.step(step.number)
        ast = st.action(action.id)
        status, reason = self.verdict(step, action)
        if status is not None:
            if status == ActionStatus.ALREADY_DONE:
                self.state.rechecked.append(f"{step.number}/{action.id}")
                # Under way when the wizard stopped, and done now: emlsetup did it.
                ast.performed = ast.performed or ast.status == ActionStatus.RUNNING
            if ast.status != status or ast.reason != reason:
                self._settle(ast, status, reason)
            return True  # a finished action is never repeated
        if action.needs_root and not self.confirm(action):
            if self.cancelled.is_set():  # Ctrl-C at the question: an interrupt, not a No
                return self._stop(st, f"interrupted at the question before: {action.title}")
            # The step is not under way any more: it says so rather than "running" for good.
            st.status, st.reason = StepStatus.PENDING, f"not confirmed: {action.title}"
            self._save()
            self._emit("stopped", f"not confirmed, nothing was run: {action.title}", action.id)
            raise NeedsConfirmation(action.title)
        ast.status, ast.attempts = ActionStatus.RUNNING, ast.attempts + 1
        self.state.current = (step.number, action.id)
        self._save()
        self._emit("action", f"{action.title}\n  $ {describe(action)}", action.id)
        error = self.executor.execute(step, action, ast)
        if self.executor.leaving.is_set():  # still running: the state keeps it so
            return self._stop(st, f"left running: {action.title}; resume re-attaches to it")
        if self.cancelled.is_set():
            ast.status, ast.reason = ActionStatus.PENDING, "interrupted; resume runs it again"
            # What the command said as it stopped (Bazel's exit 8: its work is kept).
            said = f": {error}" if error else ""
            return self._stop(st, f"interrupted during: {action.title}{said}")
        needs_proof = error is None and action.done_when and not action.idempotent
        if needs_proof and not all_pass(action.done_when, self.context(step)):
            error = "it ran, but the system does not show it done: " + action.done_when[0].name
        if error is not None:
            ast.status, ast.reason = ActionStatus.FAILED, error
            fix = f"; fix: {action.fix}" if action.fix else ""
            return self._fail_step(st, f"{action.title} failed: {error}{fix}")
        if action.done_when or action.rerun_after is not None:
            # Only what leaves a mark the system shows, or work done again because something it
            # depends on changed, counts as a change; listing the models changes nothing.
            self.state.changed.append(f"{step.number}/{action.id}")
        ast.performed = True
        return self._settle(ast, ActionStatus.DONE, "")

    def _secret_missing(self, action: Action) -> tuple[ActionStatus, str] | None:
        """A command that prompts for a secret the wizard does not hold is skipped, saying
        how to run it by hand; it is never started to wait on a prompt nobody answers."""
        if not isinstance(action, Command) or not action.stdin_secret:
            return None
        if held_secret(self.sql, action.stdin_secret) is not None:
            return None
        user = self.runner.identity.name(action.run_as)
        return ActionStatus.SKIPPED, missing_sentence(action, user, self.settings.hana.system_key)

    def _again(self, step: Step, action: Action) -> tuple[ActionStatus | None, str] | None:
        """For an action with ``rerun_after``: (None, "") when it must run, a re-check verdict
        when it ran before and nothing it depends on changed, None to decide as usual."""
        changed = set(self.state.changed)
        deps = [d if "/" in d else f"{step.number}/{d}" for d in action.rerun_after or []]
        if action.id in self.rerun or any(d in changed for d in deps):
            return None, ""
        ran = self.state.step(step.number).action(action.id).status
        if ran not in (ActionStatus.DONE, ActionStatus.ALREADY_DONE):
            return None  # never ran to the end: the usual checks decide
        if action.done_when and not all_pass(action.done_when, self.context(step)):
            return None, ""  # what it left is gone
        on = f" ({', '.join(deps)})" if deps else ""
        return ActionStatus.ALREADY_DONE, (
            f"re-checked: ran in an earlier run and nothing it depends on{on} changed in this "
            f"one; `emlsetup run --rerun {action.id}` runs it again"
        )

    def _setting(self, dotted: str) -> bool:
        node: Any = self.settings
        for part in dotted.split("."):
            node = getattr(node, part)
        return bool(node)

    def _settle(self, ast: ActionState, status: ActionStatus, reason: str) -> bool:
        ast.status, ast.reason = status, reason
        self._save()
        kind = {ActionStatus.DONE: "done", ActionStatus.MANUAL: "manual"}.get(status, "skip")
        self._emit(
            kind, f"{ast.title}: {status.value}" + (f" ({reason})" if reason else ""), ast.id
        )
        return True

    def _fail_step(self, st: StepState, reason: str) -> bool:
        st.status, st.reason = StepStatus.FAILED, reason
        self._save()
        self._emit("failed", reason)
        return False

    def _stop(self, st: StepState, reason: str) -> bool:
        st.status, st.reason = StepStatus.PENDING, reason
        self._save()
        self._emit("stopped", reason)
        return False

    def _save(self) -> None:
        self.store.save(self.state)

    def _emit(
        self, kind: str, text: str, action: str = "", results: list[CheckResult] | None = None
    ) -> None:
        self.on_event(Event(kind, self._step, text, action, results))

    def _line(self, text: str) -> None:
        self.on_event(Event("line", self._step, text))

    def _output(self, data: bytes, tracker: BuildTracker) -> None:
        self.on_event(Event("output", self._step, "", data=data, tracker=tracker))
