"""A real full filesystem for a test: a small tmpfs mounted on a folder inside the test's
own temporary folder, filled to the last block, unmounted afterwards. Mounting needs root
(CI is root); elsewhere the test is skipped, saying so."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MOUNT, UMOUNT = (shutil.which(t) or t for t in ("mount", "umount"))
FILLER = ".filler"


@contextmanager
def tiny_tmpfs(folder: Path, size_kb: int = 64) -> Iterator[Path]:
    """``folder`` (made if missing, hidden contents kept) on a tmpfs of ``size_kb``."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as a full disk (CI is root)")
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kb}k,mode=0755"
    done = subprocess.run(
        [MOUNT, "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        # Lazily if a stand-in still has a file open there: the mount is detached at once.
        if subprocess.run([UMOUNT, str(folder)], capture_output=True).returncode != 0:
            subprocess.run([UMOUNT, "-l", str(folder)], capture_output=True, check=True)


def fill(folder: Path) -> Path:
    """Writes a file into ``folder`` until its filesystem refuses a single byte more."""
    filler = folder / FILLER
    with open(filler, "wb", buffering=0) as fh:
        for block in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    fh.write(b"\0" * block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return filler


@contextmanager
def full(folder: Path) -> Iterator[Path]:
    """``folder``, with what it holds, on a tmpfs just big enough for it, then filled: the
    next write there fails with ENOSPC. Yields the filler, whose removal frees the space."""
    aside = folder.with_name(folder.name + ".before-full")
    had = folder.exists()
    if had:
        folder.rename(aside)
    used = sum(p.stat().st_size for p in aside.rglob("*") if p.is_file()) if had else 0
    try:
        with tiny_tmpfs(folder, 64 + 2 * used // 1024) as mounted:
            if had:
                shutil.copytree(aside, mounted, symlinks=True, dirs_exist_ok=True)
            yield fill(mounted)
    finally:
        if had:
            shutil.rmtree(folder, ignore_errors=True)  # the empty mount point
            aside.rename(folder)
