"""The headless command line: plan, detect, check, run, resume, report.

Every error the admin can cause is one line and exit 2; a failed step is exit 1; an
interrupted run is exit 130 and loses nothing.
"""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from checks.preflight import NAMES as PREFLIGHT_NAMES
from checks.result import CheckResult, Status
from steps.ansible.fleet import STANDALONE, add_fleet_commands
from steps.cli import faults
from steps.cli.answers import add_answers_commands, cmd_answers
from steps.cli.help import Parser, check_summary, describe_commands, run_range_error, version
from steps.cli.model import add_model_commands, cmd_model
from steps.cli.plan import dry_run, list_root_actions, print_plan
from steps.cli.undo import add_undo_command, cmd_undo
from steps.core import preflight
from steps.core.background import add_run_options, check_rerun, start_in_background
from steps.core.console import check_line, confirmer, interrupt_handler, printer
from steps.core.engine import NeedsConfirmation, NeedsUnmet
from steps.core.invocation import resume_command
from steps.core.lock import LockedError, StateLock
from steps.core.report import FORMATS, render
from steps.core.session import Options, Session, SessionError
from steps.core.settings import SettingsError, message_line
from steps.core.state import StateError
from steps.core.status import where
from steps.core.stdin_secrets import session_inputs

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_UNVERIFIED = 4  # every step ran, but some checks could not (see `emlsetup status`)


def _globals(suppress: bool) -> Parser:
    """Global options, accepted before or after the command. After it, their defaults must not
    overwrite what was given before it (argparse's sub-parser defaults would)."""
    common = Parser(add_help=False)
    g = common.add_argument_group("global options")

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    g.add_argument("--config", type=Path, default=default(None), help="answers file (TOML)")
    g.add_argument(
        "--root",
        type=Path,
        default=default(Path("/")),
        help="filesystem root of the system to configure",
    )
    g.add_argument(
        "--state-dir", type=Path, default=default(None), help="where the run state and logs live"
    )
    g.add_argument(
        "--chroot",
        action="store_true",
        default=default(False),
        help="run the commands inside --root with chroot (a system installed in a folder)",
    )
    g.add_argument(
        "--distro",
        choices=["sles", "rhel", "debian"],
        default=default(None),
        help="force a distro family",
    )
    g.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=default([]),
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set serving.port=8501",
    )
    g.add_argument(
        "--passwords-from-stdin",
        action="store_true",
        default=default(False),
        help="read the HANA passwords from standard input (see README: Many servers)",
    )
    return common


def parser() -> argparse.ArgumentParser:
    common = _globals(suppress=True)
    p = Parser(
        prog="emlsetup",
        parents=[_globals(suppress=False)],
        description="Set up SAP HANA EML with TensorFlow Serving. "
        "Without a command, the interactive wizard starts.",
    )
    p.add_argument("--version", action="version", version=version())
    sub = p.add_subparsers(dest="command", parser_class=Parser)
    sp = sub.add_parser("plan", parents=[common], help="every command the run would execute")
    sp.add_argument("--json", action="store_true")
    sp = sub.add_parser("detect", parents=[common], help="distro, version and family")
    sp.add_argument("--json", action="store_true")
    sp = sub.add_parser("check", parents=[common], help="prerequisite table with fixes")
    sp.add_argument("--step", type=int, choices=range(1, 8), metavar="N")
    sp.add_argument("--json", action="store_true")
    sp = sub.add_parser("run", parents=[common], help="run the setup headless")
    sp.add_argument("--yes", action="store_true", help="do root actions without asking")
    sp.add_argument("--from-step", type=int, choices=range(1, 8), metavar="N")
    sp.add_argument("--only-step", type=int, choices=range(1, 8), metavar="N")
    sp.add_argument("--to-step", type=int, choices=range(1, 8), metavar="N")
    sp.add_argument("--dry-run", action="store_true", help="show what would run; change nothing")
    add_run_options(sp)
    _skip_preflight(sp)
    sp = sub.add_parser("resume", parents=[common], help="continue an interrupted run")
    sp.add_argument("--yes", action="store_true", help="do root actions without asking")
    _skip_preflight(sp)
    sp = sub.add_parser("report", parents=[common], help="export the run report")
    sp.add_argument("--format", choices=FORMATS, default="md")
    sp.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    add_fleet_commands(sub, common)
    add_model_commands(sub, common)
    add_answers_commands(sub, common)
    add_undo_command(sub, common)
    describe_commands(sub)
    return p


