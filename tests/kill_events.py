"""Each save of the state file as an event, from the kernel (inotify), for the kill campaign:
a save is a rename of the temp file onto state.json (IN_MOVED_TO), so the campaign can
kill the wizard right after one without polling or sleeping.

inotify(7): https://man7.org/linux/man-pages/man7/inotify.7.html (struct inotify_event:
int wd; uint32_t mask, cookie, len; char name[len]).
"""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path

IN_MOVED_TO = 0x00000080
_HEADER = struct.Struct("iIII")
_libc = ctypes.CDLL(None, use_errno=True)


class StateSaves:
    def __init__(self, folder: Path, name: str = "state.json") -> None:
        self.name = name.encode()
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if _libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_MOVED_TO) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder}")

    def read(self) -> int:
        """How many saves happened since the last call (call when ``fd`` is readable)."""
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return 0
        saves, at = 0, 0
        while at + _HEADER.size <= len(data):
            _wd, mask, _cookie, length = _HEADER.unpack_from(data, at)
            name = data[at + _HEADER.size : at + _HEADER.size + length].rstrip(b"\0")
            saves += bool(mask & IN_MOVED_TO and name == self.name)
            at += _HEADER.size + length
        return saves

    def close(self) -> None:
        os.close(self.fd)
