"""Following a detached command's log until its exit status appears: the same code serves
the run that started the build and any later one that re-attaches to it."""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# A re-attaching wizard shows this much of what it missed, not hours of log.
REATTACH_CONTEXT = 64 * 1024
CHUNK = 2 << 20  # larger blocks: fewer hand-offs of the GIL to the screens during a flood
MIN_POLL_S = 0.005
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


@dataclass
class Followed:
    exit_code: int | None  # None: the command died without recording its status, or left
    offset: int
    left: bool = False  # ``leave`` was set: the command goes on, unfollowed


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_our_wrapper(pid: int, exit_file: Path) -> bool:
    """A recycled pid must not be mistaken for the build: the wrapper names its exit file."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return alive(pid)  # no /proc to ask: trust the pid
    return str(exit_file).encode() in cmdline


@dataclass
class Wrapper:
    pid: int
    argv: list[str]  # the command it runs
    env: dict[str, str] | None  # None: not readable


def find_wrapper(exit_file: Path) -> Wrapper | None:
    """The wrapper that will write ``exit_file``, if it runs, with the command and the
    environment it started the build with: a wizard stopped between starting a build and
    recording its pid left only the build's file names behind, and a second build must not
    be started beside the first (nor a re-run differ from it)."""
    name = str(exit_file).encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")[:-1]
        except OSError:
            continue
        if b"steps.core.detach" not in args or name not in args or b"--" not in args:
            continue
        try:
            pairs = (entry / "environ").read_bytes().split(b"\0")[:-1]
            env: dict[str, str] | None = dict(
                pair.decode(errors="replace").split("=", 1) for pair in pairs if b"=" in pair
            )
        except OSError:
            env = None
        command = [arg.decode(errors="replace") for arg in args[args.index(b"--") + 1 :]]
        return Wrapper(int(entry.name), command, env)
    return None


def read_exit(exit_file: Path) -> int | None:
    try:
        return int(exit_file.read_text().strip())
    except (OSError, ValueError):
        return None


@functools.cache
def keep_blocks_in_heap() -> None:
    """Blocks of up to ``CHUNK`` bytes are allocated and freed at GB/s while a build floods
    its log. glibc's adaptive thresholds served them from fresh mmaps or from heap it had
    just handed back, so every page was faulted in again: 50,000 page faults per GB, a
    quarter of the follower's time. Fixed thresholds keep them in the heap; this is the
    wizard's own process, and its peak memory stays the same (60 MB). Not glibc: no-op."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, 4 * CHUNK)
    mallopt(M_TRIM_THRESHOLD, 8 * CHUNK)


def follow(
    log: Path,
    exit_file: Path,
    pid: int,
    offset: int,
    on_line: Callable[[str], None],
    stop: threading.Event,
    on_stop: Callable[[], None],
    poll_s: float = 0.05,
    on_chunk: Callable[[bytes], None] | None = None,
    leave: threading.Event | None = None,
) -> Followed:
    """Emits new complete lines from ``offset`` until the command ends. When ``stop`` is set,
    ``on_stop`` is called once (it interrupts the build) and following goes on until the
    build has really stopped.

    With ``on_chunk``, lines are not emitted one by one (``on_line`` is not called): each
    read's complete lines go to ``on_chunk`` as undecoded bytes ending with a newline, and
    a last line without one is passed alone at the end. Hundreds of MB of compiler warnings
    then cost a few calls per MiB instead of one per line. A line longer than ``CHUNK`` is
    passed on in pieces.

    When ``leave`` is set, following stops at once and the command is left running (the
    admin quit the wizard; a later one re-attaches)."""

    def emit(block: bytes) -> None:
        if on_chunk is not None:
            on_chunk(block)
            return
        text = block.decode(errors="replace")
        for line in text.removesuffix("\n").split("\n"):  # not splitlines: "\r" stays
            on_line(line)

    if on_chunk is not None:
        keep_blocks_in_heap()
    # One buffer for every read, and the unfinished last line read again with the next one:
    # a fresh MiB per read, and joining it to the line before, made the allocator hand
    # memory back and fault it in again, which cost as much as reading the log.
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    wait = min(MIN_POLL_S, poll_s)
    stopping = False
    with log.open("rb", buffering=0) as fh:
        while True:
            if leave is not None and leave.is_set():
                return Followed(None, offset, left=True)
            fh.seek(offset)  # the start of the first line not passed on yet
            n = fh.readinto(buf) or 0
            cut = buf.rfind(b"\n", 0, n) + 1 or (n if n == CHUNK else 0)
            if cut:
                # A newline byte never falls inside a UTF-8 sequence: whole lines decode alone.
                emit(bytes(view[:cut]))
                offset += cut
                wait = min(MIN_POLL_S, poll_s)
                continue
            code = read_exit(exit_file)
            if code is not None:
                if os.fstat(fh.fileno()).st_size > offset + n:
                    continue  # written between the last read and the exit file
                if n:
                    emit(bytes(view[:n]))
                    offset += n
                return Followed(code, offset)
            if not is_our_wrapper(pid, exit_file):
                # It may have written its exit status and ended between the two looks (seen
                # once in 200 kill-campaign rounds under load): look once more.
                if read_exit(exit_file) is not None:
                    continue
                return Followed(None, offset)
            if stop.is_set() and not stopping:
                stopping = True
                on_stop()
            stop.wait(wait) if not stopping else threading.Event().wait(wait)
            # Quick while output flows (a flood is shown without delay), ``poll_s`` when not.
            wait = min(poll_s, wait * 2)


def reattach_offset(log: Path, recorded: int) -> int:
    """Where a new wizard starts reading: where the last one was, but not hours back."""
    try:
        size = log.stat().st_size
    except OSError:
        return 0
    return max(recorded, size - REATTACH_CONTEXT, 0)
