"""A SavedModel version folder copied into the export folder as one step.

The copy is written to ``.N.emlsetup-new`` next to the version folder and renamed to ``N``
only when every file is there and owned by the admin: TensorFlow Serving loads any
numeric folder under a model's base_path as a version (it polls the folder; names that
are not numbers are ignored, https://www.tensorflow.org/tfx/serving/serving_config), so a
version folder is never half written, and a copy cut short by a kill is thrown away by
the next run. The checkpoints are where the kill test stops the wizard.
"""

from __future__ import annotations

import errno
import filecmp
import os
import shutil
from pathlib import Path
from typing import Any

from steps.core import files
from steps.models.checkpoints import reached

CHUNK = 1 << 20


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def partial_name(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.emlsetup-new")


class CopyError(Exception):
    """The copy could not be made (a full disk, a folder the admin cannot write): what,
    where, and how much it needed. The partial copy is removed, giving its space back."""

    def __init__(self, source: Path, dest: Path, exc: OSError, needed: int) -> None:
        self.source, self.dest, self.needed = source, dest, needed
        self.strerror = exc.strerror or str(exc)
        self.full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        super().__init__(self.sentence(str(dest)))

    def sentence(self, shown: str) -> str:
        """``shown``: how the admin names ``dest`` (the path on the server, not under --root)."""
        free = files.free_bytes(self.dest.parent)
        room = f", {files.size_text(free)} free there" if free is not None else ""
        fix = "free some space there" if self.full else "make that folder writable"
        return (
            f"cannot copy the model to {shown} ({self.strerror}): it needs "
            f"{files.size_text(self.needed)} ({self.needed} bytes){room}; {fix}, then run the "
            "same command again"
        )


class _Failed(Exception):
    """An OSError while copying one file: carried past copytree, which would otherwise
    collect it and go on copying the other files into a full disk."""

    def __init__(self, exc: OSError) -> None:
        self.exc = exc


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def copy_version(source: Path, dest: Path, owner: Any) -> None:
    """``source`` as ``dest`` (which does not exist), owned by ``owner``."""
    tmp = partial_name(dest)
    try:
        files.ensure_dir(dest.parent, owner)
        if tmp.exists():
            shutil.rmtree(tmp)  # a copy cut short by a kill
            reached("copy: the partial copy of an earlier run removed")
        shutil.copytree(source, tmp, copy_function=lambda s, d: _copy_file(s, d, tmp))
        for path in [tmp, *tmp.rglob("*")]:
            files.chown_to(path, owner)
    except (OSError, _Failed) as exc:
        error = exc.exc if isinstance(exc, _Failed) else exc
        shutil.rmtree(tmp, ignore_errors=True)
        raise CopyError(source, dest, error, tree_size(source)) from None
    reached("copy: every file copied and owned by the admin")
    os.replace(tmp, dest)
    reached("copy: renamed into place")


def _copy_file(src: str, dst: str, top: Path) -> None:
    try:
        _copy_halves(src, dst, top)
    except OSError as exc:
        raise _Failed(exc) from None


def _copy_halves(src: str, dst: str, top: Path) -> None:
    shown = Path(dst).relative_to(top)
    half = os.path.getsize(src) // 2
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        done = 0
        while done < half:  # the first half, then a point where the file is half written
            block = fin.read(min(CHUNK, half - done))
            if not block:
                break
            fout.write(block)
            done += len(block)
        fout.flush()
        reached(f"copy: {shown} half written")
        shutil.copyfileobj(fin, fout, CHUNK)
    shutil.copystat(src, dst)
    reached(f"copy: {shown} written")
