"""Hostile input (issue 15, item 3): each case is one line on stderr, exit 2, no hang, and
nothing changed: the state a previous run saved is byte for byte the same, no tool ran."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from steps.core.state import RunState, StateStore
from tests.sandbox import Sandbox

BIG = 10 * 1024 * 1024
STATE_HEAD = '{"schema_version": 1, "run_id": "x", "distro": "x", "family": "sles", "settings": '


def _latin1(p: Path) -> None:
    p.write_bytes(b"# r\xe9ponses pour le serveur\n[hana]\naddress = 'hxe'\n")


def _inline_tables(p: Path) -> None:
    p.write_text("[hana]\naddress = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n")


def _arrays(p: Path) -> None:
    p.write_text("[serving]\noptimisation = " + "[" * 100_000 + "]" * 100_000 + "\n")


def _fifo(p: Path) -> None:
    os.mkfifo(p)


def _ten_mb_value(p: Path) -> None:
    p.write_text('[hana]\naddress = "' + "a" * BIG + '"\n')


def _long_address(p: Path) -> None:  # under the file's size limit, over a host name's
    p.write_text('[hana]\naddress = "' + "a" * 300_000 + '"\n')


def _long_path(p: Path) -> None:
    p.write_text('[serving]\ncheckout = "/' + "d/" * 5000 + '"\n')


CONFIGS: dict[str, tuple[Callable[[Path], None], str]] = {
    "latin-1 comment": (_latin1, "not UTF-8"),
    "5,000 nested inline tables": (_inline_tables, "nested too deeply"),
    "100,000 nested arrays": (_arrays, "nested too deeply"),
    "a FIFO": (_fifo, "not a regular file"),
    "a 10 MB value": (_ten_mb_value, "more than"),
    "a 300 kB hana.address": (_long_address, "hana.address"),
    "a 10 kB path": (_long_path, "serving.checkout"),
}


def _keep_state(sb: Sandbox) -> bytes:
    StateStore(sb.state_dir).ensure_folder()
    StateStore(sb.state_dir).save(RunState(run_id="keep", distro="x", family="sles"))
    return (sb.state_dir / "state.json").read_bytes()


def _refused(sb: Sandbox, *args: str) -> str:
    done = subprocess.run(sb.cli_argv(*args), env=sb.env(), capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert done.returncode == 2, (done.returncode, done.stderr[:500])
    assert len(lines) == 1 and lines[0].startswith("emlsetup: "), done.stderr[:500]
    assert "internal error" not in lines[0] and len(lines[0]) < 1000, lines[0][:1000]
    assert sb.calls() == []
    return lines[0]


@pytest.mark.parametrize("case", CONFIGS)
def test_a_hostile_answers_file_is_one_line_and_changes_nothing(
    sandbox: Sandbox, tmp_path: Path, case: str
) -> None:
    make, said = CONFIGS[case]
    before = _keep_state(sandbox)
    config = tmp_path / "answers.toml"
    make(config)
    line = _refused(sandbox, "--config", str(config), "run", "--yes", "--only-step", "2")
    assert said in line
    assert (sandbox.state_dir / "state.json").read_bytes() == before


def _deep_settings(p: Path) -> None:
    p.write_text(STATE_HEAD + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}")


def _forty_levels(p: Path) -> None:
    p.write_text(STATE_HEAD + '{"a": ' * 40 + "1" + "}" * 40 + "}")


def _state_fifo(p: Path) -> None:
    os.mkfifo(p)


STATES: dict[str, Callable[[Path], None]] = {
    "100,000 levels": _deep_settings,
    "40 levels": _forty_levels,
    "a FIFO": _state_fifo,
}


@pytest.mark.parametrize("command", [["run", "--yes", "--only-step", "2"], ["status"]])
@pytest.mark.parametrize("case", STATES)
def test_a_hostile_state_file_is_one_line_and_is_left_for_the_admin(
    sandbox: Sandbox, case: str, command: list[str]
) -> None:
    sandbox.state_dir.mkdir(parents=True)
    state = sandbox.state_dir / "state.json"
    STATES[case](state)
    before = state.read_bytes() if state.is_file() else b""
    line = _refused(sandbox, *command)
    assert str(state) in line and "move it aside" in line
    assert (state.read_bytes() if state.is_file() else b"") == before
    assert sorted(p.name for p in sandbox.state_dir.iterdir() if p.name != "emlsetup.lock") == [
        "state.json"
    ]


def test_standard_input_piped_as_the_answers_file_still_works(sandbox: Sandbox) -> None:
    """`--config /dev/stdin` is how the Ansible role passes the answers: a pipe with its
    writer, read (up to the same limit), unlike a FIFO nobody writes to."""
    done = subprocess.run(sandbox.cli_argv("--config", "/dev/stdin", "plan"), env=sandbox.env(),
                          input='[serving]\ncheckout = "/opt/piped-serving"\n', capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "/opt/piped-serving" in done.stdout
    big = subprocess.run(sandbox.cli_argv("--config", "/dev/stdin", "plan"), env=sandbox.env(),
                         input="#" * (2 * 1024 * 1024), capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert big.returncode == 2 and "more than" in big.stderr


def test_answers_on_standard_input_after_the_passwords_are_bounded_too(sandbox: Sandbox) -> None:
    """`--passwords-from-stdin --config -`: the answers after the passwords are parsed with
    the same limits (here 100,000 nested arrays)."""
    before = _keep_state(sandbox)
    text = "EMLSETUP_SYSTEM_PASSWORD=x\n\n[serving]\noptimisation = " + "[" * 100_000 + "\n"
    done = subprocess.run(
        sandbox.cli_argv("--passwords-from-stdin", "--config", "-", "run", "--yes",
                         "--only-step", "2"),
        env=sandbox.env(), input=text, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr[:500]
    assert "nested too deeply" in lines[0]
    assert (sandbox.state_dir / "state.json").read_bytes() == before and sandbox.calls() == []
