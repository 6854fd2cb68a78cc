"""The words that run emlsetup again, in the commands we tell the admin to type (re-attach,
resume).

`emlsetup` is the program on PATH. A wrapper that runs emlsetup for the admin names itself
in EMLSETUP_COMMAND, with everything it adds (a root, a state folder): the demo's sandbox
sets `.venv/bin/python -m tests.demo --keep DIR --`, so what we show re-attaches inside
the sandbox, not to an `emlsetup` that is not on PATH and would run on the real system.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping

COMMAND_VAR = "EMLSETUP_COMMAND"
PROGRAM = "emlsetup"


def wrapper(environ: Mapping[str, str] | None = None) -> str | None:
    """The wrapper's command words, or None when emlsetup runs as itself. One line only:
    it is shown inside sentences."""
    given = (os.environ if environ is None else environ).get(COMMAND_VAR, "")
    words = " ".join(given.split())
    return words or None


def resume_command(environ: Mapping[str, str] | None = None) -> str:
    """`emlsetup resume`, or the wrapper's own."""
    return f"{wrapper(environ) or PROGRAM} resume"


def command_with_options(options: list[str], args: list[str], environ: Mapping[str, str]) -> str:
    """The program with this run's global options (``options``, shell-quoted) and ``args``;
    a wrapper's words stand for both the program and its options."""
    own = wrapper(environ)
    if own is not None:
        return " ".join([own, shlex.join(args)])
    return shlex.join([PROGRAM, *options, *args])