def _skip_preflight(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--skip-preflight",
        action="append",
        choices=PREFLIGHT_NAMES,
        metavar="NAME",
        help="go on although this preflight check fails (" + ", ".join(PREFLIGHT_NAMES) + ")",
    )


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    if args.command is None:  # `emlsetup` alone starts the wizard (tui.entry); here it is an error
        print("emlsetup: no command given (try emlsetup --help)", file=sys.stderr)
        return EXIT_USAGE
    contradiction = run_range_error(args)
    if contradiction is not None:
        print(f"emlsetup run: {contradiction} (see emlsetup run --help)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _dispatch(args, out)
    except BrokenPipeError:
        return EXIT_OK  # `emlsetup plan | head`: the reader has what it wanted
    except KeyboardInterrupt:  # Ctrl-C outside a running step: every command alike
        out.write(("\n" if out.isatty() else "") + faults.interrupted(args) + "\n")
        out.flush()
        return EXIT_INTERRUPTED
    except Exception as exc:  # never a traceback on the admin's screen
        state_dir = getattr(args, "state_dir", None)
        full = faults.full_disk(exc, {"the state folder": state_dir})
        if full is not None:
            print(f"emlsetup: {full}", file=sys.stderr)
            return EXIT_USAGE
        import traceback

        from steps.core.output import redact

        crash = faults.write_crash_log(state_dir, redact(traceback.format_exc()))
        where = f"details in {crash}" if crash else "no crash log: no space to write one"
        print(
            f"emlsetup: internal error: {type(exc).__name__}: {exc} ({where}); "
            "nothing done so far is lost",
            file=sys.stderr,
        )
        return 70


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    try:
        if args.command in STANDALONE:  # no session: works on any controller, never locks
            return STANDALONE[args.command](args, out)
        if args.command == "answers":  # its own session, without the lock
            return cmd_answers(args, out)
        environ, config_text = session_inputs(args)
        session = Session.open(Options.from_args(args, environ=environ, config_text=config_text))
        return COMMANDS[args.command](session, args, out)
    except (SettingsError, SessionError, StateError, LockedError) as exc:
        for line in str(exc).splitlines() or [""]:  # an answers file: one line a mistake
            print(f"emlsetup: {message_line(line)}", file=sys.stderr)
        return EXIT_USAGE


def cmd_detect(session: Session, args: argparse.Namespace, out: TextIO) -> int:
    d = session.distro
    if args.json:
        json.dump({**d.model_dump(), "supported": d.supported}, out, indent=2)
        out.write("\n")
    else:
        out.write(f"{d.name} (id {d.id}, version {d.version or '?'})\n")
        out.write(
            f"family: {d.family}{' (forced)' if d.forced else ''}\n"
            if d.supported
            else f"not supported: {d.reason}\n"
        )
        if d.route:
            out.write(f"route: {d.route} ({d.release}, Python {d.python})\n")
    return EXIT_OK if d.supported else EXIT_FAILED


def cmd_plan(session: Session, args: argparse.Namespace, out: TextIO) -> int:
    plan = session.plan()
    if args.json:
        out.write(plan.model_dump_json(indent=2) + "\n")
    else:
        print_plan(plan, session.settings, out)
    return EXIT_OK


def cmd_check(session: Session, args: argparse.Namespace, out: TextIO) -> int:
    plan = session.plan()
    engine = session.engine(plan, session.load_or_new_state(plan), sql=session.sql_backend())
    rows: list[tuple[int, CheckResult]] = []
    for step in plan.steps:
        if args.step in (None, step.number):
            rows += [(step.number, r) for r in engine.check(step, step.checks + step.results)]
    if args.json:
        json.dump([{"step": n, **r.model_dump(mode="json")} for n, r in rows], out, indent=2)
        out.write("\n")
    else:
        for n, r in rows:
            out.write(check_line(n, r))
        out.write(check_summary([r for _, r in rows]))
    return EXIT_OK if all(r.status != Status.FAIL for _, r in rows) else EXIT_FAILED


def cmd_run(session: Session, args: argparse.Namespace, out: TextIO) -> int:
    plan = session.plan()
    only = getattr(args, "only_step", None)
    first = getattr(args, "from_step", None) or 1
    last = getattr(args, "to_step", None) or 7
    numbers = [only] if only else [s.number for s in plan.steps if first <= s.number <= last]
    check_rerun(plan, getattr(args, "rerun", []))
    if getattr(args, "dry_run", False):
        return dry_run(session, plan, numbers, out)
    session.store.ensure_folder()
    if getattr(args, "background", False):
        return start_in_background(session, args, out, cmd_run)
    with StateLock(session.store.folder):
        state = session.load_or_new_state(plan)
        if args.command == "resume":
            point = state.resume_target() if session.store.file.exists() else None
            if point is None:
                out.write(
                    "Nothing to resume: "
                    + (
                        "every step is done.\n"
                        if session.store.file.exists()
                        else f"no run in {session.store.folder}; start one with `emlsetup run`.\n"
                    )
                )
                return EXIT_OK if session.store.file.exists() else EXIT_FAILED
            out.write(f"Resuming at {where(point)}\n")
            numbers = [
                s.number
                for s in plan.steps
                if s.number >= point[0] and (not state.requested or s.number in state.requested)
            ]
        else:
            state.requested = numbers
        unmet = session.engine(plan, state).unmet_need(numbers)
        if unmet is not None:  # before anything is asked, saved or run
            print(f"emlsetup: {unmet}.", file=sys.stderr)
            return EXIT_USAGE
        passwords = _ask_passwords(session) if _needs_hana(numbers) else {}
        accepted = getattr(args, "skip_preflight", None) or []
        trust = args.command == "resume"
        if not preflight.gate(session, plan, state, numbers, passwords, accepted, trust, out):
            return EXIT_FAILED
        list_root_actions(session, plan, numbers, out)
        engine = session.engine(
            plan,
            state,
            sql=session.sql_backend(passwords),
            confirm=confirmer(args.yes, out),
            on_event=printer(out),
            trust_state=args.command == "resume",
        )
        engine.rerun = set(getattr(args, "rerun", []))
        session.store.save(state)
        getattr(args, "on_started", lambda: None)()  # --background: the caller may return
        args.started = True  # from here on, an interrupt leaves a run to resume
        previous = signal.signal(signal.SIGINT, interrupt_handler(engine, out))
        try:
            ok = engine.run(numbers)
        except NeedsUnmet as exc:  # found by unmet_need above unless the system changed
            print(f"emlsetup: {exc}.", file=sys.stderr)
            return EXIT_USAGE
        except NeedsConfirmation as exc:
            out.write(
                f"Stopped before a root action that was not confirmed: {exc}. Nothing of "
                "it ran; re-run with --yes, or answer y when asked.\n"
            )
            return EXIT_FAILED
        finally:
            signal.signal(signal.SIGINT, previous)
        if engine.cancelled.is_set():
            out.write(faults.interrupted(args, session.options.environ) + "\n")
            return EXIT_INTERRUPTED
    everything = len(numbers) == len(plan.steps)
    done = "All steps done.\n" if everything else f"Done: step {', '.join(map(str, numbers))}.\n"
    unread = [n for n in state.unverified() if n in numbers]
    if ok and unread:
        for n in unread:
            out.write(f"Step {n} is done, unverified: {state.step(n).reason}\n")
        return EXIT_UNVERIFIED
    resume = resume_command(session.options.environ)
    out.write(done if ok else f"Stopped: fix the problem above, then `{resume}`.\n")
    return EXIT_OK if ok else EXIT_FAILED


def cmd_report(session: Session, args: argparse.Namespace, out: TextIO) -> int:
    state = session.store.load()
    if state is None:
        raise SessionError(
            f"no run in {session.store.folder} yet: nothing to report; "
            "start one with `emlsetup run`"
        )
    from steps.models import journal

    text = render(state, args.format, journal.load(session.store.folder))
    if args.output is None:
        out.write(text)
        return EXIT_OK
    try:
        args.output.write_text(text)
    except OSError as exc:
        raise SessionError(f"-o {args.output}: cannot write it ({exc.strerror})") from None
    out.write(f"Report written to {args.output}\n")
    return EXIT_OK


COMMANDS: dict[str, Callable[[Session, argparse.Namespace, TextIO], int]] = {
    "detect": cmd_detect,
    "plan": cmd_plan,
    "check": cmd_check,
    "run": cmd_run,
    "resume": cmd_run,
    "report": cmd_report,
    "model": cmd_model,
    "undo": cmd_undo,
}


def _needs_hana(numbers: list[int]) -> bool:
    return 1 in numbers or 7 in numbers


def _ask_passwords(session: Session) -> dict[str, str]:
    """Typed passwords stay in this process's memory; never in a file, a log or argv."""
    if not sys.stdin.isatty():
        return {}
    hana, env = session.settings.hana, session.options.environ
    asked = {}
    for role, var, key in (
        ("system", "EMLSETUP_SYSTEM_PASSWORD", hana.system_key),
        ("ml_user", "EMLSETUP_ML_USER_PASSWORD", hana.ml_user_key),
    ):
        if key or env.get(var):
            continue
        user = getattr(hana, f"{role}_user")
        typed = getpass.getpass(f"HANA password for {user} (Enter to skip the HANA steps): ")
        if typed:
            asked[var] = typed
    return asked
