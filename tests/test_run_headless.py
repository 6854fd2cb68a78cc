"""Headless runs in a sandbox: the real CLI as a subprocess, real commands through `sh`,
fake executables at the boundary recording what ran."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sandbox import Sandbox

REPO = Path(__file__).resolve().parent.parent
# Steps 2-6 change the machine; 1 and 7 are HANA (see test_run_hana.py).
LOCAL = ["--from-step", "2", "--only-step"]
# Calls that change the system (git also answers read-only probes: only its clone counts).
MUTATING = {"useradd": (), "visudo": (), "git": ("clone",), "virtualenv": (), "bazel": ("build",)}


def run_steps(
    sb: Sandbox, *extra: str, env: dict[str, str] | None = None, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`run --yes` for steps 2 to 6, one after the other, stopping at the first failure."""
    port = port or sb_port(sb)
    last = None
    for step in ("2", "3", "4", "5", "6"):
        last = sb.run_cli(
            "--set", f"serving.port={port}", "run", "--yes", "--only-step", step, *extra, env=env
        )
        if last.returncode != 0:
            return last
    assert last is not None
    return last


def sb_port(sb: Sandbox) -> int:
    return sb.port


def state(sb: Sandbox) -> dict:  # type: ignore[type-arg]
    return json.loads((sb.state_dir / "state.json").read_text())


def statuses(sb: Sandbox, step: int) -> dict[str, str]:
    st = next(s for s in state(sb)["steps"] if s["number"] == step)
    return {a["id"]: a["status"] for a in st["actions"]}


def build_has_printed(sb: Sandbox) -> bool:
    """Step 5's detached build is recorded in the state (pid, log) and Bazel has written to
    its log: it is under way, its interrupt handler installed."""
    try:
        st = next(s for s in state(sb)["steps"] if s["number"] == 5)
    except (OSError, ValueError):  # not written yet, or being replaced
        return False
    commands = next(a for a in st["actions"] if a["id"] == "build")["commands"]
    last = commands[-1] if commands else {}
    log = last.get("log_file")
    return bool(last.get("pid") and log and Path(log).exists() and Path(log).stat().st_size)


def count(sb: Sandbox, tool: str, *words: str) -> int:
    return sum(1 for c in sb.calls(tool) if all(w in c["argv"] for w in words))


def test_steps_2_to_6_run_to_completion_on_sles(sandbox: Sandbox) -> None:
    done = run_steps(sandbox)
    assert done.returncode == 0, done.stdout + done.stderr
    for step in (2, 3, 4, 5, 6):
        assert all(
            v in ("done", "already done", "skipped", "manual")
            for v in statuses(sandbox, step).values()
        ), (step, statuses(sandbox, step))
    passwd = sandbox.target("/etc/passwd").read_text()
    assert passwd.count("\ntmsadm:") == 1
    sudoers = sandbox.target("/etc/sudoers.d/tmsadm")
    assert sudoers.read_text() == "tmsadm ALL=(ALL) NOPASSWD: ALL\n"
    assert stat.S_IMODE(sudoers.stat().st_mode) == 0o440
    profile = sandbox.target("/home/tmsadm/.profile").read_text()
    assert profile.count('export PATH="$PATH:/home/tmsadm/tms/bin:') == 1
    assert "$PATH" in profile and os.environ["PATH"] not in profile
    assert count(sandbox, "visudo", "-cf") == 1
    assert count(sandbox, "SUSEConnect", "PackageHub/12.2/x86_64") == 1
    assert count(sandbox, "git", "clone") == 1
    # The full build already produced the model server: its own build is not run again.
    assert count(sandbox, "bazel", "build") == 1
    assert statuses(sandbox, 5)["model-server"] == "already done"
    # The tutorial's commands ran as the admin, not as root.
    assert {c["user"] for c in sandbox.calls("virtualenv")} == {"tmsadm"}
    assert {c["user"] for c in sandbox.calls("bazel") if "build" in c["argv"]} == {"tmsadm"}
    with socket.create_connection(("127.0.0.1", sb_port(sandbox)), timeout=2):
        pass  # the model server outlived the wizard that started it
    uid = int(next(x for x in passwd.splitlines() if x.startswith("tmsadm:")).split(":")[2])
    for owned in ("/home/tmsadm/.profile", "/home/tmsadm/export/config.cnf"):
        assert sandbox.target(owned).stat().st_uid == uid, owned


def test_a_second_run_reads_the_system_and_repeats_nothing(sandbox: Sandbox) -> None:
    assert run_steps(sandbox).returncode == 0
    before = {t: count(sandbox, t, *w) for t, w in MUTATING.items()}
    # Even without our state file, "done" is read from the system itself.
    (sandbox.state_dir / "state.json").unlink()
    again = run_steps(sandbox)
    assert again.returncode == 0, again.stdout
    assert {t: count(sandbox, t, *w) for t, w in MUTATING.items()} == before
    assert "already done" in again.stdout
    assert sandbox.target("/home/tmsadm/.profile").read_text().count("export PATH=") == 1


