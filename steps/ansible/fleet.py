"""The commands for running emlsetup as each host's engine in a fleet: `status` (polled by
Ansible) and `export ansible`. Neither needs a session: no distro detection, no lock."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from steps.ansible.export import cmd_export
from steps.core.status import cmd_status

STANDALONE: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "status": cmd_status,
    "export": cmd_export,
}


def add_fleet_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("status", parents=[common], help="state of the run, for polling")
    sp.add_argument("--json", action="store_true")
    sp = sub.add_parser("export", parents=[common], help="export a fleet project (Ansible)")
    sp.add_argument("target", choices=["ansible"])
    sp.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("emlsetup-ansible"),
        help="folder to write (default: ./emlsetup-ansible)",
    )
