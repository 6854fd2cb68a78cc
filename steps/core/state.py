"""The run's state: what was done, when, by which command, with what result.

Written atomically (temp file, fsync, rename, fsync of the folder) after every change, so a
kill at any moment leaves either the previous state or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from checks.result import CheckResult
from steps.core.buildenv import strip_url_credentials

SCHEMA = 1
STATE_FILE = "state.json"


def now() -> datetime:
    return datetime.now(timezone.utc)


class ActionStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    ALREADY_DONE = "already done"  # found done on the system before we ran anything
    SKIPPED = "skipped"
    MANUAL = "manual"  # for the admin to do; shown, not run
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (ActionStatus.DONE, ActionStatus.ALREADY_DONE, ActionStatus.SKIPPED)


class StepStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    # Every action finished, but a prerequisite or result check could not be evaluated (no
    # HANA connection, not root): not "done" until `emlsetup check --step N` can read it.
    UNVERIFIED = "done, unverified"


class CommandRecord(BaseModel):
    display: str
    user: str
    cwd: str | None = None
    started: datetime = Field(default_factory=now)
    duration_s: float | None = None
    exit_code: int | None = None
    tail: list[str] = []
    log_file: str | None = None
    pid: int | None = None
    # A detached build: where its exit status will appear, how far its log was shown, and
    # the exact command line and environment, so that a re-run is identical.
    exit_file: str | None = None
    log_offset: int = 0
    exec_argv: list[str] | None = None
    env: dict[str, str] | None = None


class ActionState(BaseModel):
    id: str
    title: str
    status: ActionStatus = ActionStatus.PENDING
    reason: str = ""
    commands: list[CommandRecord] = []
    captured: list[list[str]] | None = None
    attempts: int = 0
    # emlsetup ran it to its end (in any run), as opposed to finding it done: what
    # `emlsetup undo` may reverse. Kept when a later run only re-checks it.
    performed: bool = False


class StepState(BaseModel):
    number: int
    title: str
    status: StepStatus = StepStatus.PENDING
    reason: str = ""
    checks: list[CheckResult] = []
    results: list[CheckResult] = []
    actions: list[ActionState] = []

    def action(self, action_id: str) -> ActionState:
        return next(a for a in self.actions if a.id == action_id)


class UndoEntry(BaseModel):
    """One thing `emlsetup undo` reverses (or leaves, saying why), as it went."""

    step: int
    key: str  # the undo's first action id; "model:NAME:..." for a model's
    title: str
    # pending, running, undone, nothing (nothing of it left, or not emlsetup's), kept
    # (changed by hand, or in a kept folder), listed (left on purpose), declined, failed
    status: str = "pending"
    reason: str = ""
    path: str = ""  # what a "no" kept
    commands: list[CommandRecord] = []


class UndoJournal(BaseModel):
    """An undo under way or done: a kill anywhere, and the next `emlsetup undo` goes on."""

    started: datetime = Field(default_factory=now)
    finished: datetime | None = None
    steps: list[int] = []
    entries: list[UndoEntry] = []
    # What the admin chose to keep, in this undo or an earlier one: nothing removes it.
    kept: list[str] = []

    def entry(self, step: int, key: str) -> UndoEntry | None:
        return next((e for e in self.entries if (e.step, e.key) == (step, key)), None)


class RunState(BaseModel):
    schema_version: int = SCHEMA
    run_id: str
    created: datetime = Field(default_factory=now)
    updated: datetime = Field(default_factory=now)
    distro: str
    family: str
    settings: dict[str, object] = {}
    steps: list[StepState] = []
    current: tuple[int, str] | None = None  # the action under way, for "resume at..."
    requested: list[int] = []  # the steps the last `run` asked for; resume keeps to them
    # What the last `run`/`resume` itself changed ("step/action" ids it ran to done), as
    # opposed to found already done or skipped: `emlsetup status` reports it as "changed".
    last_run: datetime | None = None
    changed: list[str] = []
    # What the last run read from the system and found done, without changing it.
    rechecked: list[str] = []
    # The settings the runs were given (answers file, environment, --set), for
    # `emlsetup answers write`; defaults are not in it.
    told: dict[str, object] = {}
    undo: UndoJournal | None = None  # the last `emlsetup undo`

    def step(self, number: int) -> StepState:
        return next(s for s in self.steps if s.number == number)

    def unverified(self) -> list[int]:
        """The requested steps that finished without their checks being read."""
        wanted = self.requested or [s.number for s in self.steps]
        unread = [s for s in self.steps if s.status == StepStatus.UNVERIFIED]
        return [s.number for s in unread if s.number in wanted]

    def start_run(self) -> None:
        self.last_run, self.changed, self.rechecked = now(), [], []

    def run_again(self, number: int) -> None:
        """A step run (again) while an undo was cut short: that undo no longer covers it,
        so a later undo reverses what this run makes instead of going on with the old one."""
        undo = self.undo
        if undo is None or undo.finished is not None or number not in undo.steps:
            return
        undo.steps = [n for n in undo.steps if n != number]
        undo.entries = [e for e in undo.entries if e.step != number]
        if not undo.steps:
            undo.finished = now()

    @property
    def finished(self) -> bool:
        return all(s.status in (StepStatus.DONE, StepStatus.SKIPPED) for s in self.steps)

    def resume_point(self) -> tuple[int, str] | None:
        """Where `resume` picks up: the action under way when the run stopped, else the
        first one that was tried and did not finish, else the first one not finished."""
        open_ = [
            (step.number, a)
            for step in self.steps
            if (not self.requested or step.number in self.requested)
            and step.status != StepStatus.SKIPPED  # skipped on purpose, in the wizard
            for a in step.actions
            if not a.status.finished and a.status != ActionStatus.MANUAL
        ]
        if self.current is not None:
            for number, a in open_:
                if (number, a.id) == tuple(self.current):
                    return number, a.id
        tried = [(n, a.id) for n, a in open_ if a.attempts]
        first = [(n, a.id) for n, a in open_[:1]]
        return next(iter(tried or first), None)

    def resume_target(self) -> tuple[int, str] | None:
        """What `emlsetup resume` will do, and what `status` announces: where the run
        stopped (``resume_point``), or an earlier step whose actions are all finished but
        which is not done (killed or failed during its expected-result checks: action ""),
        whichever comes first; None exactly when every requested step is done or skipped."""
        point = self.resume_point()
        unchecked = [
            s.number
            for s in self.steps
            if (not self.requested or s.number in self.requested)
            and not _step_finished(s)
            and all(a.status.finished or a.status == ActionStatus.MANUAL for a in s.actions)
        ]
        starts = unchecked + ([point[0]] if point else [])
        if not starts:
            return None
        first = min(starts)
        if point is not None and point[0] == first:
            return point
        return first, ""


MAX_DEPTH = 32  # a state file is a few levels deep; more is damage, not a run


def _depth(value: object) -> int:
    """How deeply lists and objects nest, without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        node, level = todo.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            todo += [(v, level + 1) for v in (node.values() if isinstance(node, dict) else node)]
    return deepest


