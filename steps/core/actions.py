"""Doing one action of each kind. Each returns None on success or one sentence saying what
went wrong; what ran is appended to the action's state as a CommandRecord."""

from __future__ import annotations

import re
import shlex
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from checks.evaluate import CheckContext, all_pass
from checks.system import PasswdEntry, read_passwd
from steps.bazel.exit_codes import bazel_failure, is_bazel, waiting_sentence
from steps.bazel.log import BuildTracker
from steps.core import files
from steps.core.follow import (
    alive,
    find_wrapper,
    follow,
    is_our_wrapper,
    read_exit,
    reattach_offset,
)
from steps.core.model import (
    Action,
    AppendLine,
    Command,
    DropModelObjects,
    EnsureDir,
    Manual,
    RemoveLine,
    RemoveModelEntry,
    Sql,
    StartDaemon,
    Step,
    StopDaemon,
    WriteFile,
)
from steps.core.output import Tail, error_line, meaningful_tail
from steps.core.runner import Runner
from steps.core.secret_input import held_secret
from steps.core.state import ActionState, CommandRecord, now


class SqlBackend(Protocol):
    def query(self, role: str, sql: str, params: Any = ()) -> list[tuple[Any, ...]]: ...
    def execute_all(self, role: str, statements: list[str]) -> list[list[tuple[Any, ...]]]: ...


TAIL_BYTES = 64 * 1024  # of a build's output, for the failure report's tail

NO_HANA = (
    "no HANA connection: set EMLSETUP_SYSTEM_PASSWORD and EMLSETUP_ML_USER_PASSWORD, or "
    "hdbuserstore keys in hana.system_key / hana.ml_user_key"
)


def describe(action: Action | StopDaemon | RemoveModelEntry | DropModelObjects) -> str:
    """What an action will do, as the admin sees it before it runs."""
    if isinstance(action, (Command, StartDaemon)):
        return shlex.join(action.argv)
    if isinstance(action, WriteFile):
        check = ""
        if action.validate_argv:
            # {file} is the new file under its temporary name, checked before it moves.
            tmp = str(files.temp_path(Path(action.path)))
            check = f", checked with {' '.join(action.validate_argv).replace('{file}', tmp)}"
        return f"write {action.path} (mode {action.mode:04o}{check}):\n{action.content.rstrip()}"
    if isinstance(action, AppendLine):
        return f"append to {action.path}: {action.line}"
    if isinstance(action, EnsureDir):
        return f"mkdir -p {action.path}"
    if isinstance(action, RemoveLine):
        return f"remove from {action.path}: {action.line}"
    if isinstance(action, StopDaemon):
        return f"stop {action.argv[0]} on port {action.port} (the server emlsetup started)"
    if isinstance(action, RemoveModelEntry):
        return f"remove the model {action.model} from {action.path}"
    if isinstance(action, DropModelObjects):
        return (
            f"CALL SYS.AFLLANG_WRAPPER_PROCEDURE_DROP('EML_DATA', 'PREDICT_{action.model.upper()}')"
            f"; DROP TABLE / DROP TYPE of each of {action.model}'s tables and table types"
        )
    if isinstance(action, Manual):
        return action.instruction
    return ";\n".join(action.statements)


