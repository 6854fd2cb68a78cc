"""Runs commands through ``sh``: as the right user, in a controlled environment, streamed
line by line to a log file and to listeners, interruptible with one SIGINT."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sh

from checks.evaluate import ProbeResult
from checks.host import Host
from steps.core.buildenv import build_env, recordable, restore, restore_argv, strip_url_credentials
from steps.core.output import meaningful_tail
from steps.core.secret_input import scrub
from steps.core.state import CommandRecord

LineListener = Callable[[str], None]
TAIL_LINES = 400


@dataclass
class Identity:
    """Who 'root', 'admin' and 'sid_adm' are on this system."""

    admin: str
    sid_adm: str

    def name(self, run_as: str) -> str:
        return {"admin": self.admin, "sid_adm": self.sid_adm}.get(run_as, run_as)


@dataclass
class Runner:
    host: Host
    identity: Identity
    log_dir: Path
    listeners: list[LineListener] = field(default_factory=list)
    _current: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def command_line(
        self, argv: list[str], run_as: str, path_extra: list[str], login: bool = False
    ) -> list[str]:
        """The argv really executed: sudo where needed, the target's paths under the root."""
        user = self.identity.name(run_as)
        if self.host.chroot:
            return ["chroot", str(self.host.root), *self._inside(argv, user, path_extra)]
        local0 = str(self.host.path(argv[0])) if argv[0].startswith("/") else argv[0]
        if user in ("self", self.host.login):
            return [local0, *argv[1:]]
        if user == "root":
            return [local0, *argv[1:]] if self.host.euid == 0 else ["sudo", "-n", "--", *argv]
        if login:
            # `su -l user`: the user's login shell reads its profile (HANA's environment and
            # tools for <sid>adm) and starts in its home; PATH is the profile's own.
            return [
                "sudo",
                "-n",
                "-i",
                "-u",
                user,
                "--",
                "env",
                f"LC_ALL={self.host.locale}",
                *argv,
            ]
        # sudo resets the environment; what the command needs is passed explicitly.
        env = [f"PATH={self.search_path(path_extra)}", f"LC_ALL={self.host.locale}"]
        return ["sudo", "-n", "-u", user, "-H", "--", "env", *env, *argv]

    def _inside(self, argv: list[str], user: str, path_extra: list[str]) -> list[str]:
        """The command as it runs on the system inside a chroot (chroot itself needs root)."""
        if user in ("self", "root", self.host.login):
            return argv
        env = [f"PATH={self.search_path(path_extra)}", f"LC_ALL={self.host.locale}"]
        return ["sudo", "-n", "-u", user, "-H", "--", "env", *env, *argv]

    def search_path(self, path_extra: list[str]) -> str:
        # Prepended: Bazel 0.11.1 in ~/bin must win over any other Bazel on the system.
        if self.host.chroot:  # the system's own paths, seen from inside it
            return os.pathsep.join([*path_extra, self.host.search_path])
        extra = [str(self.host.path(p)) for p in path_extra]
        return os.pathsep.join([*extra, self.host.search_path])

    def run(
        self,
        argv: list[str],
        run_as: str,
        *,
        cwd: str | None = None,
        path_extra: list[str] | None = None,
        log_name: str = "command",
        login: bool = False,
        secret_input: str | None = None,
    ) -> CommandRecord:
        """Runs to the end; a non-zero exit is recorded, not raised. ``secret_input`` is
        written to the command's standard input, a pipe, and scrubbed from its output."""
        extra = path_extra or []
        line = self.command_line(argv, run_as, extra, login)
        if self.host.chroot and cwd:
            line = [*line[:2], "env", "-C", cwd, *line[2:]]  # chroot(8) starts in /
        user = self.identity.name(run_as)
        record = CommandRecord(
            display=strip_url_credentials(" ".join(_quote(a) for a in argv)),
            user=self.host.login if user == "self" else user,
            cwd=cwd,
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{log_name}.log"
        record.log_file = str(log_path)
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        started = time.monotonic()
        with log_path.open("a", encoding="utf-8", errors="replace") as log:
            log.write(f"$ {record.display}    # as {record.user}\n")
            log.flush()

            def on_line(text: str) -> None:
                text = scrub(text, secret_input)
                log.write(text)
                tail.append(text.rstrip("\n"))
                for listener in self.listeners:
                    listener(text.rstrip("\n"))

            record.exit_code = self._execute(line, cwd, extra, on_line, secret_input)
            log.write(f"# exit {record.exit_code}\n")
        record.duration_s = round(time.monotonic() - started, 3)
        record.tail = meaningful_tail(list(tail))
        return record

    def _execute(
        self,
        line: list[str],
        cwd: str | None,
        extra: list[str],
        on_line: LineListener,
        secret_input: str | None = None,
    ) -> int:
        env = self.host.child_env({"PATH": self.search_path(extra)})
        local_cwd = str(self.host.path(cwd)) if cwd else None
        try:
            command = sh.Command(line[0], search_paths=env["PATH"].split(os.pathsep))
            proc = command(
                *line[1:],
                _env=env,
                _cwd=local_cwd,
                _out=on_line,
                _err=on_line,
                _new_session=True,
                _tty_out=False,
                _bg=True,
                _bg_exc=False,
                _no_out=True,
                _no_err=True,
                _ok_code=list(range(256)),
                _decode_errors="replace",
                # A prompt's answer goes through a pipe (sh writes the string, then closes
                # it: a second prompt sees end of input); otherwise end of input at once.
                # (A str is sh's input text, not a path: os.devnull here fed "/dev/null".)
                _in=secret_input + "\n" if secret_input is not None else "",
            )
        except sh.CommandNotFound:
            on_line(f"{line[0]}: command not found\n")
            return 127
        except OSError as exc:
            on_line(f"{line[0]}: {exc.strerror}\n")
            return 126
        with self._lock:
            self._current = proc
        try:
            proc.wait()
            return int(proc.exit_code)
        except sh.SignalException as exc:
            return int(exc.exit_code) or 1  # -N: killed by signal N
        finally:
            with self._lock:
                self._current = None

    def interrupt(self) -> bool:
        """One SIGINT to the running command's process group; it is then waited for."""
        with self._lock:
            proc = self._current
        if proc is None:
            return False
        try:
            proc.signal_group(signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

    def probe(
        self,
        argv: list[str],
        run_as: str,
        path_extra: list[str] | None = None,
        timeout: float = 60.0,
    ) -> ProbeResult:
        """A short command whose output a check reads; never streamed, never logged."""
        extra = path_extra or []
        line = self.command_line(argv, run_as, extra)
        env = self.host.child_env({"PATH": self.search_path(extra)})
        try:
            command = sh.Command(line[0], search_paths=env["PATH"].split(os.pathsep))
            out = command(
                *line[1:],
                _env=env,
                _err_to_out=True,
                _ok_code=list(range(256)),
                _new_session=True,
                _tty_out=False,
                _timeout=timeout,
                _decode_errors="replace",
                _in="",  # end of input at once (a str is sh's input text, not a path)
                _return_cmd=True,
            )
            return ProbeResult(int(out.exit_code), str(out))
        except sh.CommandNotFound:
            return ProbeResult(127, f"{line[0]}: command not found")
        except sh.TimeoutException:
            return ProbeResult(124, f"{argv[0]}: no answer within {timeout:.0f}s")
        except OSError as exc:
            return ProbeResult(126, f"{line[0]}: {exc.strerror}")

    def start_build(
        self,
        argv: list[str],
        run_as: str,
        *,
        cwd: str | None,
        path_extra: list[str],
        log_file: Path,
        exit_file: Path,
        exec_argv: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> tuple[int, list[str], dict[str, str]]:
        """Starts a long command under ``steps.core.detach`` in a session of its own. Given
        ``exec_argv`` and ``env`` (from a build that died), that exact command is re-run."""
        fresh_line = self.command_line(argv, run_as, path_extra)
        fresh_env = build_env(self.host.child_env({"PATH": self.search_path(path_extra)}))
        # A re-run is identical; credentials left out of the record come from this run.
        line = restore_argv(exec_argv, fresh_line) if exec_argv else fresh_line
        used_env = restore(env, fresh_env) if env else fresh_env
        # -I: the build's folder must not shadow our modules (it is the working directory).
        wrapper = [
            sys.executable,
            "-I",
            "-m",
            "steps.core.detach",
            str(exit_file),
            str(log_file),
            "--",
            *line,
        ]
        local_cwd = str(self.host.path(cwd)) if cwd else None
        proc = sh.Command(wrapper[0])(
            *wrapper[1:],
            _env=used_env,
            _cwd=local_cwd,
            _new_session=True,
            _bg=True,
            _bg_exc=False,
            _out=os.devnull,
            _err=os.devnull,
            _in="",  # end of input at once (a str is sh's input text, not a path)
            _ok_code=list(range(256)),
        )
        return int(proc.pid), [strip_url_credentials(a) for a in line], recordable(used_env)

    def interrupt_group(self, pgid: int) -> None:
        """One SIGINT to a detached build's process group (its wrapper leads the session)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGINT)

    def start_detached(
        self, argv: list[str], run_as: str, log_file: Path, path_extra: list[str] | None = None
    ) -> int:
        """A server that must outlive the wizard: its own session, output to its log."""
        extra = path_extra or []
        line = self.command_line(argv, run_as, extra)
        env = self.host.child_env({"PATH": self.search_path(extra)})
        command = sh.Command(line[0], search_paths=env["PATH"].split(os.pathsep))
        proc = command(
            *line[1:],
            _env=env,
            _out=str(log_file),
            _err_to_out=True,
            _out_bufsize=0,
            _new_session=True,
            _tty_out=False,
            _bg=True,
            _bg_exc=False,
            _ok_code=list(range(256)),
            _in="",  # end of input at once (a str is sh's input text, not a path)
        )
        return int(proc.pid)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
