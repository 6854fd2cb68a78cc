"""Files the wizard writes itself: atomically, with the right owner and mode, never clobbering.

Paths here are local (already under the host's root)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from checks.system import PasswdEntry


class FileActionError(Exception):
    pass


def chown_to(path: Path, owner: PasswdEntry | None) -> None:
    # Only root can give files away; a non-root wizard writes as itself.
    if owner is not None and os.geteuid() == 0:
        os.chown(path, owner.uid, owner.gid)


def write_new_file(
    path: Path,
    content: str,
    mode: int,
    owner: PasswdEntry | None,
    validate: Callable[[Path], str | None] | None = None,
) -> str:
    """Writes a file that must not already exist with other content. ``validate`` gets the
    finished temp file and returns an error sentence or None; the file only moves into place
    once it is valid, so a failed check leaves the folder as it was."""
    if path.exists():
        if path.read_text(errors="replace") == content:
            return "already there with this content"
        raise FileActionError(
            f"{path} exists with other content: it is left as it is; compare "
            "it with what the step shows and merge by hand"
        )
    if not path.parent.is_dir():
        raise FileActionError(f"{path.parent} does not exist")
    # A dot in the name: sudo ignores such files in /etc/sudoers.d while we work on it.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        chown_to(tmp, owner)
        if validate is not None:
            problem = validate(tmp)
            if problem:
                raise FileActionError(problem)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return f"written (mode {mode:04o})"


def append_line(path: Path, line: str, owner: PasswdEntry | None) -> str:
    existed = path.exists()
    text = path.read_text(errors="replace") if existed else ""
    if line in text.splitlines():
        return "the line is already there"
    with path.open("a") as fh:
        fh.write(("" if not text or text.endswith("\n") else "\n") + line + "\n")
    if not existed:
        chown_to(path, owner)
    return "appended"


def ensure_dir(path: Path, owner: PasswdEntry | None) -> str:
    if path.is_dir():
        return "already there"
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    path.mkdir(parents=True)
    for created in missing:
        chown_to(created, owner)
    return "created"
