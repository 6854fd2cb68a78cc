"""The headless CLI tells an admin what is wrong in one sentence before anything runs: step
options that contradict each other, a step run before the step it needs, a system it cannot
identify; every command's --help says what it does; `check` ends with a summary line."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from steps.cli.main import parser
from tests.sandbox import Sandbox


def one_line(text: str) -> str:
    assert text.count("\n") == 1, text
    return text.strip()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--from-step", "5", "--to-step", "2"), "--from-step 5 comes after --to-step 2"),
        (("--only-step", "3", "--from-step", "2"), "--only-step runs one step"),
        (("--only-step", "3", "--to-step", "5"), "--only-step runs one step"),
    ],
)
def test_contradicting_step_options_are_one_line_and_exit_2(
    sandbox: Sandbox, args: tuple[str, ...], said: str
) -> None:
    done = sandbox.run_cli("run", "--yes", *args)
    assert done.returncode == 2
    assert said in one_line(done.stderr)
    assert done.stdout == "" and "Done" not in done.stdout
    assert sandbox.calls() == [] and not (sandbox.state_dir / "state.json").exists()


def test_a_step_before_the_step_it_needs_is_a_sentence_and_exit_2(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("run", "--only-step", "4", "--yes")
    assert done.returncode == 2, done.stdout + done.stderr
    said = one_line(done.stderr)
    assert said == (
        "emlsetup: step 4 cannot run yet: step 2 creates tmsadm, whose home /home/tmsadm "
        "this step uses; run step 2 first."
    )
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    mutating = [c for c in sandbox.calls() if c["tool"] in ("virtualenv", "pip", "sudo")]
    assert mutating == []
    assert not (sandbox.state_dir / "state.json").exists()  # nothing saved, nothing to resume


def test_a_step_runs_once_what_it_needs_is_on_the_system(sandbox: Sandbox) -> None:
    # Done by hand, not by the wizard: the need is read from the system, not the state file.
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
    (sandbox.state_dir / "state.json").unlink()
    # The preflight would name the missing virtualenv command (step 3 installs it): accepted,
    # so the step itself shows where it stops.
    done = sandbox.run_cli("run", "--yes", "--only-step", "4", "--skip-preflight", "commands")
    assert "cannot run yet" not in done.stderr
    assert "== Step 4" in done.stdout  # it ran (it stops at step 3's virtualenv, not at 2)


def test_a_range_that_runs_the_needed_step_first_is_not_refused(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("run", "--yes", "--from-step", "2", "--to-step", "4")
    assert "cannot run yet" not in done.stderr
    assert "== Step 4" in done.stdout, done.stdout[-2000:]


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_and_option_has_help() -> None:
    commands = _subparsers(parser())
    assert {"plan", "detect", "check", "run", "resume", "report", "status"} <= set(commands)
    for name, sp in commands.items():
        assert sp.description and len(sp.description) > 20, name
        for action in sp._actions:
            if action.option_strings and action.help is not argparse.SUPPRESS:
                assert action.help, f"{name} {action.option_strings}"
    text = commands["run"].format_help()
    assert "first step to run" in text and "run just this step" in text


def test_check_ends_with_a_summary_line(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("check", "--step", "2")
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(("2 checks:", "3 checks:")), done.stdout
    assert "fix the ✘ rows" in last and done.returncode == 1


def test_a_missing_sudo_is_fixed_by_installing_sudo_not_pip(make_sandbox: object) -> None:
    sb: Sandbox = make_sandbox(omit=("sudo",))  # type: ignore[operator]
    done = sb.run_cli("check")
    lines = done.stdout.splitlines()
    hits = [i for i, line in enumerate(lines) if "sudo: command not found" in line]
    assert hits, done.stdout
    for i in hits:
        fix = lines[i + 1]
        assert "fix: sudo is not installed" in fix and "pip install" not in fix, lines


def test_a_root_without_os_release_is_one_readable_sentence(tmp_path: Path) -> None:
    sb = Sandbox(tmp_path, "sles12sp2")
    (tmp_path / "root").mkdir()
    done = sb.run_cli("run")
    said = one_line(done.stderr)
    assert done.returncode == 2
    assert "no /etc/os-release was found, so the system cannot be told apart" in said
    assert "was found is not one" not in said