def test_admin_who_followed_the_tutorial_by_hand_is_not_redone(sandbox: Sandbox) -> None:
    """useradd and the tutorial's own sudoers append done by hand: the wizard sees them."""
    sandbox.target("/etc/passwd").write_text(
        sandbox.target("/etc/passwd").read_text()
        + "tmsadm:x:1500:100:TensorFlow Administrator:/home/tmsadm:/bin/bash\n"
    )
    sandbox.target("/home/tmsadm").mkdir(parents=True, exist_ok=True)
    with sandbox.target("/etc/sudoers").open("a") as fh:
        fh.write("tmsadm ALL=(ALL) NOPASSWD: ALL\n")
    done = sandbox.run_cli("run", "--yes", "--only-step", "2")
    assert done.returncode == 0, done.stdout
    assert statuses(sandbox, 2)["useradd"] == "already done"
    assert statuses(sandbox, 2)["sudoers"] == "already done"
    assert sandbox.calls("useradd") == [] and sandbox.calls("visudo") == []
    assert not sandbox.target("/etc/sudoers.d/tmsadm").exists()


def test_a_rejected_sudoers_file_leaves_sudoers_d_untouched(sandbox: Sandbox) -> None:
    before = sorted(p.name for p in sandbox.target("/etc/sudoers.d").iterdir())
    done = sandbox.run_cli("run", "--yes", "--only-step", "2", env=sandbox.env(FAKE_FAIL="visudo"))
    assert done.returncode == 1
    assert "visudo rejected the new file, nothing was changed" in done.stdout
    assert sorted(p.name for p in sandbox.target("/etc/sudoers.d").iterdir()) == before


def test_failure_shows_the_tools_words_and_resume_finishes(sandbox: Sandbox) -> None:
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
    failed = sandbox.run_cli(
        "run", "--yes", "--only-step", "3", env=sandbox.env(FAKE_FAIL="zypper:install")
    )
    assert failed.returncode == 1
    assert "Install the Basis-Devel pattern failed: exit" in failed.stdout
    assert "emlsetup resume" in failed.stdout
    st = next(s for s in state(sandbox)["steps"] if s["number"] == 3)
    assert st["status"] == "failed" and st["reason"]
    resumed = sandbox.run_cli("resume", "--yes")
    assert "Resuming at step 3, action basis-devel" in resumed.stdout
    assert all(v in ("done", "already done") for v in statuses(sandbox, 3).values())
    assert count(sandbox, "SUSEConnect", "-p") == 3  # repository set-up was not redone
    # The run was for step 3 only: resume finishes it and goes no further.
    assert resumed.returncode == 0 and "Done: step 3." in resumed.stdout
    assert statuses(sandbox, 4) == {a: "pending" for a in statuses(sandbox, 4)}


