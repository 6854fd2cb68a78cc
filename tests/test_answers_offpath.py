"""Issue 26 off the happy path, as a new admin tries `answers write` and `answers validate`:
the same file written twice, a folder, standard output as `-o -`, and files that are not
answers files at all. Each gives one line and an exit code, never a crash report."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.sandbox import REPO, Sandbox


def _one_line_refusal(done: object, *words: str) -> None:
    out, err, rc = done.stdout, done.stderr, done.returncode  # type: ignore[attr-defined]
    assert rc == 2, out + err
    assert "internal error" not in err and "Traceback" not in err, err
    said = err.strip().splitlines()
    assert len(said) == 1, err
    for word in words:
        assert word in said[0], said[0]


def test_writing_the_same_answers_again_later_is_no_refusal(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The header's time is no content of the admin's: a second write (the next minute) of
    the same answers is fine and leaves the file as it is; an edited file is still kept."""
    target = tmp_path / "answers.toml"
    assert sandbox.run_cli("answers", "write", "-o", str(target)).returncode == 0
    first = target.read_text()
    lines = first.splitlines(keepends=True)
    assert lines[0].startswith("# emlsetup answers file, written ")
    earlier = "# emlsetup answers file, written 2020-01-01 00:00 by `emlsetup answers write`"
    rest = lines[0].split("`emlsetup answers write`", 1)[1]
    target.write_text(earlier + rest + "".join(lines[1:]))
    kept = target.read_text()
    again = sandbox.run_cli("answers", "write", "-o", str(target))
    assert again.returncode == 0, again.stderr
    assert "already" in again.stdout and target.read_text() == kept
    target.write_text(kept.replace('user = "tmsadm"', 'user = "mine"'))
    edited = sandbox.run_cli("answers", "write", "-o", str(target))
    _one_line_refusal(edited, "exists")
    assert 'user = "mine"' in target.read_text()


def test_a_folder_or_an_empty_name_is_one_line_not_a_crash(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    mine = tmp_path / "fleet"
    mine.mkdir()
    folder = sandbox.run_cli("answers", "write", "-o", str(mine))
    _one_line_refusal(folder, "is a folder", f"{mine}/answers.toml")
    empty = sandbox.run_cli("answers", "write", "-o", "")
    _one_line_refusal(empty, "file name")
    assert list(mine.iterdir()) == []


def test_dash_is_standard_output_not_a_file_named_dash(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("answers", "write", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# emlsetup answers file, written ")
    assert "Answers written to" not in done.stdout
    assert not (REPO / "-").exists()


# A file a new admin writes by hand: a tab before a key (fine in TOML), a key set twice, a
# password, a key in the wrong section, a route the tutorial's Debian cannot take, and a
# value without quotes (not TOML). Every mistake is named in one run, each on its line.
MIXED = """\
[hana]
\taddress = "hxehost"
sql_port = 39015
sql_port = 39016
system_password = "Manager1-Known"

[admin]
port = 8500

[serving]
route = "container"
optimisation = auto
"""
MIXED_EXPECTED = [  # (line, key, words the line must say)
    (4, "hana.sql_port", "set twice (first on line 3)"),
    (5, "hana.system_password", "EMLSETUP_SYSTEM_PASSWORD"),
    (8, "admin.port", "did you mean serving.port?"),
    (11, "serving.route", "'build' or 'apt'"),
    (12, "serving.optimisation", "quotes"),
]


def test_validate_names_syntax_mistakes_on_their_line_and_every_other_mistake_too(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox("debian9")
    bad = tmp_path / "answers.toml"
    bad.write_text(MIXED)
    done = sb.run_cli("answers", "validate", str(bad))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(MIXED_EXPECTED) + 1, done.stdout
    for (line, key, words), said in zip(MIXED_EXPECTED, lines, strict=False):
        assert said.startswith(f"{bad}:{line}: {key}: "), said
        assert words in said, said
    assert lines[-1].startswith("5 mistakes in ")
    assert "Manager1-Known" not in done.stdout + done.stderr
    run = sb.run_cli("--config", str(bad), "run", "--yes", "--only-step", "2")
    assert run.returncode == 2 and sb.calls() == []
    for line, key, _ in MIXED_EXPECTED[:3] + MIXED_EXPECTED[4:]:  # the route: at plan time
        assert f"{key} (from {bad} line {line}): " in run.stderr, run.stderr


def test_a_file_tomllib_cannot_finish_is_one_mistake_not_twenty(tmp_path: Path) -> None:
    """An unclosed string runs to the end of the file: one mistake where it starts."""
    from steps.core.toml_repair import parse_reporting

    data, _, found = parse_reporting('[admin]\nuser = "tmsadm\n\n[serving]\nport = 1\n')
    assert len(found) == 1 and found[0].line == 2, found
    assert parse_reporting("")[2] == [] and parse_reporting("[hana]\n[hana]\n")[2][0].line == 2


def test_an_empty_file_is_valid_and_a_binary_or_missing_file_is_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    ok = sandbox.run_cli("answers", "validate", str(empty))
    assert ok.returncode == 0 and "no mistakes" in ok.stdout
    binary = tmp_path / "ls.toml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    _one_line_refusal(sandbox.run_cli("answers", "validate", str(binary)), "not UTF-8")
    missing = sandbox.run_cli("answers", "validate", str(tmp_path / "nope.toml"))
    _one_line_refusal(missing, "no such file")


def test_a_config_command_names_the_mistakes_in_the_order_of_the_file(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = tmp_path / "answers.toml"
    bad.write_text(MIXED)
    done = sandbox.run_cli("--config", str(bad), "plan")
    assert done.returncode == 2
    lines = [int(n) for n in re.findall(r" line (\d+)\): ", done.stderr)]
    assert lines == sorted(lines) and len(lines) >= 4, done.stderr


def test_dash_validates_standard_input_as_write_dash_writes_it(sandbox: Sandbox) -> None:
    """`answers write -o - | ssh next-vm emlsetup answers validate -`: the file that went to
    standard output is checked from standard input, every mistake on its line."""
    written = sandbox.run_cli("answers", "write", "-o", "-")
    assert written.returncode == 0, written.stderr
    good = sandbox.run_cli("answers", "validate", "-", input=written.stdout)
    assert good.returncode == 0 and "no mistakes" in good.stdout, good.stdout + good.stderr
    bad = written.stdout.replace("\n[serving]\n", "\n[serving]\nprot = 8500\n", 1)
    said = sandbox.run_cli("answers", "validate", "-", input=bad)
    assert said.returncode == 2, said.stdout + said.stderr
    assert "did you mean" in said.stdout and "serving.port" in said.stdout, said.stdout
    assert not (REPO / "-").exists()
