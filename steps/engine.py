"""Runs a plan: checks, then each action unless the system shows it done, saving the state
after every change. The CLI and the TUI both drive this one class."""

from __future__ import annotations

import re
import shlex
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from checks.evaluate import CheckContext, ProbeResult, all_pass, evaluate_all
from checks.result import CheckResult, Status
from checks.spec import CheckSpec
from checks.system import PasswdEntry, read_passwd
from steps import files
from steps.model import (
    Action,
    AppendLine,
    Command,
    EnsureDir,
    Manual,
    Sql,
    StartDaemon,
    Step,
    WriteFile,
)
from steps.plan import Plan
from steps.runner import Runner
from steps.settings import Settings
from steps.state import (
    ActionState,
    ActionStatus,
    CommandRecord,
    RunState,
    StateStore,
    StepState,
    StepStatus,
)


class SqlBackend(Protocol):
    def query(self, role: str, sql: str, params: Any = ()) -> list[tuple[Any, ...]]: ...
    def execute_all(self, role: str, statements: list[str]) -> list[list[tuple[Any, ...]]]: ...


@dataclass
class Event:
    kind: str  # step, checks, action, skip, line, done, failed, results, manual, stopped
    step: int
    text: str
    action: str = ""
    results: list[CheckResult] | None = None


class NeedsConfirmation(Exception):
    """A root action was not confirmed: nothing of it ran."""


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


