"""What an admin expects of a command line (issue 23): `--version`, "did you mean" for a
mistyped command at every level, a root prompt that can say yes to all, a description in
every command's --help and the exit statuses in those a script polls. Through the real CLI;
the prompt through a real terminal (a pty), as an admin at a shell meets it."""

from __future__ import annotations

import argparse
import os
import pty
import select
import subprocess
import sys
from importlib import metadata

from steps.cli.main import parser
from tests.sandbox import REPO, Sandbox


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_version_names_the_installed_version() -> None:
    done = _cli("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"emlsetup {metadata.version('emlsetup')}"


def test_a_mistyped_command_gets_did_you_mean_at_every_level() -> None:
    for args, said in (
        (["plna"], "emlsetup: unknown command 'plna': did you mean `plan`?"),
        (["resme"], "emlsetup: unknown command 'resme': did you mean `resume`?"),
        (["model", "ad", "x"], "emlsetup model: unknown command 'ad': did you mean `add`?"),
        (["model", "lsit"], "emlsetup model: unknown command 'lsit': did you mean `list`?"),
    ):
        done = _cli(*args)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(said), (args, done.stderr)
    unlike = _cli("xyzzy")
    assert "did you mean" not in unlike.stderr and "choose one of plan, detect" in unlike.stderr


def _subparsers(p: argparse.ArgumentParser, name: str) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                full = f"{name} {sub_name}"
                found.append((full, sub))
                found += _subparsers(sub, full)
    return found


def test_every_command_and_sub_command_describes_itself_and_its_arguments() -> None:
    commands = _subparsers(parser(), "emlsetup")
    assert {"emlsetup model add", "emlsetup model test", "emlsetup status"} <= {
        n for n, _ in commands
    }
    for name, sub in commands:
        assert sub.description and len(sub.description) > 30, name
        for action in sub._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, (name, action.dest)
    shown = _cli("model", "add", "--help")
    assert shown.returncode == 0
    assert "Check a SavedModel, copy it into the export folder" in shown.stdout
    assert "the model's name" in _cli("model", "test", "--help").stdout


def test_status_help_lists_the_exit_statuses() -> None:
    shown = _cli("status", "--help").stdout
    codes = shown.split("exit status:")[1].splitlines()
    assert [line.split()[0] for line in codes if line.strip()] == ["0", "1", "2", "3", "4"]
    assert "a run is under way" in shown and "done, unverified" in shown
    assert "130" in _cli("run", "--help").stdout.split("exit status:")[1]


def _read_until(fd: int, wanted: str, said: bytes) -> bytes:
    while wanted.encode() not in said:
        ready, _, _ = select.select([fd], [], [], 120)
        assert ready, f"no {wanted!r} in: {said.decode(errors='replace')[-2000:]}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            chunk = b""
        assert chunk, f"ended without {wanted!r}: {said.decode(errors='replace')[-2000:]}"
        said += chunk
    return said


def test_a_at_the_root_prompt_says_yes_to_every_root_action_of_the_run(
    sandbox: Sandbox,
) -> None:
    """Step 2 has two root actions (useradd, the sudoers rule): one answer runs both."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        sandbox.cli_argv("run", "--only-step", "2"), cwd=REPO, env=sandbox.env(),
        stdin=child, stdout=child, stderr=child, start_new_session=True,
    )  # fmt: skip
    os.close(child)
    try:
        said = _read_until(main, "a = yes to all root actions of this run", b"")
        os.write(main, b"a\n")
        said = _read_until(main, "Done: step 2.", said)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        os.close(main)
    text = said.decode(errors="replace")
    assert proc.returncode == 0, text[-2000:]
    assert text.count("Run it? [") == 1, text[-2000:]  # asked once
    assert len(sandbox.calls("useradd")) == 1
    assert sandbox.target("/etc/sudoers.d/tmsadm").exists()
