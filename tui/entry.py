"""The `emlsetup` console script: a command runs headless; no command starts the wizard."""

from __future__ import annotations

import os
import sys
from typing import TextIO


def on_a_terminal(streams: tuple[TextIO | None, ...] | None = None) -> bool:
    """The wizard reads keys from stdin and draws on stderr (Textual's Linux driver), and a
    redirected stdout means a script is waiting for output: all three must be a terminal."""
    found = (sys.__stdin__, sys.__stdout__, sys.__stderr__) if streams is None else streams
    return all(s is not None and s.isatty() for s in found)


def no_terminal_line(args: list[str]) -> str:
    """One line: what is missing, and the same options as a headless command (or the
    wrapper's own command, the demo's: steps/core/invocation.py)."""
    from steps.core.invocation import command_with_options

    headless = command_with_options(args, ["run", "--yes"], os.environ)
    return (
        "emlsetup: the wizard needs a terminal, and standard input or output is not one "
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
    if not on_a_terminal():  # before anything is opened: it would hang and draw escape codes
        print(no_terminal_line(args), file=sys.stderr)
        sys.exit(2)
    from tui.app import run_wizard

    sys.exit(run_wizard(parsed))
