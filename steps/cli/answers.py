"""``emlsetup answers write [-o FILE]`` and ``emlsetup answers validate FILE``.

Neither takes the state folder's lock: `write` only reads the recorded run, `validate`
only the file and the release it is checked against (--root, --distro).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from steps.core.answers_check import Mistake, check_data, check_route
from steps.core.answers_write import answers_text, merged
from steps.core.plan import build_plan
from steps.core.session import Options, Session, SessionError
from steps.core.settings import Settings, read_answers_text
from steps.core.toml_lines import key_lines
from steps.core.toml_repair import parse_reporting, readable_mistakes
from steps.routes import SERVING_ALLOWED, RouteError
from steps.tutorial import STEPS

EXIT_OK, EXIT_MISTAKES = 0, 2


def add_answers_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "answers", parents=[common], help="write this server's answers file, or check one"
    )
    asub = p.add_subparsers(dest="answers_command", parser_class=type(p), required=True)
    w = asub.add_parser(
        "write",
        parents=[common],
        help="the answers file of the settings and of what the run detected or was told",
    )
    w.add_argument(
        "-o", "--output", type=Path, help="file to write (default or -: standard output)"
    )
    v = asub.add_parser(
        "validate", parents=[common], help="every mistake of an answers file, one line each"
    )
    v.add_argument("file", type=Path, help="the answers file (TOML); - reads standard input")


def cmd_answers(args: argparse.Namespace, out: TextIO) -> int:
    if args.answers_command == "validate":
        return validate(args, out)
    return write(args, out)


# -- validate --------------------------------------------------------------------------------
def _read(path: Path) -> str:
    return read_answers_text(path, str(path), "answers validate")


def mistakes_of(path: Path, args: argparse.Namespace) -> list[Mistake]:
    """Every mistake of the file; the route and tag checked against the release at --root."""
    text = _read(path)
    try:
        data, text, found = parse_reporting(text)  # every syntax mistake, the rest read
    except RecursionError:
        return [Mistake(0, "", "nested too deeply to be an answers file (sections are one level)")]
    found += readable_mistakes(check_data(text, data))
    session = _release(args)
    if session is None:
        return found
    route = session.distro.route or ""
    found += check_route(text, data, route, SERVING_ALLOWED)
    if not found:  # a tag the release's build cannot take is known only to the plan
        settings = Settings.model_validate(data)
        try:
            build_plan(settings, session.distro, session.hardware, STEPS)
        except RouteError as exc:
            key = "serving.ref" if "serving.ref" in str(exc) else "serving.route"
            lines = key_lines(text)
            found.append(Mistake(lines.get(key, 0), key, str(exc).split(": ", 1)[-1]))
    return sorted(found, key=lambda m: (m.line, m.key))


def _release(args: argparse.Namespace) -> Session | None:
    """The system at --root, for what only its release decides; None when not supported."""
    options = Options.from_args(args, environ={})
    options.config, options.overrides = None, []
    session = Session.open(options)
    return session if session.distro.supported else None


def validate(args: argparse.Namespace, out: TextIO) -> int:
    if str(args.file) == "-":  # as `answers write -o -` writes it: a pipe from another host
        args.file = Path("/dev/stdin")
    found = mistakes_of(args.file, args)
    for m in found:
        out.write(m.shown(str(args.file)) + "\n")
    if found:
        n = len(found)
        out.write(f"{n} mistake{'s' if n > 1 else ''} in {args.file}; nothing was changed.\n")
        return EXIT_MISTAKES
    out.write(f"{args.file}: no mistakes.\n")
    return EXIT_OK


# -- write -----------------------------------------------------------------------------------
def text_for(session: Session) -> str:
    """The answers file of this server: what the recorded run was told, then what this
    command is told, and what is detected here."""
    state = session.store.load()
    now_given = session.settings.model_dump(mode="json", exclude_unset=True)
    settings = session.settings
    if state is not None and state.told:
        try:
            settings = Settings.model_validate(merged(dict(state.told), now_given))
        except ValidationError:
            settings = session.settings  # recorded by another emlsetup version
    if not session.distro.supported:
        raise SessionError(session.distro.reason)
    try:
        plan = build_plan(settings, session.distro, session.hardware, STEPS)
    except RouteError as exc:
        raise SessionError(str(exc)) from None
    source = f"the run in {session.store.folder}" if state is not None else "these settings"
    return answers_text(settings, session.distro, session.hardware, plan, source)


HEADER = "# emlsetup answers file, written "


def _answers_only(text: str) -> str:
    """The file without the header's time: a rewrite the next minute changes no answer."""
    return "".join(line for line in text.splitlines(True) if not line.startswith(HEADER))


def save(target: Path, text: str) -> str:
    """Writes the file (never over one with other content); the sentence saying where."""
    if str(target) in ("", "."):
        raise SessionError("answers write -o: give a file name, e.g. -o answers.toml")
    if target.is_dir():
        raise SessionError(
            f"{target}: is a folder; give a file name, e.g. {target / 'answers.toml'}"
        )
    if target.exists():
        try:
            old = target.read_text(errors="replace")
        except OSError as exc:
            raise SessionError(f"{target}: cannot read it ({exc.strerror})") from None
        if _answers_only(old) == _answers_only(text):
            return f"{target} already holds these answers (left as it is)"
        raise SessionError(
            f"{target}: the file exists; give another name, or move it aside first "
            "(it may hold your own changes)"
        )
    tmp = target.with_name(f".{target.name}.emlsetup-new")
    try:
        tmp.write_text(text)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SessionError(f"{target}: cannot write it ({exc.strerror})") from None
    return (
        f"Answers written to {target} (no password in it); check it with `emlsetup answers "
        f"validate {target}`"
    )


def write(args: argparse.Namespace, out: TextIO) -> int:
    session = Session.open(Options.from_args(args, environ=dict(os.environ)))
    text = text_for(session)
    if args.output is None or str(args.output) == "-":  # `-o -`: standard output, as usual
        out.write(text)
        return EXIT_OK
    out.write(save(args.output, text) + ".\n")
    return EXIT_OK
