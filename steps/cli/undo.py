"""``emlsetup undo (--step N | --all) [--dry-run] [--yes] [--keep-build]``.

It prints every command first (the same list `--dry-run` prints), confirms root commands
like `run`, asks on their own about the checkout and Bazel's output base (hours of build),
takes the state folder's lock, and ends with the undone steps pending again.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from typing import Any, TextIO

from steps.core.actions import describe
from steps.core.console import confirmer, interrupt_handler, printer
from steps.core.engine import NeedsConfirmation
from steps.core.lock import StateLock
from steps.core.model import Sql
from steps.core.session import Session
from steps.core.status import running_build
from steps.core.undo import LABEL, Item, UndoEngine, Verdict, root_ops

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_undo_command(sub: Any, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("undo", parents=[common], help="reverse what emlsetup did, last step first")
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--step", type=int, choices=range(1, 8), metavar="N", help="one step")
    which.add_argument("--all", action="store_true", help="every step, 7 to 1")
    sp.add_argument("--dry-run", action="store_true", help="show what would be undone")
    sp.add_argument(
        "--yes",
        action="store_true",
        help="run root commands, and remove the checkout and Bazel's output base, unasked",
    )
    sp.add_argument(
        "--keep-build",
        action="store_true",
        help="keep the checkout and Bazel's output base (hours of build), unasked",
    )


class Unanswered(Exception):
    """A question of its own and no terminal to answer it: nobody chose, so nothing is
    recorded as kept and the undo stops there, as at a root command not confirmed."""


def asker(args: argparse.Namespace, out: TextIO) -> Callable[[str], bool]:
    """The questions of their own (the checkout, the build): --keep-build says no, --yes
    yes, a terminal asks; without one the undo stops at the question."""

    def ask(question: str) -> bool:
        if getattr(args, "keep_build", False):
            return False
        if args.yes:
            return True
        if not sys.stdin.isatty():
            raise Unanswered(question)
        out.write(f"\n{question} [y/N] ")
        out.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")

    return ask


def print_preview(
    session: Session, items: list[tuple[Item, Verdict]], steps: list[int], out: TextIO
) -> None:
    shown = ", ".join(map(str, sorted(steps, reverse=True)))
    out.write(f"Undo of step {shown}, last first: only what emlsetup recorded doing.\n")
    out.write(
        "Each line is read from the system as it is now; what an earlier line removes can "
        "change a later one.\n"
    )
    for number in sorted(steps, reverse=True):
        step_items = [(i, v) for i, v in items if i.step.number == number and v.status != "n/a"]
        out.write(f"== Step {number}: {session.plan().step(number).title}\n")
        if not step_items:
            out.write("   nothing to undo: emlsetup made nothing here that is left\n")
        for item, v in step_items:
            label = "would ask" if v.status == "undo" and item.undo.ask else LABEL[v.status]
            why = f": {v.reason}" if v.reason else ""
            out.write(f" - {label:<16} {item.undo.title}{why}\n")
            if v.status not in ("undo", "later"):
                continue
            if item.undo.ask:
                out.write(f"     ? {item.undo.ask}\n")
            for op in item.undo.do:
                who = _who(session, op)
                for n, line in enumerate(describe(op).splitlines()):
                    out.write(f"     {'$ ' if n == 0 else '  '}{line}   [{who}]\n")


def _who(session: Session, op: Any) -> str:
    if isinstance(op, Sql):
        hana = session.settings.hana
        return hana.system_user if op.role == "system" else hana.ml_user
    return session.runner("preview").identity.name(getattr(op, "run_as", "root"))


def _build_running(build: dict[str, Any]) -> str:
    return (
        f"A build is running (pid {build['pid']}, step {build['step']}): undo leaves it "
        "alone. Stop it first (`emlsetup resume`, then Ctrl-C), then undo.\n"
    )


def cmd_undo(session: Session, args: argparse.Namespace, out: TextIO) -> int:
    plan = session.plan()
    steps = [args.step] if args.step else [s.number for s in plan.steps]
    if session.store.load() is None:
        out.write(f"Nothing to undo: no run in {session.store.folder} (emlsetup did nothing).\n")
        return EXIT_OK
    passwords: dict[str, str] = {}
    if 7 in steps:
        from steps.cli.main import _ask_passwords  # the same prompt as `run`

        passwords = _ask_passwords(session)
    sql = session.sql_backend(passwords)
    first = UndoEngine(session.engine(plan, session.load_or_new_state(plan)), session.store.folder)
    blocked = first.still_needed(steps)
    if blocked is not None:  # before anything is asked or changed
        print(f"emlsetup: {blocked}.", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run:
        state = session.load_or_new_state(plan)
        undo = UndoEngine(session.engine(plan, state, sql=sql), session.store.folder)
        print_preview(session, undo.preview(steps), steps, out)
        if (build := running_build(state)) is not None:
            out.write(_build_running(build))
        out.write("Dry run: nothing was changed.\n")
        return EXIT_OK
    with StateLock(session.store.folder):
        state = session.load_or_new_state(plan)
        build = running_build(state)
        if build is not None:
            out.write(_build_running(build))
            return EXIT_FAILED
        engine = session.engine(
            plan, state, sql=sql, confirm=confirmer(args.yes, out), on_event=printer(out)
        )
        undo = UndoEngine(engine, session.store.folder, ask=asker(args, out))
        items = undo.preview(steps)
        print_preview(session, items, steps, out)
        root = root_ops(items)
        if root:
            out.write(f"{len(root)} commands of this undo need root (asked unless --yes):\n")
            for n, op in root:
                out.write(f"  step {n}: {describe(op).splitlines()[0]}\n")
        previous = signal.signal(signal.SIGINT, interrupt_handler(engine, out))
        try:
            ok = undo.run(steps)
        except NeedsConfirmation as exc:
            out.write(
                f"Stopped before a root command that was not confirmed: {exc}. Nothing of it "
                "ran; `emlsetup undo` again goes on (answer y, or give --yes).\n"
            )
            return EXIT_FAILED
        except Unanswered as exc:
            out.write(
                f"Stopped at a question with no terminal to answer it: {exc} Nothing of it "
                "ran; give --yes (remove it) or --keep-build (keep it); `emlsetup undo` "
                "again goes on.\n"
            )
            return EXIT_FAILED
        finally:
            signal.signal(signal.SIGINT, previous)
        if engine.cancelled.is_set():
            out.write("Interrupted. `emlsetup undo` again goes on where it stopped.\n")
            return EXIT_INTERRUPTED
    if not ok:
        out.write("Stopped: fix the problem above, then run the same undo again; it goes on.\n")
        return EXIT_FAILED
    done = ", ".join(map(str, sorted(state.undo.steps if state.undo else steps)))
    out.write(
        f"Undo finished: step {done} pending again (`emlsetup status`); `emlsetup run` "
        "does them again.\n"
    )
    return EXIT_OK
