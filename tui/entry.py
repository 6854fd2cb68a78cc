"""The `emlsetup` console script: a command runs headless; no command starts the wizard."""

from __future__ import annotations

import os
import sys
from typing import TextIO

STREAMS = ("standard input", "standard output", "standard error")


def not_terminals(streams: tuple[TextIO | None, ...] | None = None) -> list[str]:
    """The streams that are not a terminal. The wizard reads keys from stdin and draws on
    stderr (Textual's Linux driver), and a redirected stdout means a script is waiting for
    output: all three must be one."""
    found = (sys.__stdin__, sys.__stdout__, sys.__stderr__) if streams is None else streams
    return [name for name, s in zip(STREAMS, found, strict=True) if s is None or not s.isatty()]


def no_terminal_line(args: list[str], missing: list[str] | None = None) -> str:
    """One line: what is missing, and the same options as a headless command (or the
    wrapper's own command, the demo's: steps/core/invocation.py)."""
    from steps.core.invocation import command_with_options

    headless = command_with_options(args, ["run", "--yes"], os.environ)
    names = missing or ["standard input or output"]
    listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    which = f"{listed} is not one" if len(names) == 1 else f"{listed} are not terminals"
    return (
        f"emlsetup: the wizard needs a terminal, and {which} "
        f"here (ssh without -t, cron, a redirection); run the steps headless with `{headless}`"
        " (`emlsetup plan` shows what it runs), or connect with `ssh -t`"
    )


def main(argv: list[str] | None = None) -> None:
    from steps.cli.main import main as cli_main
    from steps.cli.main import parser

    args = sys.argv[1:] if argv is None else argv
    parsed = parser().parse_args(args)
    if parsed.command is not None:
        sys.exit(cli_main(args))
    missing = not_terminals()
    if missing:  # before anything is opened: it would hang and draw escape codes
        said = no_terminal_line(args, missing)
        print(said, file=sys.stderr)
        if missing == ["standard error"]:  # `emlsetup 2> log` at a terminal: said there too
            print(said)
        sys.exit(2)
    from tui.app import run_wizard

    sys.exit(run_wizard(parsed))
