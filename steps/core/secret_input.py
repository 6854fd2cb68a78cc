"""Secrets a command prompts for (hxe_gc.sh asks for the SYSTEM password): where the wizard
holds them, and what it says when it holds none.

The secret only ever travels through the command's standard input, a pipe (``Runner.run``):
never on a command line (other users see ``ps``), never in the child's environment
(``/proc/PID/environ``), never in a file. What the command prints is scrubbed of it before
it reaches the screen, the log or the state.
"""

from __future__ import annotations

import shlex
from typing import Any

from steps.core.model import Command

ROLE_OF = {"system_password": "system"}


def held_secret(sql: Any, name: str) -> str | None:
    """The secret the wizard holds in memory (typed, or EMLSETUP_SYSTEM_PASSWORD), or None:
    an hdbuserstore key lets hdbcli connect but never gives the wizard the password."""
    secrets = getattr(sql, "secrets", None)
    if secrets is None:
        return None
    password: str | None = secrets.password(ROLE_OF[name])
    return password or None


def missing_sentence(action: Command, user: str, key: str | None) -> str:
    """Why an optional action that needs a secret was skipped, and how to run it by hand (in
    backticks: the wizard shows a command so that it copies whole)."""
    by_hand = f"sudo su -l {user} -c {shlex.quote(shlex.join(action.argv))}"
    held = f"only the hdbuserstore key {key}" if key else "no SYSTEM password"
    return (
        f"optional, skipped: it asks for the SYSTEM password and the wizard holds {held} "
        "(an hdbuserstore key never gives the password); set EMLSETUP_SYSTEM_PASSWORD or type "
        f"it in the wizard, or run it by hand: `{by_hand}`"
    )


def scrub(text: str, secret: str | None) -> str:
    """The secret, if a command echoed it, never leaves the runner."""
    return text.replace(secret, "[redacted]") if secret else text
