"""One emlsetup at a time per state folder.

A kernel lock (flock) rather than a pid file: it is released when its holder dies, so a lock
left by a killed process is simply taken over, and a live holder cannot be displaced.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from steps.core.state import StateError

LOCK_FILE = "emlsetup.lock"


class LockedError(Exception):
    pass


# The pid is written as one fixed-size record over the previous one, never after emptying
# the file: a refused emlsetup reading it at any moment finds the old pid or the new one.
PID_RECORD = 16
ATTEMPTS = 50


def holder_pid(path: Path) -> int | None:
    """The pid holding the flock on ``path``, from the kernel's table (/proc/locks): right
    even while the holder has not written its pid yet. None when nobody holds it."""
    try:
        inode = path.stat().st_ino
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    for line in table.splitlines():
        parts = line.split()
        if "->" in parts:  # a waiter, not a holder
            continue
        if len(parts) < 6 or parts[1] != "FLOCK":
            continue
        try:
            pid, (_major, _minor, number) = int(parts[4]), parts[5].split(":")
        except ValueError:
            continue
        if int(number) == inode:
            return pid
    return None


def _pid_in(fd: int) -> int | None:
    text = os.pread(fd, PID_RECORD * 2, 0).decode(errors="replace").split()
    return int(text[0]) if text and text[0].isdigit() else None


class StateLock:
    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # a read-only mount, another user's folder, a file on the way
            raise StateError(
                f"cannot write in the state folder {self.path.parent} ({exc.strerror}); "
                "make it writable for this user or choose another with --state-dir"
            ) from None
        for _ in range(ATTEMPTS):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = holder_pid(self.path) or _pid_in(fd)
                if holder is not None:
                    os.close(fd)
                    raise LockedError(
                        f"another emlsetup (pid {holder}) is using {self.path.parent}; wait for "
                        "it to finish or stop it, or use another --state-dir"
                    ) from None
                # Released between our try and our look, or (without /proc) a holder that
                # is writing its pid this very moment: look again shortly.
                time.sleep(0.01)
        else:
            os.close(fd)
            raise LockedError(
                f"another emlsetup is using {self.path.parent} (it holds the lock file "
                f"{self.path}); wait for it to finish or stop it, or use another --state-dir"
            )
        record = f"{os.getpid()}".ljust(PID_RECORD - 1).encode() + b"\n"
        try:
            os.pwrite(fd, record, 0)
            if os.fstat(fd).st_size > PID_RECORD:
                os.ftruncate(fd, PID_RECORD)  # a longer file of an older emlsetup
        except OSError:
            pass  # a full disk: the kernel's lock holds all the same, and names our pid
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class FolderLock:
    """One emlsetup at a time changing what lives in ``folder`` on the server (the model
    commands: config.cnf and the models' HANA objects), whatever its state folder: root
    and the admin each have their own, so StateLock alone lets two of them in. A kernel
    lock on the folder itself, nothing written in it; released when its holder dies."""

    def __init__(self, folder: Path, shown: str, what: str) -> None:
        self.folder, self.shown, self.what = folder, shown, what
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:  # not there yet: the command says what is missing itself
            return self
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(
                f"another emlsetup is {self.what} in {self.shown}; wait for it to finish, "
                "then run this again"
            ) from None
        self._fd = fd
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
