"""The parsers on Bazel 4.2.3's own output of the real-Bazel cases (recordings 20-28 in
tests/fixtures/bazel, made by tools/record_real_bazel.py from the workspace of
tests/test_real_bazel.py): what the build screen and the failure sentence read from them."""

from __future__ import annotations

import re

from steps.bazel.exit_codes import bazel_failure, sentence
from steps.bazel.log import BuildTracker, Finished, Waiting
from tests.real_bazel_workspace import BROKEN_LINE
from tests.test_bazel_log import FIXTURES, replay


def total(name: str) -> int:
    t = replay(name).tracker
    assert t.finished is not None and t.finished.success, name
    found = re.search(r"(\d+) total actions?", t.finished.text)
    assert found, t.finished.text
    return int(found.group(1))


def executed(name: str) -> int:
    """Processes Bazel ran by its own count ("INFO: 5 processes: 3 internal, 2
    linux-sandbox."), the internal ones (symlinks, status files) left out."""
    text = (FIXTURES / f"{name}.stderr.raw").read_text()
    found = re.search(r"^INFO: (\d+) process(?:es)?(?:: (\d+) internal)?", text, re.M)
    assert found, name
    return int(found.group(1)) - int(found.group(2) or 0)


def compiled(name: str) -> set[str]:
    """The sources Bazel's progress lines name as compiling."""
    text = (FIXTURES / f"{name}.stderr.raw").read_text()
    return set(re.findall(r"^\[[\d,]+ / [\d,]+\] Compiling (\S+)", text, re.M))


def test_cold_build_progress_moves_to_bazels_verdict() -> None:
    run = replay("20-real-cold-build")
    t = run.tracker
    assert run.exit_code == 0 and t.errors == []
    done = [d for _, d, _ in run.progress_times]
    assert len(set(done)) >= 3 and done == sorted(done)
    assert t.analysed is not None and t.analysed.targets == 3
    assert t.finished is not None
    assert re.fullmatch(r"INFO: Build completed successfully, \d+ total actions", t.finished.text)
    assert t.fraction() == 1.0 and t.phase == "finished"


def test_test_and_model_server_after_the_build_compile_nothing() -> None:
    for name in ("21-real-test-after-build", "22-real-model-server-after-build"):
        run = replay(name)
        assert run.exit_code == 0 and compiled(name) == set(), name
        assert total(name) < total("20-real-cold-build") // 4, name
    assert executed("22-real-model-server-after-build") == 0
    assert executed("21-real-test-after-build") <= 2  # the test and its test.xml
    tests = (FIXTURES / "21-real-test-after-build.stdout.raw").read_text()
    assert "//tensorflow_serving/core:core_test" in tests and "PASSED" in tests


def test_compile_error_the_first_error_is_the_compilers_line() -> None:
    run = replay("23-real-compile-error")
    t = run.tracker
    assert run.exit_code == 1
    bazel_line = t.errors[0]
    assert bazel_line.file is not None and bazel_line.file.endswith("tensorflow_serving/core/BUILD")
    assert bazel_line.message.startswith("Compiling tensorflow_serving/core/part_7.cc failed")
    first = t.first_error
    assert first is not None and first.compiler
    assert (first.file, first.line) == ("tensorflow_serving/core/part_7.cc", BROKEN_LINE)
    assert first.message == "'undeclared_total' was not declared in this scope"
    said = bazel_failure(run.exit_code, t)
    assert said.startswith("exit 1: The build failed")
    assert said.endswith(
        f"first error at tensorflow_serving/core/part_7.cc:{BROKEN_LINE}: "
        "'undeclared_total' was not declared in this scope"
    )
    assert "BUILD:" not in said


def test_interrupt_is_exit_8_and_the_rerun_keeps_finished_work() -> None:
    run = replay("24-real-interrupted")
    t = run.tracker
    assert run.exit_code == 8
    assert t.finished == Finished(False, "FAILED: Build did NOT complete successfully")
    assert any(e.message == "build interrupted" for e in t.errors)
    said = bazel_failure(8, t)
    assert said == f"exit 8: {sentence(8)}"  # "build interrupted" is no error to fix
    assert executed("24-real-interrupted") >= 1  # compiles finished before the interrupt
    assert replay("25-real-rerun-after-interrupt").exit_code == 0
    assert total("25-real-rerun-after-interrupt") < total("20-real-cold-build")
    # Both re-runs follow a change to every source: after an interrupt Bazel runs fewer
    # processes than after its server was killed (which loses that command's work).
    assert executed("25-real-rerun-after-interrupt") < executed("27-real-rerun-after-server-killed")


def test_server_killed_is_exit_37_with_the_clients_own_words() -> None:
    run = replay("26-real-server-killed")
    t = run.tracker
    assert run.exit_code == 37
    assert t.finished is None and t.phase == "building"
    (died,) = [e for e in t.errors if e.message.startswith("Server terminated abruptly")]
    assert died.file is None and "Socket closed" in died.message
    said = bazel_failure(37, t)
    assert "server stopped abruptly" in said and "dmesg" in said
    assert said.endswith(f"Bazel said: {died.message}")
    rerun = replay("27-real-rerun-after-server-killed")
    assert rerun.exit_code == 0
    assert total("27-real-rerun-after-server-killed") < total("20-real-cold-build")


def test_lock_held_by_another_command_is_a_wait() -> None:
    name = "28-real-lock-wait"
    lines = (FIXTURES / f"{name}.stderr.raw").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Another command"))
    t = BuildTracker()
    for i, line in enumerate(lines[: at + 1]):
        t.feed(line, float(i))
    pid = int(re.search(r"pid=(\d+)", lines[at]).group(1))  # type: ignore[union-attr]
    assert t.waiting == Waiting(pid, lines[at]) and t.phase == "waiting"
    assert t.fraction() is None and t.silence(float(at)) is None
    for i, line in enumerate(lines[at + 1 :], at + 1):
        t.feed(line, float(i))
    assert t.waiting is None and t.finished is not None and t.finished.success
    whole = BuildTracker()
    whole.feed_bytes("\n".join(lines[: at + 1]).encode() + b"\n", 0.0)
    assert whole.waiting == Waiting(pid, lines[at])  # the fast path finds it too