class Executor:
    def __init__(
        self,
        runner: Runner,
        sql: SqlBackend | None,
        context: Callable[[Step], CheckContext],
        save: Callable[[], None],
        cancelled: threading.Event,
        on_line: Callable[[str], None],
        on_output: Callable[[bytes, BuildTracker], None],
    ) -> None:
        """``on_line``: one line of a command's output or our own; ``on_output``: a block
        of a build's log (many lines) with the tracker that has just read it."""
        self.runner, self.sql, self.context, self.save = runner, sql, context, save
        self.cancelled, self.on_line, self.on_output = cancelled, on_line, on_output
        self.leaving = threading.Event()  # stop following a build, leave it running

    def execute(self, step: Step, action: Action, ast: ActionState) -> str | None:
        try:
            if isinstance(action, Command) and action.long_running:
                return self._long(step, action, ast)
            if isinstance(action, Command):
                secret = held_secret(self.sql, action.stdin_secret) if action.stdin_secret else None
                if action.stdin_secret and secret is None:
                    return "the SYSTEM password it asks for is not held"  # engine skips first
                rec = self.runner.run(
                    action.argv,
                    action.run_as,
                    cwd=action.cwd,
                    path_extra=step.path_extra,
                    log_name=f"{step.number}-{action.id}",
                    login=action.login,
                    secret_input=secret,
                )
                ast.commands.append(rec)
                error = command_error(rec, action.expect_output)
                return error or self._ready(step, action)
            if isinstance(action, StartDaemon):
                return self._daemon(step, action, ast)
            if isinstance(action, Sql):
                return self._sql(action, ast)
            return self._file(action, ast)
        except files.FileActionError as exc:
            return self._target_paths(str(exc))
        except PermissionError as exc:
            where = self.runner.host.unmap(Path(exc.filename)) if exc.filename else "a file"
            # Files are written by the wizard itself, so it needs the rights sudo would give.
            return (
                f"no permission to write {where}: run the wizard as root for this step "
                '(sudo "$(command -v emlsetup)" resume)'
            )
        except OSError as exc:
            where = self.runner.host.unmap(Path(exc.filename)) if exc.filename else ""
            return f"{exc.strerror or exc} ({where})"

    def _target_paths(self, text: str) -> str:
        """The admin knows /etc/..., not the sandbox or chroot folder it is under."""
        root = str(self.runner.host.root)
        return text.replace(root.rstrip("/") + "/", "/") if root != "/" else text

    # -- the 2-4 hour build ------------------------------------------------------------------
    def _long(self, step: Step, action: Command, ast: ActionState) -> str | None:
        """Started detached, so it outlives the wizard; a later run re-attaches to it, or
        re-runs the identical command (same directory and environment: Bazel keeps its
        finished actions only for an identical environment) if it died."""
        last = ast.commands[-1] if ast.commands else None
        if last and last.exit_file and last.exit_code is None:
            exit_file, log = Path(last.exit_file), Path(last.log_file or "")
            code = read_exit(exit_file)
            if code is None and last.pid is None and (found := find_wrapper(exit_file)):
                last.pid, last.exec_argv, last.env = found.pid, found.argv, found.env
            if code is None and last.pid and is_our_wrapper(last.pid, exit_file):
                self.on_line(
                    f"[emlsetup] re-attaching to the build started {last.started:%H:%M} "
                    f"UTC (pid {last.pid}); it kept running while the wizard was away"
                )
                return self._follow(last, reattach_offset(log, last.log_offset), action)
            if code is not None:
                last.exit_code = code
                if code != 0 and is_bazel(action.argv[0]):
                    return bazel_failure(code, BuildTracker())
                return command_error(last, None)
            if last.pid is None:
                self.on_line("[emlsetup] the build had not started when the wizard stopped")
                rec = self._record(step, action)
            else:
                self.on_line(
                    "[emlsetup] the previous build died; running the identical command again"
                )
                rec = self._record(step, action, last.exec_argv, last.env)
        else:
            rec = self._record(step, action)
        ast.commands.append(rec)
        # The build's file names are on disk before it starts, its pid and command line
        # right after: a wizard stopped in between leaves a build that can be found again.
        self.save()
        self._start(step, action, rec)
        self.save()
        return self._follow(rec, 0, action)

    def _record(
        self,
        step: Step,
        action: Command,
        exec_argv: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> CommandRecord:
        folder = self.runner.log_dir
        folder.mkdir(parents=True, exist_ok=True)
        # Names of their own: a build interrupted and resumed within the same second would
        # otherwise share the old one's files, and its exit file ended the new build at once.
        base = name = f"{step.number}-{action.id}-{time.strftime('%H%M%S')}"
        attempt = 1
        while (folder / f"{name}.log").exists() or (folder / f"{name}.exit").exists():
            attempt += 1
            name = f"{base}-{attempt}"
        log = folder / f"{name}.log"
        log.touch()
        return CommandRecord(
            display=describe(action),
            user=self.runner.identity.name(action.run_as),
            cwd=action.cwd,
            log_file=str(log),
            exit_file=str(folder / f"{name}.exit"),
            exec_argv=exec_argv,
            env=env,
        )

    def _start(self, step: Step, action: Command, rec: CommandRecord) -> None:
        """Starts the recorded command: the identical one when ``rec`` has its line."""
        rec.pid, rec.exec_argv, rec.env = self.runner.start_build(
            action.argv,
            action.run_as,
            cwd=action.cwd,
            path_extra=step.path_extra,
            log_file=Path(rec.log_file or ""),
            exit_file=Path(rec.exit_file or ""),
            exec_argv=rec.exec_argv,
            env=rec.env or None,
        )

    def _follow(self, rec: CommandRecord, offset: int, action: Command) -> str | None:
        tracker = BuildTracker()
        recent = Tail(TAIL_BYTES)  # for the failure report
        told: set[int | None] = set()

        def block(data: bytes) -> None:
            # Hours of build output arrive in blocks: read by C-level scans, passed on
            # undecoded (the screen shows a tail, the CLI all of it).
            tracker.feed_bytes(data, time.monotonic())
            recent.add(data)
            self.on_output(data, tracker)
            if tracker.waiting is not None and tracker.waiting.pid not in told:
                told.add(tracker.waiting.pid)
                self.on_line(waiting_sentence(tracker.waiting.pid))

        pid = rec.pid or 0
        followed = follow(
            Path(rec.log_file or ""),
            Path(rec.exit_file or ""),
            pid,
            offset,
            self.on_line,  # not called: blocks go to on_chunk
            self.cancelled,
            lambda: self.runner.interrupt_group(pid),
            on_chunk=block,
            leave=self.leaving,
        )
        rec.log_offset = followed.offset
        if followed.left:
            return None  # the engine sees `leaving` and records nothing as finished
        rec.duration_s = round((now() - rec.started).total_seconds(), 1)
        rec.tail = meaningful_tail(recent.lines())
        if followed.exit_code is None:
            rec.tail.append("the build process died without recording its exit status")
            return "the build stopped without an exit status (killed?); resume runs it again"
        rec.exit_code = followed.exit_code
        if rec.exit_code != 0 and is_bazel(action.argv[0]):
            return bazel_failure(rec.exit_code, tracker)
        return command_error(rec, action.expect_output)

    def _ready(self, step: Step, action: Command) -> str | None:
        """Polls the action's readiness checks (the service answers) until its timeout."""
        if not action.ready_when:
            return None
        deadline = time.monotonic() + action.ready_timeout_s
        while time.monotonic() < deadline:
            if all_pass(action.ready_when, self.context(step)):
                return None
            time.sleep(0.2)
        names = ", ".join(c.name for c in action.ready_when)
        return f"it did not become ready within {action.ready_timeout_s:.0f}s: {names}"

    # -- the model server --------------------------------------------------------------------
    def _daemon(self, step: Step, action: StartDaemon, ast: ActionState) -> str | None:
        host = self.runner.host
        log = host.path(action.log_file)
        log.touch()
        files.chown_to(log, self.owner(action.run_as))
        pid = self.runner.start_detached(action.argv, action.run_as, log, step.path_extra)
        rec = CommandRecord(
            display=describe(action),
            user=self.runner.identity.name(action.run_as),
            pid=pid,
            log_file=str(log),
        )
        ast.commands.append(rec)
        deadline = time.monotonic() + action.ready_timeout_s
        # Ready when it answers as TF Serving does (gRPC), or, for another daemon, its port.
        ready = [c for c in action.done_when if c.kind in ("tf_serving", "port_open")]
        while time.monotonic() < deadline:
            if ready and all_pass(ready, self.context(step)):
                rec.exit_code = 0
                return None
            if not alive(pid):
                break
            time.sleep(0.2)
        rec.tail = meaningful_tail(log.read_text(errors="replace").splitlines())
        said = f" ({rec.tail[-1]})" if rec.tail else ""
        if not alive(pid):
            return f"it stopped at once{said}; see {action.log_file}"
        return (
            f"it did not answer on {action.ready_host}:{action.ready_port} within "
            f"{action.ready_timeout_s:.0f}s{said}; see {action.log_file}"
        )

    # -- SQL ---------------------------------------------------------------------------------
    def _sql(self, action: Sql, ast: ActionState) -> str | None:
        if self.sql is None:
            return NO_HANA
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
        for shown in rec.tail:
            self.on_line(shown)  # the admin sees what HANA answered, as with a command
        if action.capture:
            ast.captured = rows
        if action.expect_rows is not None:
            want = [[str(v) for v in row] for row in action.expect_rows]
            if not rows or any(r not in want for r in rows):
                got = "; ".join(" | ".join(r) for r in rows) or "no rows"
                return f"expected {' | '.join(want[0])}, got {got}"
        return None

    # -- files we write ourselves ------------------------------------------------------------
    def _file(self, action: Action, ast: ActionState) -> str | None:
        host = self.runner.host
        owner = self.owner(getattr(action, "owner", "root"))
        rec = CommandRecord(display=describe(action).splitlines()[0], user=host.login)
        ast.commands.append(rec)
        if isinstance(action, WriteFile):
            validate = self._validator(action) if action.validate_argv else None
            said = files.write_new_file(
                host.path(action.path), action.content, action.mode, owner, validate
            )
        elif isinstance(action, AppendLine):
            said = files.append_line(host.path(action.path), action.line, owner)
        elif isinstance(action, EnsureDir):
            said = files.ensure_dir(host.path(action.path), owner)
        elif isinstance(action, RemoveLine):
            said = files.remove_line(host.path(action.path), action.line)
        else:
            raise TypeError(type(action).__name__)
        rec.exit_code, rec.tail = 0, [said]
        return None

    def _validator(self, action: WriteFile) -> Callable[[Path], str | None]:
        def validate(tmp: Path) -> str | None:
            host = self.runner.host
            shown = host.unmap(tmp) if host.chroot else str(tmp)  # inside the chroot
            argv = [a.replace("{file}", shown) for a in action.validate_argv or []]
            # The temp file is local: run the checker on it directly, as ourselves.
            rec = self.runner.run(argv, "self", log_name=f"validate-{action.id}")
            if rec.exit_code == 0:
                return None
            said = " ".join(rec.tail[-2:]) or f"exit {rec.exit_code}"
            return f"{argv[0]} rejected the new file, nothing was changed: {said}"

        return validate

    def owner(self, run_as: str) -> PasswdEntry | None:
        if run_as == "root":
            return None
        users = read_passwd(self.runner.host.path("/etc/passwd"))
        return users.get(self.runner.identity.name(run_as))


def command_error(rec: CommandRecord, expect: str | None) -> str | None:
    if rec.exit_code != 0:
        said = error_line(rec.tail)
        return f"exit {rec.exit_code}" + (f": {said}" if said else "")
    if expect and not any(re.search(expect, line) for line in rec.tail):
        return f"its output did not show {expect!r}"
    return None
