"""How every command ends when something outside it goes wrong: Ctrl-C, a full disk, a bug.

One place for all of them, so that `plan`, `run`, `model add` and the rest say the same
sentence for the same fault: an interrupt is "Interrupted. Nothing done is lost" and exit
130, a full disk names the filesystem that is full and exit 2 (1 inside `model`, whose
failures are exit 1), and anything else is one line pointing at a crash log, exit 70;
never a traceback on the admin's screen.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from steps.core.files import full_disk, is_full_disk
from steps.core.invocation import PROGRAM, wrapper

__all__ = ["full_disk", "interrupted", "is_full_disk", "write_crash_log"]

EXIT_INTERRUPTED = 130


def interrupted(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> str:
    """What the admin reads after Ctrl-C, and the command that goes on from there (a
    wrapper's own words when one runs emlsetup, see steps/core/invocation.py)."""
    program = wrapper(environ) or PROGRAM
    command = getattr(args, "command", None)
    if command in ("run", "resume"):
        if getattr(args, "started", False):
            then = f"`{program} resume` continues"
        else:
            then = "nothing was changed yet; run the same command again"
    elif command == "model":
        sub = getattr(args, "model_command", "")
        name = getattr(args, "name", None) or ""
        again = f"{program} model {sub}{' ' + name if name else ''}"
        then = f"run `{again}` again: it continues where this one stopped"
    else:
        then = f"`{program} {command}` changes nothing; run it again"
    return f"Interrupted. Nothing done is lost: {then}."


def write_crash_log(state_dir: Path | None, text: str) -> str | None:
    """The crash log next to the run's state (where a support ticket's attachments come
    from), else in the temporary folder: whichever can be created AND written (a full disk
    lets a file be created and then refuses its first block). None when neither can."""
    import tempfile

    folders = [state_dir] if state_dir is not None and state_dir.is_dir() else []
    for folder in [*folders, None]:
        try:
            fd, path = tempfile.mkstemp(prefix="emlsetup-crash-", suffix=".txt", dir=folder)
        except OSError:
            continue
        try:
            with open(fd, "w") as fh:
                fh.write(text)
            return path
        except OSError:
            Path(path).unlink(missing_ok=True)
    return None
