"""`emlsetup run --background`: the run goes on in a process of its own, and the command
returns as soon as that process holds the state folder's lock.

A fleet controller (Ansible) starts the 2-4 hour run this way instead of with its own
``async``: an ``async`` task keeps the module file, with its arguments, in the host's
remote temporary folder for the whole run, and the passwords are among those arguments
when they come on standard input. Here they are read once from the pipe and then live only
in the run's memory. `emlsetup status --json` follows the run (exit 3 while it holds the
lock), and its console output is kept in ``background-run.log`` of the state folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from steps.core.files import full_disk
from steps.core.lock import LockedError
from steps.core.plan import Plan
from steps.core.session import Session, SessionError
from steps.core.settings import SettingsError
from steps.core.state import StateError

LOG_NAME = "background-run.log"
STARTED = b"started\n"

# body(started) runs the command; it calls started() once it holds the lock.
Body = Callable[[Callable[[], None]], int]
Errors = tuple[type[BaseException], ...]


def add_run_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--background",
        action="store_true",
        help="go on in the background once the run holds the state folder; see `status`",
    )
    sp.add_argument(
        "--rerun",
        action="append",
        default=[],
        metavar="ACTION",
        help="run this action again even if nothing it depends on changed (hxe-gc, "
        "update-configuration)",
    )


def check_rerun(plan: Plan, wanted: list[str]) -> None:
    """`--rerun` names only actions that run again on request (those with rerun_after)."""
    on_request = sorted({a.id for s in plan.steps for a in s.actions if a.rerun_after is not None})
    for name in wanted:
        if name not in on_request:
            raise SessionError(
                f"--rerun {name}: not an action that runs again on request; "
                f"use one of {', '.join(on_request)}"
            )


def start_in_background(
    session: Session,
    args: argparse.Namespace,
    out: TextIO,
    cmd_run: Callable[[Session, argparse.Namespace, TextIO], int],
) -> int:
    """`run --background`: the same `run`, in a child that tells when it holds the lock."""

    def body(started: Callable[[], None]) -> int:
        child = argparse.Namespace(**{**vars(args), "background": False, "on_started": started})
        return cmd_run(session, child, out)

    errors = (SettingsError, SessionError, StateError, LockedError)
    return start(body, session.store.folder, out, errors)


def start(body: Body, folder: Path, out: TextIO, expected: Errors) -> int:
    """Forks; the parent returns 0 once the child said it started, else the child's exit
    status after copying its last output line (its one-line reason) to standard error."""
    log = folder / LOG_NAME
    out.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, measured through its effects
        os.close(read_end)
        os._exit(_child(body, log, write_end, expected))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        said = fh.read()
    if said == STARTED:
        out.write(
            f"Run started in the background (pid {pid}); its output goes to {log}. "
            "Follow it with `emlsetup status`.\n"
        )
        return 0
    _, status = os.waitpid(pid, 0)
    try:
        lines = [x for x in log.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        lines = []
    print(lines[-1] if lines else f"emlsetup: the background run ended at once (see {log})",
          file=sys.stderr)  # fmt: skip
    return os.waitstatus_to_exitcode(status) or 1


def _child(body: Body, log: Path, write_end: int, expected: Errors) -> int:  # pragma: no cover
    told = False

    def started() -> None:
        nonlocal told
        if not told:
            told = True
            os.write(write_end, STARTED)
            os.close(write_end)

    try:
        os.setsid()  # no terminal: the SSH session or the Ansible task can end
        null = os.open(os.devnull, os.O_RDONLY)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(null)
        os.close(fd)
        code = body(started)
    except expected as exc:
        print(f"emlsetup: {exc}", file=sys.stderr)
        code = 2
    except BaseException as exc:  # never a traceback: the log gets one line
        said = full_disk(exc, {"the state folder": log.parent})
        if said is not None:
            print(f"emlsetup: {said}", file=sys.stderr)
            code = 2
        else:
            print(f"emlsetup: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 70
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code
