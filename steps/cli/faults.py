"""How every command ends when something outside it goes wrong: Ctrl-C, a full disk, a bug.

One place for all of them, so that `plan`, `run`, `model add` and the rest say the same
sentence for the same fault: an interrupt is "Interrupted. Nothing done is lost" and exit
130, a full disk names the filesystem that is full and exit 2 (1 inside `model`, whose
failures are exit 1), and anything else is one line pointing at a crash log, exit 70;
never a traceback on the admin's screen.
"""

from __future__ import annotations

import argparse
import errno
import os
from collections.abc import Mapping
from pathlib import Path

from steps.core.files import free_bytes, size_text

EXIT_INTERRUPTED = 130
FULL = (errno.ENOSPC, errno.EDQUOT)
# Below this, a filesystem counts as the one that is full: a write that failed for want of
# space leaves at most a few blocks.
NEARLY_FULL = 1 << 20


def interrupted(args: argparse.Namespace) -> str:
    """What the admin reads after Ctrl-C, and the command that goes on from there."""
    command = getattr(args, "command", None)
    if command in ("run", "resume"):
        if getattr(args, "started", False):
            then = "`emlsetup resume` continues"
        else:
            then = "nothing was changed yet; run the same command again"
    elif command == "model":
        sub = getattr(args, "model_command", "")
        name = getattr(args, "name", None) or ""
        again = f"emlsetup model {sub}{' ' + name if name else ''}"
        then = f"run `{again}` again: it continues where this one stopped"
    else:
        then = f"`emlsetup {command}` changes nothing; run it again"
    return f"Interrupted. Nothing done is lost: {then}."


def is_full_disk(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL


def full_disk(exc: BaseException, places: Mapping[str, Path | None]) -> str | None:
    """One sentence for a write that found no space, naming where; None for other errors.
    ``places``: the folders the command writes to, by what they are ("the state folder").
    A write error often carries no file name: then the place whose filesystem is (nearly)
    full is named, as measured now."""
    if not is_full_disk(exc):
        return None
    assert isinstance(exc, OSError)
    reason = exc.strerror or "no space left"
    known = {what: p for what, p in places.items() if p is not None}
    if exc.filename:
        path = Path(os.fsdecode(exc.filename))
        what = next((w for w, p in known.items() if path.is_relative_to(p)), "")
        where = f"{what} {path}" if what else str(path)
        free = free_bytes(path)
        left = f", {size_text(free)} free there" if free is not None else ""
        return (
            f"cannot write in {where} ({reason}{left}): free some space there, then run "
            "the same command again; nothing done so far is lost"
        )
    measured = {what: free_bytes(p) for what, p in known.items()}
    full = [w for w, n in measured.items() if n is not None and n < NEARLY_FULL]
    shown = full or list(measured)
    where = " and ".join(
        f"{w} {known[w]}" + (f" ({size_text(n)} free)" if (n := measured[w]) is not None else "")
        for w in shown
    )
    return (
        f"cannot write ({reason}) in {where or 'a folder this command writes to'}: free "
        "some space there, then run the same command again; nothing done so far is lost"
    )


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
