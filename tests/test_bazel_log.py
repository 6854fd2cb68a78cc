"""Bazel output parsing on real recordings (tests/fixtures/bazel, see its README) and on
literal samples of each line form, plus the time estimate, exit codes and BEP reading.

The recordings are replayed chunk by chunk with their timestamps, the way the runner hands
lines to listeners, so the tracker sees split lines and real pauses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from steps.bazel import bep
from steps.bazel.eta import Eta, describe, estimate
from steps.bazel.exit_codes import sentence
from steps.bazel.log import (
    MAX_ERRORS,
    Analysed,
    BuildError,
    BuildTracker,
    Finished,
    Progress,
    UpToDate,
    parse_line,
    strip_ansi,
)

FIXTURES = Path(__file__).parent / "fixtures" / "bazel"


@dataclass
class Replay:
    tracker: BuildTracker
    exit_code: int
    end: float
    stderr: str
    progress_times: list[tuple[float, int, int]]


def replay(name: str) -> Replay:
    """Feeds a recording through a BuildTracker, splitting lines per stream as they come."""
    tracker = BuildTracker()
    buffers = {"stderr": "", "stdout": ""}
    raw = {"stderr": "", "stdout": ""}
    progress: list[tuple[float, int, int]] = []
    exit_code, end = 0, 0.0
    for row in (FIXTURES / f"{name}.chunks.jsonl").read_text().splitlines():
        chunk = json.loads(row)
        if "exit" in chunk:
            exit_code, end = chunk["exit"], chunk["t"]
            continue
        if "data" not in chunk:  # a note of the recorder, e.g. "sent SIGKILL to client"
            continue
        stream = chunk["stream"]
        raw[stream] += chunk["data"]
        buffers[stream] += chunk["data"]
        *lines, buffers[stream] = buffers[stream].split("\n")
        for line in lines:
            event = tracker.feed(line, chunk["t"])
            if isinstance(event, Progress):
                progress.append((chunk["t"], event.done, event.total))
    for rest in buffers.values():
        if rest:
            tracker.feed(rest, end)
    return Replay(tracker, exit_code, end, raw["stderr"], progress)


RUNS = [
    "01-first-build",
    "02-noop-rebuild",
    "04-compile-error",
    "06-test",
    "09-sigkill-client-mid-build",
    "10-rerun-right-after-sigkill",
    "16-show-timestamps-terse",
    # Bazel 4.2.3 on the workspace of tests/test_real_bazel.py (tests/test_bazel_log_real.py).
    *(f"2{n}-real-{case}" for n, case in enumerate((
        "cold-build", "test-after-build", "model-server-after-build", "compile-error",
        "interrupted", "rerun-after-interrupt", "server-killed",
        "rerun-after-server-killed", "lock-wait",
    ))),
]


def test_every_recording_is_covered() -> None:
    found = sorted(p.name.removesuffix(".chunks.jsonl") for p in FIXTURES.glob("*.chunks.jsonl"))
    assert found == RUNS, "a new recording needs its own test below"


@pytest.mark.parametrize("name", RUNS)
def test_chunks_match_raw_streams(name: str) -> None:
    run = replay(name)
    assert run.stderr == (FIXTURES / f"{name}.stderr.raw").read_text()
    stdout = (FIXTURES / f"{name}.stdout.raw").read_text()  # `bazel test`'s summary
    assert run.tracker.lines == run.stderr.count("\n") + stdout.count("\n")


@pytest.mark.parametrize("name", RUNS)
def test_raw_file_line_by_line_equals_replay(name: str) -> None:
    both = (FIXTURES / f"{name}.stderr.raw").read_text()
    both += (FIXTURES / f"{name}.stdout.raw").read_text()
    by_lines = BuildTracker()
    for i, line in enumerate(both.splitlines()):
        by_lines.feed(line, float(i))
    by_chunk = BuildTracker()
    by_chunk.feed_chunk(both, 0.0)
    for t in (replay(name).tracker, by_chunk):
        assert (by_lines.done, by_lines.total, by_lines.finished) == (t.done, t.total, t.finished)
        assert (by_lines.errors, by_lines.up_to_date) == (t.errors, t.up_to_date)
        assert (by_lines.running, by_lines.lines) == (t.running, t.lines)


def test_first_build() -> None:
    run = replay("01-first-build")
    t = run.tracker
    assert run.exit_code == 0
    assert (t.done, t.total) == (26, 30)
    assert run.progress_times[0][1:] == (0, 4)  # the total grows: 4 known, then 30
    assert len(run.progress_times) == 14
    assert t.analysed == Analysed(targets=1, packages=15)
    assert t.finished == Finished(True, "INFO: Build completed successfully, 30 total actions")
    assert t.up_to_date == ["//app:hello"]
    assert t.errors == []
    assert t.fraction() == 1.0
    assert t.phase == "finished"
    assert t.running is None and t.current_action is None
    assert t.started_at == 0.25
    assert t.last_progress_at == pytest.approx(52.319)
    assert t.silence(run.end) == pytest.approx(55.329 - 52.319)


def test_first_build_midway_state() -> None:
    t = BuildTracker()
    lines = (FIXTURES / "01-first-build.stderr.raw").read_text().splitlines()
    for i, line in enumerate(lines[:11]):
        t.feed(line, float(i))
    assert (t.done, t.total, t.running) == (7, 30, 1)
    assert t.current_action == "Compiling app/heavy_6.cc"
    assert t.fraction() == pytest.approx(7 / 30)
    assert t.phase == "building" and t.finished is None


def test_noop_rebuild() -> None:
    run = replay("02-noop-rebuild")
    t = run.tracker
    assert (t.done, t.total) == (0, 1)
    assert t.up_to_date == ["//app:hello"]
    assert t.finished is not None and t.finished.success
    assert t.finished.text.endswith("1 total action")
    assert t.analysed == Analysed(1, 0)


def test_compile_error() -> None:
    run = replay("04-compile-error")
    t = run.tracker
    assert run.exit_code == 1
    assert t.finished == Finished(False, "FAILED: Build did NOT complete successfully")
    assert t.up_to_date == []
    bazel_error, compiler_error = t.errors
    assert (bazel_error.file, bazel_error.line, bazel_error.column) == (
        "/home/tmsadm/serving/broken/BUILD",
        1,
        10,
    )
    assert bazel_error.message.startswith("Compiling broken/broken.cc failed: (Exit 1)")
    assert compiler_error == BuildError(
        "broken/broken.cc", 1, 21, "'undefined_symbol_here' was not declared in this scope",
        compiler=True,
    )
    # Bazel 4.2 names the action's BUILD line first; the line to fix is the compiler's.
    assert t.first_error == compiler_error
    assert t.fraction() == 0.0


def test_test_run_failing_in_analysis() -> None:
    run = replay("06-test")
    t = run.tracker
    assert run.exit_code == 1
    assert t.done is None and t.fraction() is None and t.silence(run.end) is None
    assert t.finished is not None and not t.finished.success
    assert "(2 packages loaded, 18 targets configured)" in t.finished.text
    assert len(t.errors) == 5
    located = [e for e in t.errors if e.file]
    assert len(located) == 1 and str(located[0].file).endswith("tools/test/BUILD")
    assert (located[0].line, located[0].column) == (36, 6)
    assert t.errors[-1].message == "Couldn't start the build. Unable to run tests"
    # Traceback lines like "  /DEFAULT.WORKSPACE.SUFFIX:11:13: in <toplevel>" are no errors.
    assert all("toplevel" not in e.message for e in t.errors)


def test_killed_client_ends_without_verdict() -> None:
    run = replay("09-sigkill-client-mid-build")
    t = run.tracker
    assert run.exit_code == -9
    assert t.finished is None and t.phase == "building"
    assert (t.done, t.total, t.running) == (6, 27, 2)
    assert t.current_action == "Compiling app/heavy_19.cc"
    assert t.silence(run.end) == pytest.approx(run.end - run.progress_times[-1][0])
    assert "SIGKILL" in sentence(run.exit_code)


def test_rerun_after_kill_keeps_finished_actions() -> None:
    killed = replay("09-sigkill-client-mid-build").tracker
    rerun = replay("10-rerun-right-after-sigkill").tracker
    assert rerun.total == 19 and killed.total == 27 and rerun.total < killed.total
    assert (rerun.done, rerun.finished) == (
        15,
        Finished(True, "INFO: Build completed successfully, 19 total actions"),
    )


def test_show_timestamps() -> None:
    t = replay("16-show-timestamps-terse").tracker
    assert (t.done, t.total) == (22, 27)
    assert t.analysed == Analysed(1, 0)
    assert t.finished == Finished(True, "INFO: Build completed successfully, 25 total actions")
    assert t.up_to_date == ["//app:hello"]


def test_eta_on_first_build_brackets_the_real_end() -> None:
    run = replay("01-first-build")
    seen = 0
    for i in range(len(run.progress_times)):
        eta = estimate(run.progress_times[: i + 1])
        if eta is None:
            continue
        seen += 1
        now = run.progress_times[i][0]
        assert eta.low <= run.end - now <= eta.high
    assert seen >= 3


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (
            "[4 / 30] Compiling app/heavy_1.cc; 1s linux-sandbox ... (2 actions running)",
            Progress(4, 30, 2, "Compiling app/heavy_1.cc"),
        ),
        ("[1,234 / 5,678] 8 actions running", Progress(1234, 5678, 8, None)),
        ("[1,234 / 5,678] 8 actions, 3 running", Progress(1234, 5678, 3, None)),
        ("[12 / 34] Compiling foo.cc", Progress(12, 34, None, "Compiling foo.cc")),
        (
            "[1221,1224] Linking tensorflow_model_server",
            Progress(1221, 1224, None, "Linking tensorflow_model_server"),
        ),
        (
            "[0 / 4] [Prepa] Creating source manifest for //app:hello",
            Progress(0, 4, None, "Creating source manifest for //app:hello"),
        ),
        ("(15:41:27) [2 / 27] Compiling a.cc", Progress(2, 27, None, "Compiling a.cc")),
        ("INFO: Analysed 2 targets (120 packages loaded).", Analysed(2, 120)),
        (
            "INFO: Analysed target //tensorflow_serving/model_servers:tensorflow_model_server "
            "(98 packages loaded).",
            Analysed(1, 98),
        ),
        ("INFO: Analyzed 3 targets (0 packages loaded, 0 targets configured).", Analysed(3, 0)),
        (
            "ERROR: /x/BUILD:12:1: C++ compilation of rule '//x:y' failed (Exit 1)",
            BuildError("/x/BUILD", 12, 1, "C++ compilation of rule '//x:y' failed (Exit 1)"),
        ),
        (
            "ERROR: Build failed. Not running target",
            BuildError(None, None, None, "Build failed. Not running target"),
        ),
        (
            "foo.cc:3:5: error: expected ';'",
            BuildError("foo.cc", 3, 5, "expected ';'", compiler=True),
        ),
        (
            "a/b.h:7: fatal error: c.h: No such file or directory",
            BuildError("a/b.h", 7, None, "c.h: No such file or directory", compiler=True),
        ),
        (
            "INFO: Build completed successfully, 4,321 total actions",
            Finished(True, "INFO: Build completed successfully, 4,321 total actions"),
        ),
        (
            "INFO: Build completed, 1 test FAILED, 30 total actions",
            Finished(False, "INFO: Build completed, 1 test FAILED, 30 total actions"),
        ),
        (
            "FAILED: Build did NOT complete successfully",
            Finished(False, "FAILED: Build did NOT complete successfully"),
        ),
        (
            "Build did NOT complete successfully",
            Finished(False, "Build did NOT complete successfully"),
        ),
        (
            "Target //tensorflow_serving/model_servers:tensorflow_model_server up-to-date:",
            UpToDate("//tensorflow_serving/model_servers:tensorflow_model_server"),
        ),
        ("foo.cc:3:5: warning: unused variable 'x' [-Wunused-variable]", None),
        ("  /DEFAULT.WORKSPACE.SUFFIX:11:13: in <toplevel>", None),
        ("INFO: Elapsed time: 55.262s, Critical Path: 5.42s", None),
        ("[ 50%] not bazel", None),
        ("", None),
    ],
)
def test_line_forms(line: str, event: object) -> None:
    assert parse_line(line) == event
    assert parse_line(line + "\n") == event


def test_terminal_rewrites() -> None:
    assert strip_ansi("\x1b[1A\x1b[K\x1b[32mINFO: \x1b[0mok") == "INFO: ok"
    assert strip_ansi("[1 / 9] a\r\x1b[K[2 / 9] b\r") == "[2 / 9] b"
    assert parse_line("\r\x1b[K\x1b[32m[1,000 / 2,000]\x1b[0m 4 actions running\r\n") == (
        Progress(1000, 2000, 4, None)
    )
    t = BuildTracker()
    # An error drawn over a progress line on a terminal must not be lost.
    event = t.feed("\x1b[31mERROR: \x1b[0mx.cc:1:2: boom\r\x1b[K[3 / 9] Linking y", 5.0)
    assert event == Progress(3, 9, None, "Linking y")
    assert t.errors == [BuildError("x.cc", 1, 2, "boom")]
    assert (t.done, t.last_progress_at) == (3, 5.0)


def test_tracker_counts_verdict_once_and_bounds_errors() -> None:
    t = BuildTracker()
    t.feed("FAILED: Build did NOT complete successfully", 1.0)
    t.feed("INFO: Build completed successfully, 3 total actions", 2.0)
    assert t.finished == Finished(False, "FAILED: Build did NOT complete successfully")
    for i in range(MAX_ERRORS + 5):
        t.feed(f"ERROR: e{i}", 3.0)
    assert len(t.errors) == MAX_ERRORS and t.errors_dropped == 5
    t.feed("Target //a:b up-to-date:", 4.0)
    t.feed("Target //a:b up-to-date:", 4.0)
    assert t.up_to_date == ["//a:b"]
    assert t.expected_gap(1001.0) == pytest.approx(150.0)


def test_estimate_needs_history_then_follows_rate() -> None:
    assert estimate([]) is None and describe(None).startswith("estimating")
    assert estimate([(0.0, 0, 100), (10.0, 5, 100), (20.0, 10, 100)]) is None  # < 30 s
    steady = [(60.0 * i, 10 * i, 1000) for i in range(20)]
    eta = estimate(steady)
    assert eta is not None
    assert eta.seconds == pytest.approx((1000 - 190) * 6.0)
    assert eta.low < eta.seconds < eta.high
    assert estimate([(0.0, 0, 10), (40.0, 5, 10), (80.0, 10, 10)]) == Eta(0.0, 0.0, 0.0)
    assert estimate([(0.0, 5, 10), (40.0, 5, 10), (80.0, 5, 10)]) is None  # no progress


def test_estimate_widens_when_total_grows() -> None:
    steady = [(60.0 * i, 10 * i, 1000) for i in range(20)]
    growing = [(60.0 * i, 10 * i, 1000 + 5 * i) for i in range(20)]
    a, b = estimate(steady), estimate(growing)
    assert a is not None and b is not None
    # Remaining shrinks at 5/min, not 10/min: the pessimistic end must cover that.
    remaining = 1095 - 190
    assert b.high >= remaining / 5 * 60
    assert (b.high - b.low) / b.seconds > (a.high - a.low) / a.seconds


@pytest.mark.parametrize(
    ("eta", "text"),
    [
        (Eta(4800, 3000, 7200), "about 1 h 20 min (50 min - 2 h)"),
        (Eta(600, 500, 700), "about 10 min (8 min - 12 min)"),
        (Eta(30, 20, 40), "less than a minute"),
        (Eta(0, 0, 0), "almost done"),
    ],
)
def test_describe(eta: Eta, text: str) -> None:
    assert describe(eta) == text


EXIT_WORDS = {
    **{0: "succeeded", 1: "ERROR", 2: ".bazelrc", 3: "tests failed", 4: "No test"},
    **{8: "resumes", 9: "lock", 36: "disk", 37: "internal error", 42: "exit code 42"},
    **{-2: "interrupted", -9: "out-of-memory", 137: "SIGKILL", -15: "SIGTERM"},
}


def test_exit_sentences() -> None:
    for code, words in EXIT_WORDS.items():
        text = sentence(code)
        assert words in text and text.endswith("."), code


def test_bep_target_results() -> None:
    path = FIXTURES / "15-bep.json"
    assert bep.target_results(path) == {"//app:hello": True, "//broken:broken": False}
    assert bep.build_exit_code(path) == 1
    assert bep.per_test_status(path) == {}


def test_bep_partial_and_missing(tmp_path: Path) -> None:
    lines = (FIXTURES / "15-bep.json").read_text().splitlines()
    cut = next(
        i
        for i, line in enumerate(lines)
        if line.startswith('{"id":{"targetCompleted":{"label":"//app')
    )
    partial = tmp_path / "bep.json"
    partial.write_text("\n".join(lines[:cut]) + "\n" + lines[cut][: len(lines[cut]) // 2])
    assert bep.target_results(partial) == {"//broken:broken": False}
    assert bep.build_exit_code(partial) is None
    assert bep.target_results(tmp_path / "absent.json") == {}
    aborted = tmp_path / "aborted.json"
    aborted.write_text(
        '{"id":{"targetCompleted":{"label":"//:foo"}},"aborted":{"reason":"USER_INTERRUPTED"}}\n'
        '{"id":{"testResult":{"label":"//t:x","run":1}},"testResult":{"status":"FAILED"}}\n'
        '{"id":{"buildFinished":{}},"finished":{"overallSuccess":true}}\n'
    )
    assert bep.target_results(aborted) == {"//:foo": False}
    assert bep.per_test_status(aborted) == {"//t:x": "FAILED"}
    assert bep.build_exit_code(aborted) == 0
