"""Finding, in a large block of Bazel output, the few lines that can change what the build
screen shows, without looking at each line in Python.

A TensorFlow Serving build prints hundreds of MB of compiler warnings, and the wizard must
keep up with it on one core. Each kind of interesting line has a marker that C code locates
at GB/s (``find``); only the lines holding one are decoded and parsed. Of the
progress lines only the last one counts: every line of a block is read at the same moment,
so the earlier counters would be overwritten at once.

Pure functions over ``bytes``; ``BuildTracker.feed_bytes`` applies what they find.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator

BAZEL_ERROR_MARK = b"ERROR: "
SUCCESS_MARK = b"INFO: Build completed"  # also "INFO: Build completed, 1 test FAILED, ..."
# Only after a Bazel ERROR line: a compiler's "error: " is printed as the output of the
# action Bazel has just reported failed, and "FAILED: Build did NOT complete successfully"
# ends a build that reported errors. Looking for them sooner would double the cost.
FAILING_MARKS = (b"rror: ", b"Build did NOT")
ANALYSED_MARK = b"INFO: Analy"
# The client's own lines: waiting for another command's lock comes before analysis; the
# server dying under the client is the client's last line (so, like the verdict, it lies in
# the last VERDICT_WINDOW bytes of its block).
WAITING_MARK = b"Another command"
SERVER_DIED_MARK = b"Server terminated abruptly"
UP_TO_DATE_MARK = b" up-to-date"
# Bazel's verdict ends its output (only a second copy of it or a test summary follows), so
# it lies in the last VERDICT_WINDOW bytes of the block holding it: only those are searched
# for it. The "Target //x up-to-date:" list (one target by default, --show_result=1) comes
# right before it: only VERDICT_WINDOW bytes before the verdict are searched for that.
VERDICT_WINDOW = 64 * 1024
# A progress line starts with "[" or, with --show_timestamps, with "(15:41:25) [".
PROGRESS_MARKS = (b"\n[", b") [")

Span = tuple[int, int]  # [start, end) of one line, without its newline
# Below this many bytes a libc call costs more than it saves.
LIBC_FIND_MIN = 4096


# glibc's memmem hashes pairs of bytes to skip most of the text since 2019; before, it was
# a two-way search no faster than bytes.find (the HXE VMs have 2.17-2.24).
FAST_MEMMEM_GLIBC = (2, 30)


def memmem_is_fast(glibc_version: str) -> bool:
    """Whether this glibc's memmem beats ``bytes.find``: "2.36" yes, "2.17" no."""
    try:
        major, minor = (int(part) for part in glibc_version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= FAST_MEMMEM_GLIBC


def _libc_memmem() -> Callable[..., int | None] | None:
    try:
        libc = ctypes.CDLL(None)
        version = libc.gnu_get_libc_version
        memmem = libc.memmem
    except (OSError, AttributeError):  # not glibc: bytes.find
        return None
    version.restype = ctypes.c_char_p
    if not memmem_is_fast(version().decode()):
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    return memmem


_memmem = _libc_memmem()


def libc_find(data: bytes, mark: bytes, start: int = 0) -> int:
    """``data.find(mark, start)`` done by glibc's ``memmem``, which ctypes calls without
    the GIL (the screens keep running meanwhile): 7 GB/s here, 3x CPython's search, which
    for a short needle in a long text falls back to a byte-by-byte two-way scan.
    ``bytes.find`` where glibc's memmem is not the fast one."""
    if _memmem is None or not mark:
        return data.find(mark, start)
    start = max(0, len(data) + start if start < 0 else start)  # as bytes.find reads it
    if start >= len(data):
        return -1
    # The address of the bytes object's own buffer: nothing is copied.
    base = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
    hit = _memmem(base + start, len(data) - start, mark, len(mark))
    return -1 if hit is None else hit - base


def find(data: bytes, mark: bytes, start: int = 0) -> int:
    """``data.find(mark, start)``, by libc for large immutable blocks."""
    if type(data) is bytes and len(data) - start >= LIBC_FIND_MIN:
        return libc_find(data, mark, start)
    return data.find(mark, start)


def needs_line_parse(data: bytes) -> bool:
    """A terminal recording (ANSI cursor codes, carriage-return rewrites) hides lines inside
    lines; such a block is parsed line by line instead."""
    return b"\x1b" in data or b"\r" in data


def line_around(data: bytes, pos: int) -> Span:
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    return start, len(data) if end < 0 else end


def lines_with(data: bytes, mark: bytes, start: int = 0) -> Iterator[Span]:
    """Every line holding ``mark`` at or after ``start``, in order, each once."""
    at = find(data, mark, start)
    while at >= 0:
        start, end = line_around(data, at)
        yield start, end
        at = find(data, mark, end)


def last_line_where(
    data: bytes, accept: Callable[[bytes], bool], stamped: bool = False
) -> Span | None:
    """The last line that starts like progress and that ``accept`` takes, searching back
    from the end (a few lines, normally: Bazel prints progress between compiler outputs).
    ``stamped``: the build prints timestamps (--show_timestamps), so "(15:41:25) [4 / 30]"
    is looked for too; ") [" is common in C++ diagnostics ("f(T) [with T = int]"), so it
    is not searched for otherwise."""
    marks = PROGRESS_MARKS if stamped else PROGRESS_MARKS[:1]
    found = {mark: data.rfind(mark) for mark in marks}
    while (at := max(found.values())) >= 0:
        start, end = line_around(data, at + 1)
        if data[start : start + 1] in (b"[", b"(") and accept(data[start:end]):
            return start, end
        for mark, pos in found.items():
            if pos >= start - 1:  # in this line (or its newline): look before it
                found[mark] = data.rfind(mark, 0, start)
    start, end = line_around(data, 0)  # no newline before the first line
    return (start, end) if data.startswith(b"[") and accept(data[start:end]) else None


def event_lines(data: bytes, want_analysed: bool, failing: bool) -> tuple[list[Span], int | None]:
    """Spans of the lines that can hold an error, the verdict, the end of analysis or a wait
    for another command's lock, in order, and where the first verdict line starts (None
    without one: see ``VERDICT_WINDOW``). ``failing``: an ERROR line came in an earlier
    block (see ``FAILING_MARKS``). Progress is found separately (``last_line_where``),
    up-to-date targets with ``UP_TO_DATE_MARK`` only just before a verdict
    (``VERDICT_WINDOW``)."""
    end = max(0, len(data) - VERDICT_WINDOW)
    errors = set(lines_with(data, BAZEL_ERROR_MARK))
    verdicts = set(lines_with(data, SUCCESS_MARK, end))
    errors.update(lines_with(data, SERVER_DIED_MARK, end))
    if failing or errors:
        errors.update(lines_with(data, FAILING_MARKS[0]))
        verdicts.update(lines_with(data, FAILING_MARKS[1], end))
    spans = errors | verdicts
    if want_analysed:
        spans.update(lines_with(data, ANALYSED_MARK))
        spans.update(lines_with(data, WAITING_MARK))
    return sorted(spans), min(verdicts)[0] if verdicts else None
