"""The wizard's hold on the engine: one plan, one run state (the state file is the truth),
and the engine built the same way the headless CLI builds it (steps/cli/main.py cmd_run).

Everything here is blocking: call it from thread workers, never from the event loop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from checks.evaluate import CheckContext, ProbeResult, all_pass
from checks.preflight import Row
from checks.result import CheckResult
from steps.cli.plan import who_runs
from steps.core import preflight
from steps.core.engine import Engine, Event, NeedsConfirmation, NeedsUnmet
from steps.core.invocation import command_with_options
from steps.core.lock import WIZARD, LockedError, StateLock
from steps.core.model import Action, Command, Step
from steps.core.plan import Plan
from steps.core.secret_input import held_secret
from steps.core.session import Options, Session, SessionError
from steps.core.state import ActionStatus, RunState, StateError, StepStatus

HANA_STEPS = (1, 7)
PASSWORD_VARS = ("EMLSETUP_SYSTEM_PASSWORD", "EMLSETUP_ML_USER_PASSWORD")
RAN = (ActionStatus.DONE, ActionStatus.ALREADY_DONE)


def reattach_command(options: Options) -> str:
    """The exact command that re-attaches to this run from another shell: emlsetup with this
    run's options, or the wrapper that runs it (steps/core/invocation.py, the demo's)."""
    argv: list[str] = []
    if options.config is not None:
        argv += ["--config", str(options.config)]
    if str(options.root) != "/":
        argv += ["--root", str(options.root)]
    if options.state_dir is not None:
        argv += ["--state-dir", str(options.state_dir)]
    if options.distro:
        argv += ["--distro", options.distro]
    for override in options.overrides:
        argv += ["--set", override]
    return command_with_options(argv, ["resume"], options.environ)


@dataclass
class Outcome:
    ok: bool
    cancelled: bool = False
    message: str = ""


@dataclass
class Driver:
    session: Session
    plan: Plan | None = None
    state: RunState | None = None
    passwords: dict[str, str] = field(default_factory=dict)  # memory only
    engine: Engine | None = None  # the engine of the run under way
    hana_notice: str = ""
    runs: int = 0  # steps run in this wizard session (the first starts the run)
    accepted: set[str] = field(default_factory=set)  # preflight names the admin went on with
    held: StateLock | None = None  # the state folder's lock, held while the wizard is open
    stopping: threading.Event = field(default_factory=threading.Event)  # no further step
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, session: Session) -> Driver:
        driver = cls(session)
        if session.distro.supported:
            driver.plan = session.plan()
            driver.state = session.load_or_new_state(driver.plan)
        return driver

    # -- reading --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.engine is not None

    @property
    def has_saved_run(self) -> bool:
        return self.session.store.file.exists()

    def resume_point(self) -> tuple[int, str] | None:
        """Offered only for a run on disk that stopped part-way: an action was under way or
        tried and not finished (a step never started is not something to resume)."""
        if self.state is None or not self.has_saved_run:
            return None
        point = self.state.resume_target()  # the same answer as `emlsetup status`
        if point is None:
            return None
        if not point[1]:
            if self.state.step(point[0]).status != StepStatus.UNVERIFIED:
                return point  # its actions finished but its result checks did not
            # Done, unverified: nothing stopped (the welcome says which checks to run); only
            # an action under way or tried later is something to resume.
            point = self.state.resume_point()
            if point is None:
                return None
        current = tuple(self.state.current) if self.state.current else None
        if current == point or self.state.step(point[0]).action(point[1]).attempts:
            return point
        return None

    def step(self, number: int) -> Step:
        assert self.plan is not None
        return self.plan.step(number)

    def action(self, number: int, action_id: str) -> Action:
        return next(a for a in self.step(number).actions if a.id == action_id)

    def build_actions(self, number: int) -> list[str]:
        """The step's long builds (Bazel), whose output the build screen reads."""
        if self.plan is None:
            return []
        return [
            a.id for a in self.step(number).actions if isinstance(a, Command) and a.long_running
        ]

    def who(self, action: Action) -> str:
        """The user an action runs as, named as the CLI names it."""
        return who_runs(self.session.settings, action)

    def needs_passwords(self) -> bool:
        """No hdbuserstore key, no password in the environment and none typed yet."""
        hana, env = self.session.settings.hana, self.session.options.environ
        known = [hana.system_key, hana.ml_user_key, *(env.get(v) for v in PASSWORD_VARS)]
        return not any(known) and not self.passwords

    def needs_system_password(self, number: int) -> bool:
        """A step of this system runs a command that asks for the SYSTEM password (hxe_gc.sh)
        and the wizard holds none: an hdbuserstore key lets hdbcli connect, but never gives
        the wizard the password to answer the prompt with. Only stats files (no HANA)."""
        if self.plan is None or self.state is None:
            return False
        asking = [
            a
            for a in self.step(number).actions
            if isinstance(a, Command)
            and a.stdin_secret
            # A skip is no run: the engine decides it again (hxe_gc.sh skipped for want of the
            # password runs once it is given), so the wizard asks for it again too.
            and self.state.step(number).action(a.id).status not in RAN
        ]
        if not asking:
            return False
        try:
            backend = self.session.sql_backend(self.passwords)
        except ImportError:
            return False
        if held_secret(backend, "system_password") is not None:
            return False
        ctx = CheckContext(
            host=self.session.host,
            probe=lambda argv, run_as: ProbeResult(127, "not probed"),
            distro=self.session.distro,
        )
        return any(not a.only_if or all_pass(a.only_if, ctx) for a in asking)

    def reload(self) -> None:
        """Re-read the state file (another process, or a previous wizard, may have moved on)."""
        if self.plan is not None and not self.running:
            self.state = self.session.load_or_new_state(self.plan)

    def sql(self) -> object | None:
        """The HANA backend, or None (HANA checks are then skipped) with a one-line notice."""
        try:
            backend = self.session.sql_backend(self.passwords)
        except ImportError as exc:
            self.hana_notice = f"HANA client unavailable ({exc}); HANA checks are skipped"
            return None
        self.hana_notice = "" if backend else "no HANA credentials: HANA checks are skipped"
        return backend

    def _engine(
        self,
        confirm: Callable[[Action], bool] = lambda a: False,
        on_event: Callable[[Event], None] = lambda e: None,
        hana: bool = True,
    ) -> Engine:
        assert self.plan is not None and self.state is not None
        sql = self.sql() if hana else None
        return self.session.engine(
            self.plan, self.state, sql=sql, confirm=confirm, on_event=on_event
        )

    def remaining(self) -> list[int]:
        """The steps a "run all" runs: every one not done, and not skipped by the admin."""
        if self.state is None:
            return []
        finished = (StepStatus.DONE, StepStatus.SKIPPED)
        return [s.number for s in self.state.steps if s.status not in finished]

    def unmet_need(self, *numbers: int) -> str | None:
        """Why the steps cannot run yet (an earlier step they need and that does not run
        before them), read from the system."""
        return self._engine(hana=False).unmet_need(list(numbers))

    def inspect(self, number: int) -> tuple[list[CheckResult], list[tuple[Action, str]]]:
        """Prerequisites and what a run would do, read from the system; nothing changes."""
        engine = self._engine(hana=number in HANA_STEPS)
        step = self.step(number)
        return engine.check(step, step.checks), engine.preview(step)

    def validate(self, numbers: tuple[int, ...] = (1, 6, 7)) -> list[tuple[int, CheckResult]]:
        """Every expected result of the given steps, as `emlsetup check` reads them."""
        engine = self._engine()
        rows: list[tuple[int, CheckResult]] = []
        for n in numbers:
            step = self.step(n)
            rows += [(n, r) for r in engine.check(step, step.checks + step.results)]
        return rows

    def preflight(self, *numbers: int) -> list[Row]:
        """What running these steps needs, measured as `emlsetup run` measures it; nothing
        changes (probes, statvfs, TCP knocks, HANA logins)."""
        assert self.plan is not None
        engine = self._engine(hana=False)
        runs = preflight.would_run(engine, self.plan, list(numbers))
        return preflight.measure(
            self.session, self.plan, runs, list(numbers), self.passwords,
            probe=engine.runner.probe,
        )  # fmt: skip

    # -- changing -------------------------------------------------------------------------
    def hold(self) -> None:
        """Takes the state folder's lock for as long as the wizard is open: a second wizard,
        or a headless run, is refused in one line naming this one's pid, rather than showing
        (and acting on) a run this one is following. LockedError when another holds it."""
        self.session.store.ensure_folder()
        lock = StateLock(self.session.store.folder, WIZARD)
        lock.acquire()
        self.held = lock

    def _locked(self) -> AbstractContextManager[object]:
        return nullcontext() if self.held is not None else StateLock(self.session.store.folder)

    def run_step(
        self,
        number: int,
        confirm: Callable[[Action], bool],
        on_event: Callable[[Event], None],
    ) -> Outcome:
        """One step through the engine, under the state folder's lock."""
        if not self._lock.acquire(blocking=False):
            return Outcome(False, message="a step is already running")
        try:
            self.session.store.ensure_folder()
            with self._locked():
                if self.held is not None:
                    self.held.say("")  # `status`: a step runs, not only a wizard open
                self.reload_unlocked()
                engine = self._engine(confirm, on_event, hana=number in HANA_STEPS)
                unmet = engine.unmet_need([number])
                if unmet is not None:  # before anything is saved or run
                    return Outcome(False, message=f"{unmet}.")
                # The wizard walks the whole tutorial: `emlsetup resume` may go on past it.
                engine.state.requested = []
                self.engine = engine
                self.session.store.save(engine.state)
                # One wizard session is one run: what earlier steps changed still counts.
                new_run, self.runs = not self.runs, self.runs + 1
                try:
                    ok = engine.run([number], new_run=new_run)
                except NeedsConfirmation as exc:
                    return Outcome(False, message=f"not confirmed, nothing of it ran: {exc}")
                except NeedsUnmet as exc:  # nothing ran, no step changed
                    return Outcome(False, message=f"{exc}.")
                if engine.cancelled.is_set():
                    # The step's reason says during what, and what the command said (Bazel's
                    # exit 8 sentence: its finished actions are kept).
                    said = (self.state_reason(number) or "interrupted").removesuffix(".")
                    return Outcome(False, True, f"{said}; nothing done is lost: Run resumes")
                unread = engine.state.step(number).status == StepStatus.UNVERIFIED
                reason = "" if ok and not unread else self.state_reason(number)
                if "error 10:" in reason:
                    self.passwords.clear()  # a typo must not be sent again: Retry asks anew
                return Outcome(ok, message=reason)
        except (LockedError, StateError, SessionError) as exc:
            return Outcome(False, message=str(exc))
        finally:
            self.engine = None
            if self.held is not None:
                self.held.say(WIZARD)
            self._lock.release()

    def undo_preview(self, number: int) -> str:
        """What `emlsetup undo --step N` would do, as it prints it; nothing changes."""
        import io

        from steps.cli.undo import print_preview
        from steps.core.undo import UndoEngine

        undo = UndoEngine(self._engine(hana=number in HANA_STEPS), self.session.store.folder)
        out = io.StringIO()
        print_preview(self.session, undo.preview([number]), [number], out)
        return out.getvalue()

    def undo_step(
        self,
        number: int,
        confirm: Callable[[Action], bool],
        ask: Callable[[str], bool],
        on_event: Callable[[Event], None],
    ) -> Outcome:
        """`emlsetup undo --step N` under the state folder's lock, as the CLI runs it."""
        from steps.core.undo import UndoEngine

        if self.running_build() is not None:
            return Outcome(False, message="a build is running: stop it first, then undo")
        if not self._lock.acquire(blocking=False):
            return Outcome(False, message="a step is already running")
        try:
            self.session.store.ensure_folder()
            with self._locked():  # the wizard's own lock, held while it is open, covers it
                self.reload_unlocked()
                engine = self._engine(confirm, on_event, hana=number in HANA_STEPS)
                undo = UndoEngine(engine, self.session.store.folder, ask=ask)
                blocked = undo.still_needed([number])
                if blocked is not None:  # before anything is asked or changed
                    return Outcome(False, message=f"{blocked}.")
                self.engine = engine
                try:
                    ok = undo.run([number])
                except NeedsConfirmation as exc:
                    return Outcome(False, message=f"not confirmed, nothing of it ran: {exc}")
                journal = engine.state.undo
                failed = [e for e in (journal.entries if journal else []) if e.reason]
                if ok:
                    return Outcome(True, message=f"step {number} undone: pending again")
                return Outcome(False, message=failed[-1].reason if failed else "undo stopped")
        except (LockedError, StateError, SessionError) as exc:
            return Outcome(False, message=str(exc))
        finally:
            self.engine = None
            self._lock.release()

    def reload_unlocked(self) -> None:
        assert self.plan is not None
        self.state = self.session.load_or_new_state(self.plan)

    def state_reason(self, number: int) -> str:
        assert self.state is not None
        return self.state.step(number).reason

    def cancel(self) -> bool:
        """One interrupt to the running command, as the CLI's SIGINT handler does; the
        engine then stops cleanly and the worker returns. False when nothing runs. A "run
        all" starts no further step either, even if asked between two."""
        self.stopping.set()
        engine = self.engine
        if engine is None or engine.cancelled.is_set():
            return False
        engine.cancelled.set()
        engine.runner.interrupt()
        return True

    def leave(self) -> None:
        """Stop following the build and let the worker return; the build goes on, and the
        state says where a later `emlsetup resume` re-attaches."""
        if self.engine is not None:
            self.engine.executor.leaving.set()

    def skip(self, number: int) -> None:
        """The admin chose to leave this step out; the state (and the report) says so."""
        assert self.state is not None
        st = self.state.step(number)
        st.status, st.reason = StepStatus.SKIPPED, "skipped by the admin in the wizard"
        self.session.store.ensure_folder()
        self.session.store.save(self.state)

    def running_build(self) -> tuple[int, float] | None:
        """(pid, start as a time.time()) of step 5's build when it was left running and
        its process is still there (read from the system, not only the state)."""
        from steps.core.follow import is_our_wrapper

        if self.state is None:
            return None
        for ast in self.state.step(5).actions:
            rec = ast.commands[-1] if ast.commands else None
            found = ast.status == ActionStatus.RUNNING and rec and rec.pid and rec.exit_file
            if found and rec and rec.pid and is_our_wrapper(rec.pid, Path(str(rec.exit_file))):
                return rec.pid, rec.started.timestamp()
        return None

    def build_ended_unseen(self, number: int) -> bool:
        """A build an earlier wizard left running (or that outlived its killed wizard) has
        ended with nobody following it: its exit file is there, its result not recorded."""
        if self.state is None:
            return False
        for ast in self.state.step(number).actions:
            rec = ast.commands[-1] if ast.commands else None
            if ast.status == ActionStatus.RUNNING and rec and rec.exit_file:
                return Path(rec.exit_file).exists()
        return False

    def did_something(self, number: int) -> bool:
        """The state shows emlsetup did something in this step (or made a model, step 7)."""
        if self.state is None or not any(s.number == number for s in self.state.steps):
            return False
        done = any(
            a.performed or a.status == ActionStatus.DONE for a in self.state.step(number).actions
        )
        return done or (number == 7 and (self.session.store.folder / "models.json").exists())

    def failed_action(self, number: int) -> tuple[str, list[str], str] | None:
        """(title, last meaningful lines, fix) of the step's failed action, if any."""
        if self.state is None:
            return None
        for ast in self.state.step(number).actions:
            if ast.status == ActionStatus.FAILED:
                tail = ast.commands[-1].tail if ast.commands else []
                fix = getattr(self.action(number, ast.id), "fix", "")
                return ast.title + ": " + ast.reason, tail, fix
        return None