def describe(action: Action) -> str:
    """What an action will do, as the admin sees it before it runs."""
    if isinstance(action, (Command, StartDaemon)):
        return shlex.join(action.argv)
    if isinstance(action, WriteFile):
        check = f", checked with {' '.join(action.validate_argv)}" if action.validate_argv else ""
        return f"write {action.path} (mode {action.mode:04o}{check}):\n{action.content.rstrip()}"
    if isinstance(action, AppendLine):
        return f"append to {action.path}: {action.line}"
    if isinstance(action, EnsureDir):
        return f"mkdir -p {action.path}"
    if isinstance(action, Manual):
        return action.instruction
    return ";\n".join(action.statements)


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
    ) -> None:
        self.plan, self.settings, self.runner, self.store = plan, settings, runner, store
        self.state, self.sql, self.confirm, self.on_event = state, sql, confirm, on_event
        self.cancelled = threading.Event()
        runner.listeners.append(self._line)
        self._step = 0

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
    def run(self, steps: list[int] | None = None) -> bool:
        """Runs the given steps (all by default) until one fails; True when all are done."""
        for step in self.plan.steps:
            if steps is not None and step.number not in steps:
                continue
            if self.cancelled.is_set() or not self.run_step(step):
                return False
        return True

    def run_step(self, step: Step) -> bool:
        st = self.state.step(step.number)
        self._step = step.number
        st.status, st.reason = StepStatus.RUNNING, ""
        self._emit("step", f"Step {step.number}: {step.title}")
        st.checks = self.check(step, step.checks)
        self._emit("checks", "prerequisites", results=st.checks)
        blocking = [c for c in st.checks if c.status == Status.FAIL]
        if blocking:
            return self._fail_step(
                st,
                f"prerequisite failed: {blocking[0].name} "
                f"({blocking[0].measured}); fix: {blocking[0].fix}",
            )
        for action in step.actions:
            if self.cancelled.is_set():
                return self._stop(st, "cancelled")
            if not self.run_action(step, action):
                return False
        st.results = self.check(step, step.results)
        self._emit("results", "expected results", results=st.results)
        failed = [c for c in st.results if c.status == Status.FAIL]
        if failed:
            return self._fail_step(
                st,
                f"expected result not met: {failed[0].name} "
                f"({failed[0].measured}); fix: {failed[0].fix}",
            )
        st.status = StepStatus.DONE
        self.state.current = None
        self._save()
        self._emit("done", f"Step {step.number} done")
        return True

    def verdict(self, step: Step, action: Action) -> tuple[ActionStatus | None, str]:
        """Why an action will not run (a status and a reason), or (None, "") when it must."""
        ast = self.state.step(step.number).action(action.id)
        if ast.status.finished:
            return ast.status, "finished in an earlier run"
        ctx = self.context(step)
        if action.optional_setting and not self._setting(action.optional_setting):
            return (
                ActionStatus.SKIPPED,
                f"optional: turn it on with --set {action.optional_setting}=true",
            )
        if action.only_if and not all_pass(action.only_if, ctx):
            return ActionStatus.SKIPPED, "not applicable here: " + ", ".join(
                c.name for c in action.only_if
            )
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
            if ast.status != status or ast.reason != reason:
                self._settle(ast, status, reason)
            return True  # a finished action is never repeated
        if action.needs_root and not self.confirm(action):
            self._emit("stopped", f"not confirmed, nothing was run: {action.title}", action.id)
            raise NeedsConfirmation(action.title)
        ast.status, ast.attempts = ActionStatus.RUNNING, ast.attempts + 1
        self.state.current = (step.number, action.id)
        self._save()
        self._emit("action", f"{action.title}\n  $ {describe(action)}", action.id)
        error = self._execute(step, action, ast)
        if self.cancelled.is_set():
            ast.status, ast.reason = ActionStatus.PENDING, "interrupted; resume runs it again"
            return self._stop(st, f"interrupted during: {action.title}")
        needs_proof = error is None and action.done_when and not action.idempotent
        if needs_proof and not all_pass(action.done_when, self.context(step)):
            error = "it ran, but the system does not show it done: " + action.done_when[0].name
        if error is not None:
            ast.status, ast.reason = ActionStatus.FAILED, error
            return self._fail_step(st, f"{action.title} failed: {error}")
        return self._settle(ast, ActionStatus.DONE, "")

    def _execute(self, step: Step, action: Action, ast: ActionState) -> str | None:
        """Does the action; returns None on success or one sentence saying what went wrong."""
        log_name = f"{step.number}-{action.id}"
        try:
            if isinstance(action, Command):
                rec = self.runner.run(
                    action.argv,
                    action.run_as,
                    cwd=action.cwd,
                    path_extra=step.path_extra,
                    log_name=log_name,
                )
                ast.commands.append(rec)
                return _command_error(rec, action.expect_output)
            if isinstance(action, StartDaemon):
                return self._start_daemon(step, action, ast)
            if isinstance(action, Sql):
                return self._sql(action, ast)
            return self._file_action(action, ast)
        except files.FileActionError as exc:
            return str(exc)
        except OSError as exc:
            return f"{exc.strerror or exc} ({exc.filename or ''})"

    def _file_action(self, action: Action, ast: ActionState) -> str | None:
        host = self.runner.host
        owner = self._owner(getattr(action, "owner", "root"))
        rec = CommandRecord(display=describe(action).splitlines()[0], user=host.login)
        ast.commands.append(rec)
        if isinstance(action, WriteFile):
            validate = self._validator(action) if action.validate_argv else None
            rec.tail = [
                files.write_new_file(
                    host.path(action.path), action.content, action.mode, owner, validate
                )
            ]
        elif isinstance(action, AppendLine):
            rec.tail = [files.append_line(host.path(action.path), action.line, owner)]
        elif isinstance(action, EnsureDir):
            rec.tail = [files.ensure_dir(host.path(action.path), owner)]
        rec.exit_code = 0
        return None

    def _validator(self, action: WriteFile) -> Callable[[Path], str | None]:
        def validate(tmp: Path) -> str | None:
            argv = [a.replace("{file}", str(tmp)) for a in action.validate_argv or []]
            # The temp file is local: run the checker on it directly, as ourselves.
            rec = self.runner.run(argv, "self", log_name=f"validate-{action.id}")
            if rec.exit_code == 0:
                return None
            said = " ".join(rec.tail[-2:]) or f"exit {rec.exit_code}"
            return f"{argv[0]} rejected the new file, nothing was changed: {said}"

        return validate

    def _start_daemon(self, step: Step, action: StartDaemon, ast: ActionState) -> str | None:
        host = self.runner.host
        log = host.path(action.log_file)
        log.touch()
        files.chown_to(log, self._owner(action.run_as))
        pid = self.runner.start_detached(action.argv, action.run_as, log, step.path_extra)
        rec = CommandRecord(
            display=describe(action),
            user=self.runner.identity.name(action.run_as),
            pid=pid,
            log_file=str(log),
        )
        ast.commands.append(rec)
        deadline = time.monotonic() + action.ready_timeout_s
        ready = [c for c in action.done_when if c.kind == "port_open"]
        while time.monotonic() < deadline:
            if ready and all_pass(ready, self.context(step)):
                rec.exit_code = 0
                return None
            if not _alive(pid):
                break
            time.sleep(0.2)
        text = log.read_text(errors="replace").splitlines()
        from steps.output import meaningful_tail

        rec.tail = meaningful_tail(text)
        return (
            f"it did not answer on {action.ready_host}:{action.ready_port} within "
            f"{action.ready_timeout_s:.0f}s; see {action.log_file}"
        )

    def _sql(self, action: Sql, ast: ActionState) -> str | None:
        if self.sql is None:
            return (
                "no HANA connection: set EMLSETUP_SYSTEM_PASSWORD and EMLSETUP_ML_USER_PASSWORD, "
                "or hdbuserstore keys in hana.system_key / hana.ml_user_key"
            )
        rec = CommandRecord(display=describe(action), user=action.role)
        ast.commands.append(rec)
        started = time.monotonic()
        try:
            results = self.sql.execute_all(action.role, action.statements)
        except Exception as exc:  # the HANA layer raises one sentence per failure
            rec.exit_code, rec.tail = 1, [str(exc)]
            return str(exc)
        finally:
            rec.duration_s = round(time.monotonic() - started, 3)
        rows = [[str(v) for v in row] for row in (results[-1] if results else [])]
        rec.exit_code, rec.tail = 0, [" | ".join(r) for r in rows][:20]
        if action.capture:
            ast.captured = rows
        if action.expect_rows is not None:
            want = [[str(v) for v in row] for row in action.expect_rows]
            if not rows or any(r not in want for r in rows):
                got = "; ".join(" | ".join(r) for r in rows) or "no rows"
                return f"expected {' | '.join(want[0])}, got {got}"
        return None

    # -- helpers ----------------------------------------------------------------------------
    def _owner(self, run_as: str) -> PasswdEntry | None:
        if run_as == "root":
            return None
        users = read_passwd(self.runner.host.path("/etc/passwd"))
        return users.get(self.runner.identity.name(run_as))

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


def _command_error(rec: CommandRecord, expect: str | None) -> str | None:
    if rec.exit_code != 0:
        last = rec.tail[-1] if rec.tail else ""
        return f"exit {rec.exit_code}" + (f": {last}" if last else "")
    if expect and not any(re.search(expect, line) for line in rec.tail):
        return f"its output did not show {expect!r}"
    return None


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