def _step_finished(step: StepState) -> bool:
    # Skipped on purpose in the wizard, or done with its expected results checked.
    return step.status in (StepStatus.DONE, StepStatus.SKIPPED)


class StateError(Exception):
    """A sentence for the admin; the CLI prints it and exits 2."""


class StateStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file = folder / STATE_FILE

    def ensure_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StateError(
                f"cannot create the state folder {self.folder} ({exc.strerror}); "
                "choose a writable one with --state-dir"
            ) from None

    def load(self) -> RunState | None:
        try:
            raw = self._read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(
                f"cannot read {self.file} ({exc.strerror}); check its permissions"
            ) from None
        try:
            data = json.loads(raw)
            if _depth(data) > MAX_DEPTH:
                raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
            state = RunState.model_validate(data)
        except RecursionError:
            raise StateError(
                f"the state file {self.file} is damaged (nested too deeply); move it aside "
                f"(mv {self.file} {self.file}.damaged) to start a new run"
            ) from None
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()[0][:120]
            raise StateError(
                f"the state file {self.file} is damaged ({first}); move it aside "
                f"(mv {self.file} {self.file}.damaged) to start a new run: the new run reads the "
                "system and skips what is already done"
            ) from None
        if state.schema_version != SCHEMA:
            raise StateError(
                f"{self.file} was written by another emlsetup version "
                f"(schema {state.schema_version}); move it aside to start anew"
            )
        return state

    def _read(self) -> str:
        """The file's text; a FIFO or device in its place is refused, never waited on."""
        fd = os.open(self.file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StateError(
                    f"{self.file} is not a regular file; move it aside "
                    f"(mv {self.file} {self.file}.damaged) to start a new run"
                )
            with os.fdopen(os.dup(fd), "rb") as fh:
                return fh.read().decode("utf-8", errors="replace")
        finally:
            os.close(fd)

    def save(self, state: RunState) -> None:
        state.updated = now()
        # No credential in a URL (a clone URL with a token, a proxy) is ever written down.
        data = strip_url_credentials(state.model_dump_json(indent=1))
        # A fixed temp name: a save cut short by a kill leaves one file the next save replaces.
        tmp = self.folder / ".state.json.new"
        try:
            tmp.unlink(missing_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                with os.fdopen(fd, "w") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.file)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            dir_fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise StateError(
                f"cannot save the state in {self.folder} ({exc.strerror}); the previous state "
                f"is intact: free some space, then {self._what_continues()}"
            ) from None

    def _what_continues(self) -> str:
        """The command that continues after a failed save, read from the state left on disk:
        `resume` only where it would find something to do."""
        try:
            previous = self.load()
        except StateError:
            previous = None
        if previous is None:
            return "run the same `emlsetup run` command again"
        point = previous.resume_target()
        if point is None:
            return (
                "run the same `emlsetup run` command again (the saved run is complete, so "
                "`emlsetup resume` would find nothing to do)"
            )
        return f"`emlsetup resume` (it continues at step {point[0]})"
