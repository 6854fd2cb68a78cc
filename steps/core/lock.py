"""One emlsetup at a time per state folder.

A kernel lock (flock) rather than a pid file: it is released when its holder dies, so a lock
left by a killed process is simply taken over, and a live holder cannot be displaced.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from steps.core.state import StateError

LOCK_FILE = "emlsetup.lock"


class LockedError(Exception):
    pass


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
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(
                f"another emlsetup (pid {holder}) is using {self.path.parent}; wait for it to "
                f"finish or stop it, or use another --state-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
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