def test_without_yes_and_without_a_terminal_no_root_action_runs(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("run", "--only-step", "2")
    assert done.returncode == 1
    assert "not confirmed" in done.stdout and "useradd" in done.stdout
    assert sandbox.calls("useradd") == []


def test_dry_run_changes_nothing(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("run", "--dry-run", "--from-step", "2")
    assert done.returncode == 0, done.stderr
    assert "would run" in done.stdout and "nothing was changed" in done.stdout
    assert not (sandbox.state_dir / "state.json").exists()
    for tool in ("useradd", "zypper", "virtualenv", "git", "bazel"):
        assert not any(
            set(c["argv"]) & {"install", "clone", "build", "-m"} for c in sandbox.calls(tool)
        ), tool


def _start_slow_build(sb: Sandbox) -> subprocess.Popen[str]:
    """Steps 2-4 done, then step 5 with a slowly replayed Bazel build, in the background."""
    for step in ("2", "3", "4"):
        assert sb.run_cli("run", "--yes", "--only-step", step).returncode == 0
    env = sb.env(FAKE_BAZEL_SPEED="4")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "--root",
            str(sb.root),
            "--state-dir",
            str(sb.state_dir),
            "run",
            "--yes",
            "--only-step",
            "5",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(predicate, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_killed_mid_build_then_resumed_repeats_no_finished_action(sandbox: Sandbox) -> None:
    proc = _start_slow_build(sandbox)
    _wait_for(lambda: count(sandbox, "bazel", "build") >= 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert statuses(sandbox, 5)["build"] == "running"
    clones = count(sandbox, "git", "clone")
    resumed = sandbox.run_cli("resume", "--yes", env=sandbox.env(FAKE_BAZEL_SPEED="200"))
    assert "Resuming at step 5, action build" in resumed.stdout
    assert count(sandbox, "git", "clone") == clones == 1
    assert len(sandbox.calls("useradd")) == 1
    assert statuses(sandbox, 5)["build"] in ("done", "already done"), resumed.stdout[-3000:]


def test_ctrl_c_interrupts_the_build_once_and_resume_continues(sandbox: Sandbox) -> None:
    proc = _start_slow_build(sandbox)
    _wait_for(lambda: build_has_printed(sandbox))
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, out
    assert "Interrupted. Nothing done is lost" in out
    assert "Bazel caught interrupt signal" in out
    assert statuses(sandbox, 5)["build"] == "pending"
    # A resume within the same second as the interrupted build once took that build's files
    # and its exit status 8 (CI met it): here every second of the next two minutes has them.
    st = next(s for s in state(sandbox)["steps"] if s["number"] == 5)
    interrupted = next(a for a in st["actions"] if a["id"] == "build")["commands"][-1]
    folder, now = Path(interrupted["log_file"]).parent, time.time()
    for second in range(120):
        name = f"5-build-{time.strftime('%H%M%S', time.localtime(now + second))}"
        (folder / f"{name}.log").write_text("ERROR: build interrupted\n")
        (folder / f"{name}.exit").write_text("8\n")
    resumed = sandbox.run_cli("resume", "--yes", env=sandbox.env(FAKE_BAZEL_SPEED="200"))
    assert resumed.returncode in (0, 1), resumed.stdout
    assert statuses(sandbox, 5)["build"] in ("done", "already done"), resumed.stdout[-3000:]


def test_a_second_instance_is_refused_in_one_line(sandbox: Sandbox) -> None:
    proc = _start_slow_build(sandbox)
    try:
        _wait_for(lambda: count(sandbox, "bazel", "build") >= 1)
        second = sandbox.run_cli("run", "--yes", "--only-step", "6")
        assert second.returncode == 2
        assert f"another emlsetup (pid {proc.pid})" in second.stderr
        assert second.stderr.count("\n") == 1
    finally:
        proc.kill()
        proc.wait()


def test_damaged_state_is_explained_and_left_alone(sandbox: Sandbox) -> None:
    sandbox.state_dir.mkdir(parents=True, exist_ok=True)
    (sandbox.state_dir / "state.json").write_text("{not json")
    done = sandbox.run_cli("resume", "--yes")
    assert done.returncode == 2
    assert "damaged" in done.stderr and "Traceback" not in done.stderr
    assert (sandbox.state_dir / "state.json").read_text() == "{not json"


def test_resume_without_a_run_says_so(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("resume")
    assert done.returncode == 1 and "Nothing to resume" in done.stdout


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_report_after_a_failed_run(sandbox: Sandbox, fmt: str) -> None:
    sandbox.run_cli("run", "--yes", "--only-step", "2")
    sandbox.run_cli("run", "--yes", "--only-step", "3", env=sandbox.env(FAKE_FAIL="zypper:install"))
    out = sandbox.path / f"report.{fmt}"
    done = sandbox.run_cli("report", "--format", fmt, "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "Create a dedicated user" in text and "useradd" in text
    assert "Install the Basis-Devel pattern" in text and "failed" in text
    if fmt == "json":
        data = json.loads(text)
        assert data["family"] == "sles" and data["environment"]["emlsetup"]


def test_an_unusable_state_folder_is_one_sentence(sandbox: Sandbox) -> None:
    blocker = sandbox.path / "not-a-folder"
    blocker.write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "tui", "--root", str(sandbox.root), "--state-dir",
         str(blocker / "state"), "run", "--yes", "--only-step", "2"],
        cwd=REPO, env=sandbox.env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--state-dir" in done.stderr
    assert "Traceback" not in done.stderr and sandbox.calls("useradd") == []


def test_a_sudoers_write_cut_short_by_a_kill_leaves_nothing_behind(sandbox: Sandbox) -> None:
    """A SIGKILL between writing the temp file and moving it into place (found by the
    200-kill campaign) leaves `.tmsadm.emlsetup-new`; the next run removes it. A link
    planted at that name is not written through."""
    drop_in = sandbox.target("/etc/sudoers.d")
    (drop_in / ".tmsadm.emlsetup-new").write_text("half a file")
    victim = sandbox.path / "victim"
    victim.write_text("keep me\n")
    done = sandbox.run_cli("run", "--yes", "--only-step", "2")
    assert done.returncode == 0, done.stdout
    assert sorted(p.name for p in drop_in.iterdir()) == ["tmsadm"]
    (drop_in / "tmsadm").unlink()
    (drop_in / ".tmsadm.emlsetup-new").symlink_to(victim)
    again = sandbox.run_cli("run", "--yes", "--only-step", "2")
    assert again.returncode == 0, again.stdout
    assert victim.read_text() == "keep me\n"
    assert sorted(p.name for p in drop_in.iterdir()) == ["tmsadm"]
    assert (drop_in / "tmsadm").read_text() == "tmsadm ALL=(ALL) NOPASSWD: ALL\n"
