"""Detached commands: output followed from the log, exit status recorded by the wrapper,
survival of the wizard's death, one interrupt, and a death without status noticed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from checks.host import Host
from steps.core.follow import find_wrapper, follow, read_exit, reattach_offset
from steps.core.runner import Identity, Runner

REPO = Path(__file__).resolve().parent.parent


def runner(tmp: Path) -> Runner:
    return Runner(Host(), Identity(admin="tmsadm", sid_adm="hxeadm"), tmp / "logs")


def start(tmp: Path, script: str) -> tuple[Runner, int, Path, Path]:
    r = runner(tmp)
    log, exit_file = tmp / "build.log", tmp / "build.exit"
    log.touch()
    pid, line, env = r.start_build(
        ["sh", "-c", script], "self", cwd=None, path_extra=[], log_file=log, exit_file=exit_file
    )
    assert line[-1] == script and env["PATH"]
    return r, pid, log, exit_file


def test_lines_are_followed_and_the_exit_status_recorded(tmp_path: Path) -> None:
    r, pid, log, exit_file = start(tmp_path, "echo one; sleep 0.3; echo two >&2; exit 3")
    lines: list[str] = []
    got = follow(log, exit_file, pid, 0, lines.append, threading.Event(), lambda: None)
    assert lines == ["one", "two"] and got.exit_code == 3
    assert got.offset == log.stat().st_size


def test_one_interrupt_stops_it_and_its_status_is_kept(tmp_path: Path) -> None:
    script = 'trap "echo interrupted; exit 8" INT; echo started; while :; do sleep 0.1; done'
    r, pid, log, exit_file = start(tmp_path, script)
    stop = threading.Event()
    lines: list[str] = []
    threading.Timer(0.5, stop.set).start()
    got = follow(log, exit_file, pid, 0, lines.append, stop, lambda: r.interrupt_group(pid))
    assert got.exit_code == 8 and lines == ["started", "interrupted"]


def test_the_build_outlives_the_process_that_started_it(tmp_path: Path) -> None:
    """The wizard is SIGKILLed right after starting the build: the build finishes anyway."""
    log, exit_file = tmp_path / "build.log", tmp_path / "build.exit"
    code = (
        "import sys, time; from pathlib import Path\n"
        "from checks.host import Host; from steps.core.runner import Identity, Runner\n"
        "r = Runner(Host(), Identity('tmsadm', 'hxeadm'), Path(sys.argv[1]))\n"
        "Path(sys.argv[2]).touch()\n"
        "r.start_build(['sh', '-c', 'sleep 1; echo finished'], 'self', cwd=None, path_extra=[],"
        " log_file=Path(sys.argv[2]), exit_file=Path(sys.argv[3]))\n"
        "print('started', flush=True); time.sleep(60)\n"
    )
    wizard = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path), str(log), str(exit_file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert wizard.stdout is not None and wizard.stdout.readline().strip() == "started"
    wizard.send_signal(signal.SIGKILL)
    wizard.wait()
    deadline = time.monotonic() + 10
    while read_exit(exit_file) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert read_exit(exit_file) == 0
    assert log.read_text() == "finished\n"


def test_a_command_that_cannot_start_or_dies_by_a_signal_gets_a_shells_status(
    tmp_path: Path,
) -> None:
    """127 with the reason in the log for a command that is not there; 128+N for signal N,
    as the exit-code sentences and resume's re-run decision expect."""
    log, exit_file = tmp_path / "build.log", tmp_path / "build.exit"
    wrapper = [sys.executable, "-I", "-m", "steps.core.detach", str(exit_file), str(log), "--"]
    subprocess.run([*wrapper, str(tmp_path / "no-bazel"), "build"], cwd=REPO, check=True)
    assert read_exit(exit_file) == 127
    assert log.read_text() == f"{tmp_path / 'no-bazel'}: cannot run it: No such file or directory\n"
    subprocess.run([*wrapper, "sh", "-c", "echo x; kill -TERM $$"], cwd=REPO, check=True)
    assert read_exit(exit_file) == 128 + signal.SIGTERM and log.read_text().endswith("\nx\n")


def test_a_running_build_is_found_by_its_exit_file_with_its_command_and_environment(
    tmp_path: Path,
) -> None:
    r, pid, log, exit_file = start(tmp_path, "sleep 30")
    found = find_wrapper(exit_file)
    assert found is not None and found.pid == pid
    assert found.argv[-3:] == ["sh", "-c", "sleep 30"] and found.env is not None
    assert found.env["PATH"] == r.host.child_env({"PATH": r.search_path([])})["PATH"]
    assert find_wrapper(tmp_path / "another.exit") is None
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while find_wrapper(exit_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert find_wrapper(exit_file) is None


def test_a_build_killed_without_status_is_noticed(tmp_path: Path) -> None:
    r, pid, log, exit_file = start(tmp_path, "echo going; sleep 30")
    deadline = time.monotonic() + 10
    while "going" not in log.read_text() and time.monotonic() < deadline:  # it runs
        time.sleep(0.05)
    os.killpg(pid, signal.SIGKILL)
    got = follow(log, exit_file, pid, 0, lambda _: None, threading.Event(), lambda: None)
    assert got.exit_code is None and read_exit(exit_file) is None


def test_reattaching_skips_hours_of_log_but_not_recent_lines(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_bytes(b"x" * 1_000_000)
    assert reattach_offset(log, 0) == 1_000_000 - 64 * 1024
    assert reattach_offset(log, 999_999) == 999_999
    assert reattach_offset(tmp_path / "missing.log", 10) == 0
