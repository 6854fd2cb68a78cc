"""The `emlsetup` console script: a command runs headless; no command starts the wizard."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from steps.cli.main import main as cli_main
    from steps.cli.main import parser

    args = sys.argv[1:] if argv is None else argv
    parsed = parser().parse_args(args)
    if parsed.command is not None:
        sys.exit(cli_main(args))
    from tui.app import run_wizard

    sys.exit(run_wizard(parsed))
