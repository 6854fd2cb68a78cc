"""`--passwords-from-stdin`: the HANA passwords handed to emlsetup on its standard input.

A process's command line is readable by every local user (``ps``, ``/proc/PID/cmdline``) and
its environment by its owner and root (``/proc/PID/environ``), for as long as it runs. A pipe
is read once, by emlsetup only. Ansible's ``environment:`` keyword does not give that: it is
rendered into the shell command that starts the module (``VAR=value`` words, see
ansible-core's ``plugins/shell/__init__.py``, ``env_prefix``), which ``-vvv`` prints despite
``no_log`` ("the no_log attribute does not affect debugging output",
https://docs.ansible.com/ansible/latest/reference_appendices/logging.html). The command
module's ``stdin`` option ("Set the stdin of the command directly to the specified value",
https://docs.ansible.com/ansible/9/collections/ansible/builtin/command_module.html) is not.

The format, read until the first empty line (or the end)::

    EMLSETUP_SYSTEM_PASSWORD=<the SYSTEM user's password, to the end of the line>
    EMLSETUP_ML_USER_PASSWORD=<the ML user's password>

    <the rest: the answers file, when --config is "-" or /dev/stdin>

Either line may be missing or empty (no password: hdbuserstore keys or no HANA steps).
A password given here wins over the same variable in the environment.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import BinaryIO

from steps.core.session import SessionError

NAMES = ("EMLSETUP_SYSTEM_PASSWORD", "EMLSETUP_ML_USER_PASSWORD")
STDIN_CONFIGS = ("-", "/dev/stdin")
MAX_BYTES = 1 << 20


class StdinSecretsError(Exception):
    """One line; never holds a value that was read."""


def parse(data: bytes) -> tuple[dict[str, str], str]:
    """The passwords given (empty ones left out) and the text after the empty line."""
    text = data.decode("utf-8", errors="strict") if data else ""
    head, _, rest = text.partition("\n\n") if not text.startswith("\n") else ("", "", text[1:])
    passwords: dict[str, str] = {}
    for number, line in enumerate(head.split("\n"), 1):
        line = line.removesuffix("\r")
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep or name not in NAMES:  # the line may be a password: never shown
            raise StdinSecretsError(
                f"--passwords-from-stdin: line {number} is not NAME=PASSWORD with NAME one of "
                f"{', '.join(NAMES)}; then an empty line, then the answers"
            )
        if name in passwords:
            raise StdinSecretsError(f"--passwords-from-stdin: {name} is given twice")
        if value:
            passwords[name] = value
    return passwords, rest


def read(stream: BinaryIO, is_tty: bool) -> tuple[dict[str, str], str]:
    """Reads standard input once, to its end."""
    if is_tty:
        raise StdinSecretsError(
            "--passwords-from-stdin: standard input is a terminal; pipe the passwords in, "
            "or leave the option out and type them when asked"
        )
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise StdinSecretsError("--passwords-from-stdin: more than 1 MiB on standard input")
    try:
        return parse(data)
    except UnicodeDecodeError:
        raise StdinSecretsError("--passwords-from-stdin: standard input is not UTF-8") from None


def session_inputs(args: argparse.Namespace) -> tuple[dict[str, str], str | None]:
    """The environment the session sees, with the passwords read from standard input (they
    stay in this process: commands get ``Host.child_env``, which drops them), and the
    answers file's text when ``--config -`` shares standard input with them."""
    if not getattr(args, "passwords_from_stdin", False):
        return dict(os.environ), None
    try:
        passwords, rest = read(sys.stdin.buffer, sys.stdin.isatty())
    except StdinSecretsError as exc:
        raise SessionError(str(exc)) from None
    from_stdin = args.config is not None and str(args.config) in STDIN_CONFIGS
    return {**os.environ, **passwords}, rest if from_stdin else None
