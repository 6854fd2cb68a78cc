"""The fast path the build screen uses for a build's log (``BuildTracker.feed_bytes``): what
it shows must be what reading every line would show, on every recording and on a warning
flood with errors and verdicts cut across block boundaries."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from steps.bazel import scan
from steps.bazel.log import BuildTracker

FIXTURES = Path(__file__).parent / "fixtures" / "bazel"
RECORDINGS = sorted(p.name for p in FIXTURES.glob("*.stderr.raw"))
WARNING = (
    "external/eigen_archive/unsupported/Eigen/CXX11/src/Tensor/TensorExecutor.h:{n}:7: "
    "warning: ignoring attributes on template argument [-Wignored-attributes]\n"
    "  {n} |   typedef typename internal::remove_const<Scalar>::type CoeffReturnType;\n"
    "In instantiation of 'void f(T) [with T = int]':\n"
)


def shown(t: BuildTracker) -> tuple[object, ...]:
    """What the build screen and the failure sentence read from a tracker."""
    return (
        t.done,
        t.total,
        t.running,
        t.current_action,
        t.finished,
        t.errors,
        t.up_to_date,
        t.analysed,
        t.phase,
        t.waiting,
        t.first_error,
    )


def by_lines(text: str) -> BuildTracker:
    tracker = BuildTracker()
    for line in text.splitlines():
        tracker.feed(line, 1.0)
    return tracker


def in_blocks(data: bytes, seed: int, mean_lines: int) -> BuildTracker:
    """Fed the way steps.core.follow reads the file: blocks of complete lines of random length."""
    rnd = random.Random(seed)
    tracker = BuildTracker()
    lines = data.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        n = rnd.randint(1, 2 * mean_lines)
        tracker.feed_bytes(b"".join(lines[i : i + n]), 1.0)
        i += n
    return tracker


@pytest.mark.parametrize("name", RECORDINGS)
def test_recording_whole_and_in_blocks_shows_what_line_by_line_shows(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    expected = shown(by_lines(raw.decode()))
    whole = BuildTracker()
    whole.feed_bytes(raw, 1.0)
    assert shown(whole) == expected
    for seed in range(20):
        assert shown(in_blocks(raw, seed, mean_lines=3)) == expected, f"seed {seed}"


ACTION_OUTPUT_BEFORE = re.compile(r"(\(\S+\) )?(\[|ERROR: )")


def flood(name: str, seed: int) -> bytes:
    """A recording with thousands of warning lines where Bazel prints actions' output
    (before a progress or error line), so errors, the up-to-date target and the verdicts
    land anywhere in a block, or on its edge."""
    rnd = random.Random(seed)
    out: list[str] = []
    for line in (FIXTURES / name).read_text().splitlines(keepends=True):
        if ACTION_OUTPUT_BEFORE.match(line):
            for _ in range(rnd.choice((0, 1, 40, 400, 4000))):
                out.append(WARNING.format(n=rnd.randint(1, 999)))
        out.append(line)
    return "".join(out).encode()


@pytest.mark.parametrize("name", RECORDINGS)
def test_warning_flood_in_blocks_shows_what_line_by_line_shows(name: str) -> None:
    for seed in range(3):
        data = flood(name, seed)
        expected = shown(by_lines(data.decode()))
        assert shown(in_blocks(data, seed, mean_lines=200)) == expected, f"seed {seed}"


def test_up_to_date_in_the_block_before_the_verdict_is_kept() -> None:
    tracker = BuildTracker()
    tracker.feed_bytes(
        b"[12 / 12] Linking app/hello\nTarget //app:hello up-to-date:\n  bazel-bin/app/hello\n",
        1.0,
    )
    tracker.feed_bytes(WARNING.format(n=1).encode() * 50, 2.0)
    tracker.feed_bytes(b"INFO: Build completed successfully, 12 total actions\n", 3.0)
    assert tracker.up_to_date == ["//app:hello"]
    assert tracker.finished is not None and tracker.finished.success


def test_terminal_redraws_fall_back_to_the_line_parser() -> None:
    """With a terminal's carriage returns an error drawn over a progress line still counts."""
    data = b"[3 / 9] Compiling a.cc\r\x1b[KERROR: /src/BUILD:4:1: C++ compilation failed\n"
    tracker = BuildTracker()
    tracker.feed_bytes(data, 1.0)
    assert [(e.file, e.line) for e in tracker.errors] == [("/src/BUILD", 4)]
    assert tracker.done == 3


def test_progress_is_the_last_counter_not_a_template_bracket() -> None:
    data = b"[7 / 40] Compiling x.cc\n" + WARNING.format(n=3).encode() * 3
    assert scan.last_line_where(data, lambda raw: raw.startswith(b"[")) == (0, 23)
    stamped = b"(10:00:01) [8 / 40] Compiling y.cc\n(10:00:02) f(T) [with T = int]\n"
    tracker = BuildTracker()
    tracker.feed_bytes(stamped, 1.0)
    assert (tracker.done, tracker.current_action) == (8, "Compiling y.cc")


def test_libc_search_finds_what_bytes_find_finds() -> None:
    """The error lines of a flood are found by libc's memmem: at the start, the very end,
    overlapping, from any offset, and not where the text has only part of the marker."""
    rnd = random.Random(5)
    marks = [scan.BAZEL_ERROR_MARK, *scan.FAILING_MARKS, b"RR"]
    for _ in range(300):
        pieces = [WARNING.format(n=rnd.randint(1, 99)).encode() for _ in range(rnd.randint(0, 60))]
        for _ in range(rnd.randint(0, 3)):
            pieces.insert(rnd.randint(0, len(pieces)), rnd.choice(marks + [b"ERROR:", b"ERRORR"]))
        data = b"".join(pieces)
        mark = rnd.choice(marks)
        for start in (0, rnd.randint(-len(data) - 5, len(data) + 5), len(data) - len(mark)):
            assert scan.libc_find(data, mark, start) == data.find(mark, start), (mark, start)


def test_glibc_memmem_is_used_only_where_it_is_the_fast_one() -> None:
    assert [scan.memmem_is_fast(v) for v in ("2.17", "2.24", "2.29", "2.30", "2.36", "3.0")] == [
        False, False, False, True, True, True,
    ]  # fmt: skip
    assert not scan.memmem_is_fast("unknown")
