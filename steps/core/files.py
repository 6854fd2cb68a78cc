"""Files the wizard writes itself: atomically, with the right owner and mode, never clobbering.

Paths here are local (already under the host's root)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from checks.system import PasswdEntry


class FileActionError(Exception):
    pass


def chown_to(path: Path, owner: PasswdEntry | None) -> None:
    # Only root can give files away; a non-root wizard writes as itself.
    if owner is not None and os.geteuid() == 0:
        os.chown(path, owner.uid, owner.gid)


def temp_path(path: Path) -> Path:
    """Where a new file is written and checked before it moves into place."""
    return path.with_name(f".{path.name}.emlsetup-new")


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
    # One fixed temp name per target (not mkstemp's random one): a wizard killed mid-write
    # leaves at most this file, and the next attempt, or finding the target there, removes
    # it. The dot in it makes sudo ignore it in /etc/sudoers.d meanwhile.
    tmp = temp_path(path)
    tmp.unlink(missing_ok=True)
    if path.exists():
        if path.read_text(errors="replace") == content:
            return "already there with this content"
        raise FileActionError(
            f"{path} exists with other content: it is left as it is; compare "
            "it with what the step shows and merge by hand"
        )
    if not path.parent.is_dir():
        raise FileActionError(f"{path.parent} does not exist")
    # O_EXCL | O_NOFOLLOW: a file or link planted there since the unlink fails the write.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
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


def remove_line(path: Path, line: str) -> str:
    """Takes out every copy of exactly ``line``; the file's other lines, its owner and its
    mode stay (rewritten in place). A file that is not there has nothing to take out."""
    if not path.exists():
        return "the file is not there"
    text = path.read_text(errors="replace")
    kept = [x for x in text.splitlines(keepends=True) if x.rstrip("\r\n") != line]
    if len(kept) == len(text.splitlines(keepends=True)):
        return "the line is not there"
    with path.open("r+") as fh:
        fh.write("".join(kept))
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())
    return "removed"


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


def free_bytes(path: Path) -> int | None:
    """Free space of the filesystem holding ``path`` (its nearest existing folder), as this
    user can use it (root may use the blocks reserved for it)."""
    for folder in (path, *path.parents):
        try:
            st = os.statvfs(folder)
        except OSError:
            continue
        blocks = st.f_bfree if os.geteuid() == 0 else st.f_bavail
        return blocks * st.f_frsize
    return None


def size_text(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


FULL = (errno.ENOSPC, errno.EDQUOT)
# Below this, a filesystem counts as the one that is full: a write that failed for want of
# space leaves at most a few blocks.
NEARLY_FULL = 1 << 20


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
