"""Issue 26's undo off the happy path, as a new admin tries it: no terminal to answer the
questions about the build, a second copy while another holds the state folder, undo before
anything ran, twice in a row."""

from __future__ import annotations

from tests.sandbox import Sandbox

FAST = {"FAKE_BAZEL_SPEED": "20000"}  # the replayed build in seconds, not minutes


def test_no_terminal_to_ask_about_the_build_stops_there_and_keeps_no_false_choice(
    sandbox: Sandbox,
) -> None:
    """Without a terminal nobody answered "Remove the checkout?": the undo stops at the
    question (as at a root command) instead of recording "kept, as you chose", so the same
    undo with --yes then removes the build."""
    for step in "2345":
        done = sandbox.run_cli("run", "--yes", "--only-step", step, env=sandbox.env(**FAST))
        assert done.returncode == 0, done.stdout[-2000:]
    checkout = sandbox.root / "home/tmsadm/serving"
    asked = sandbox.run_cli("undo", "--step", "5")  # stdin is no terminal
    assert asked.returncode == 1, asked.stdout[-2000:]
    assert "as you chose" not in asked.stdout
    last = asked.stdout.strip().splitlines()[-1]
    assert "no terminal" in last and "--yes" in last and "--keep-build" in last, last
    assert (checkout / ".git").exists()
    again = sandbox.run_cli("undo", "--step", "5", "--yes")
    assert again.returncode == 0, again.stdout[-2000:]
    assert not checkout.exists() and "as you chose" not in again.stdout


def test_undo_run_again_then_undo_again_shows_and_undoes_the_new_run(sandbox: Sandbox) -> None:
    """A finished undo's journal is history: after the step is done again, the list shown
    first (--dry-run, and before a real undo) names what the new run made, not 'undone'."""
    passwd = sandbox.root / "etc/passwd"
    for _ in range(2):
        assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
        assert "tmsadm:x:" in passwd.read_text()
        dry = sandbox.run_cli("undo", "--step", "2", "--dry-run")
        assert dry.returncode == 0, dry.stdout[-2000:]
        said = [x for x in dry.stdout.splitlines() if x.startswith(" - ")]
        assert len(said) == 2 and all(x.startswith(" - would undo") for x in said), dry.stdout
        undone = sandbox.run_cli("undo", "--step", "2", "--yes")
        assert undone.returncode == 0, undone.stdout[-2000:]
        assert "tmsadm:x:" not in passwd.read_text()
    assert len(sandbox.calls("userdel")) == 2


def test_a_step_run_again_after_a_stopped_undo_is_undone_afresh(sandbox: Sandbox) -> None:
    """An undo stopped at step 2's root command (no terminal); the admin runs step 4 again
    (the venv is back). The undo that goes on removes the new venv itself, and reads step 4
    as done, not as undone by the old undo."""
    for step in "234":
        assert sandbox.run_cli("run", "--yes", "--only-step", step).returncode == 0
    stopped = sandbox.run_cli("undo", "--all")
    assert stopped.returncode == 1 and "not confirmed" in stopped.stdout
    assert not (sandbox.root / "home/tmsadm/tms").exists()
    assert sandbox.run_cli("run", "--yes", "--only-step", "4").returncode == 0
    dry = sandbox.run_cli("undo", "--all", "--dry-run")
    venv = next(x for x in dry.stdout.splitlines() if "Remove the virtualenv" in x)
    assert venv.startswith(" - would undo"), dry.stdout
    again = sandbox.run_cli("undo", "--all", "--yes")
    assert again.returncode == 0, again.stdout[-2000:]
    assert "done: Remove the virtualenv /home/tmsadm/tms" in again.stdout, again.stdout[-3000:]


def test_a_build_left_running_is_named_by_the_dry_run_and_the_undo_refuses(
    sandbox: Sandbox,
) -> None:
    """emlsetup killed during the build; the build goes on (detached). The dry run says the
    undo will wait for it; the undo refuses in one line and removes nothing."""
    import os
    import signal
    import subprocess

    from tests.sandbox import REPO

    for step in "234":
        assert sandbox.run_cli("run", "--yes", "--only-step", step).returncode == 0
    slow = sandbox.env(FAKE_BAZEL_SPEED="0.3")
    proc = subprocess.Popen(sandbox.cli_argv("run", "--yes", "--only-step", "5"), cwd=REPO,
                            env=slow, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("   | ") and "/" in line and "[" in line:  # its [n / m] counters
            break
    os.kill(proc.pid, signal.SIGKILL)  # the wizard's SSH session dropped
    proc.wait(timeout=60)
    dry = sandbox.run_cli("undo", "--step", "5", "--dry-run")
    assert dry.returncode == 0, dry.stdout[-2000:]
    assert "A build is running" in dry.stdout and "undo leaves it alone" in dry.stdout
    refused = sandbox.run_cli("undo", "--step", "5", "--yes")
    assert refused.returncode == 1 and "A build is running" in refused.stdout
    assert (sandbox.root / "home/tmsadm/serving").is_dir()
    assert (sandbox.root / "home/tmsadm/tms").is_dir()
