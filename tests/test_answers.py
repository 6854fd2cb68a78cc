"""Issue 26, item 1: the answers file of a run, written and checked.

`answers write` gives every setting with its meaning and default, what the run was told and
detected, never a password; `answers validate` (and every `--config` command) reports every
mistake of a file in one run, each on one line with its key's line number and a fix; and a
file written from a run, given back with --config, plans the same run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from steps.core.answers_write import MEANING
from steps.core.settings import SettingsError, load_settings, setting_names, tomllib
from steps.core.toml_lines import key_lines
from tests.sandbox import REPO, Sandbox

# -- the scanner that finds each key's line --------------------------------------------------
README_EXAMPLE = """\
[hana]
address = "hxehost"
sql_port = 39015
tenant = "HXE"
system_key = "HXESYSTEM"   # hdbuserstore key; or EMLSETUP_SYSTEM_PASSWORD in the environment
ml_user = "ML_USER"

[admin]
user = "tmsadm"

[serving]
ref = "1.8.0"              # the build's tag; default: the route's (1.8.0 on the tutorial's)
port = 8500
optimisation = "auto"      # or "off", or a list: ["sse4.1", "sse4.2", "avx"]
"""


def test_the_scanner_finds_each_key_of_the_readme_example_on_its_line() -> None:
    lines = key_lines(README_EXAMPLE)
    assert lines["hana"] == 1 and lines["hana.address"] == 2 and lines["hana.ml_user"] == 6
    assert lines["admin.user"] == 9 and lines["serving"] == 11
    assert (lines["serving.ref"], lines["serving.port"], lines["serving.optimisation"]) == (
        12,
        13,
        14,
    )


def test_the_scanner_skips_strings_arrays_and_comments_that_look_like_keys() -> None:
    text = (
        "# port = 1 in a comment\n"  # 1
        "[serving]\n"  # 2
        'git_url = "https://x/#not-a-comment"  # [fake]\n'  # 3
        "optimisation = [\n"  # 4
        '  "avx",  # port = 2\n'  # 5
        '  "sse4.2",\n'  # 6
        "]\n"  # 7
        'ref = """\n'  # 8
        "port = 3 inside a string\n"  # 9
        '"""\n'  # 10
        "ref2 = '''[hana]'''\n"  # 11
        "port = 8500\n"  # 12
        'preflight.hosts = { "pypi.org" = "m:443", "*" = "x:1" }\n'  # 13
        "[preflight]\n"  # 14
        '"timeout_s" = 3.0\n'  # 15
    )
    tomllib.loads(text)  # the scanner runs on text TOML accepts
    lines = key_lines(text)
    assert lines["serving.port"] == 12 and lines["serving.ref"] == 8
    assert lines["serving.optimisation"] == 4 and lines["serving.ref2"] == 11
    assert lines["serving.preflight.hosts.pypi.org"] == 13
    assert lines["preflight.timeout_s"] == 15 and "hana" not in lines


def test_the_scanner_never_raises_on_text_that_is_not_toml() -> None:
    for text in ["[hana\naddress = ", 'a = "unclosed', "a = [1, {b = ", "= 1\n[", "x" * 50]:
        assert isinstance(key_lines(text), dict)
    deep = "[hana]\naddress = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"
    assert key_lines(deep)["hana.address"] == 2


# -- validate: every mistake in one run --------------------------------------------------------
# One mistake of each kind, at known lines (the file is never shown to the code under test
# before it runs).
HIDDEN_BAD = """\
# answers for the second VM
[hana]
address = "hxehost"
sql_port = 70000
system_password = "Manager1-Known"

[serving]
prot = 8501
port = "8500x"
route = "container"
"""
EXPECTED = {  # line: (key, words its line must say)
    4: ("hana.sql_port", "1 to 65535"),
    5: ("hana.system_password", "EMLSETUP_SYSTEM_PASSWORD"),
    8: ("serving.prot", "did you mean serving.port"),
    9: ("serving.port", "port = 8500"),
    10: ("serving.route", "'build' or 'apt'"),
}


def test_validate_reports_every_mistake_of_a_hidden_bad_file_in_one_run(
    make_sandbox: type[Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox("debian9")  # the tutorial's Debian: apt or build, no container
    bad = tmp_path / "answers.toml"
    bad.write_text(HIDDEN_BAD)
    done = sb.run_cli("answers", "validate", str(bad))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(EXPECTED) + 1, done.stdout
    for (line, (key, words)), said in zip(sorted(EXPECTED.items()), lines, strict=False):
        assert said.startswith(f"{bad}:{line}: {key}: "), said
        assert words in said, said
    assert lines[-1].startswith("5 mistakes in ")
    assert "Manager1-Known" not in done.stdout + done.stderr
    assert sb.calls() == []


def test_every_config_command_refuses_the_same_file_with_every_mistake(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = tmp_path / "answers.toml"
    bad.write_text(HIDDEN_BAD.replace('route = "container"\n', ""))
    done = sandbox.run_cli("--config", str(bad), "run", "--yes", "--only-step", "2")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert [x.split(" (from ")[0] for x in lines] == [
        "emlsetup: hana.sql_port",
        "emlsetup: hana.system_password",
        "emlsetup: serving.prot",
        "emlsetup: serving.port",
    ], done.stderr
    assert [x.split(" (from ")[1].split(")")[0] for x in lines] == [
        f"{bad} line {n}" for n in (4, 5, 8, 9)
    ]
    assert sandbox.calls() == [] and not (sandbox.state_dir / "state.json").exists()


def test_a_good_file_validates_and_an_unknown_tag_on_the_build_route_is_named(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    good = tmp_path / "good.toml"
    good.write_text(README_EXAMPLE)
    ok = sandbox.run_cli("answers", "validate", str(good))
    assert ok.returncode == 0 and ok.stdout == f"{good}: no mistakes.\n", ok.stdout
    tag = tmp_path / "tag.toml"
    tag.write_text(README_EXAMPLE.replace('ref = "1.8.0"', 'ref = "9.9.9"'))
    refused = sandbox.run_cli("answers", "validate", str(tag))
    assert refused.returncode == 2
    assert refused.stdout.startswith(f"{tag}:12: serving.ref: ") and "1.8.0" in refused.stdout


@pytest.mark.parametrize(
    ("flag", "meant"),
    [
        ("serving.prot=8501", "did you mean serving.port?"),
        ("hana.adress=hxe", "did you mean hana.address?"),
        ("servng.port=1", "did you mean serving.port?"),
    ],
)
def test_a_mistyped_set_key_says_what_it_meant(flag: str, meant: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(overrides=[flag])
    assert meant in str(err.value) and "\n" not in str(err.value)


# -- write ---------------------------------------------------------------------------------------
def test_every_setting_has_its_meaning_written() -> None:
    assert set(MEANING) == set(setting_names())


def _clean_env(sb: Sandbox) -> dict[str, str]:
    """The sandbox's environment without any EMLSETUP_ setting: only the file tells."""
    return {k: v for k, v in sb.env().items() if not k.startswith("EMLSETUP_")}


def _scalar(text: str) -> object:
    """A --set value as emlsetup reads it: TOML where it parses, else the text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _plan(sb: Sandbox, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    done = sb.run_cli(*args, "plan", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("distro", "sets"),
    [
        ("sles12sp2", ["hana.address=hxehost", "serving.optimisation=[\"avx\"]"]),
        ("rhel7", ['serving.route="container"', "admin.user=tfadmin"]),
        ("debian12", ["serving.port=8601", 'serving.route="build"', "serving.run_tests=true"]),
        ("ubuntu1604", ["admin.home=/srv/tms", "hana.sql_port=39041"]),
        ("sles15sp5", ['serving.ref="2.19.1"']),
    ],
)
def test_a_file_written_from_a_run_plans_the_same_run(
    make_sandbox: type[Sandbox], tmp_path: Path, distro: str, sets: list[str]
) -> None:
    sb = make_sandbox(distro)
    flags = [a for s in sets for a in ("--set", s)]
    first = sb.run_cli(*flags, "run", "--dry-run", "--only-step", "2")
    assert first.returncode == 0, first.stderr
    # The run is recorded with what it was told; `answers write` is told nothing more.
    ran = sb.run_cli(*flags, "run", "--yes", "--only-step", "2")
    assert ran.returncode == 0, ran.stdout[-2000:]
    answers = tmp_path / "answers.toml"
    wrote = sb.run_cli("answers", "write", "-o", str(answers), env=_clean_env(sb))
    assert wrote.returncode == 0, wrote.stderr
    text = answers.read_text()
    assert sb.run_cli("answers", "validate", str(answers)).returncode == 0
    assert _plan(sb, "--config", str(answers), env=_clean_env(sb)) == _plan(sb, *flags)
    for s in sets:  # what the run was told is in the file
        key, value = s.split("=", 1)
        section, name = key.split(".")
        assert tomllib.loads(text)[section][name] == _scalar(value), key


def test_the_file_has_no_password_and_says_how_passwords_are_given(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = sandbox.env(
        EMLSETUP_SYSTEM_PASSWORD="Manager1-Known",
        EMLSETUP_ML_USER_PASSWORD="Secret1-Known",
        EMLSETUP_SERVING__GIT_URL="https://me:tok3n-Known@github.com/tensorflow/serving",
    )
    done = sandbox.run_cli("answers", "write", env=env)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for secret in ("Manager1-Known", "Secret1-Known", "tok3n-Known", "me:"):
        assert secret not in text
    assert 'git_url = "https://github.com/tensorflow/serving"' in text
    assert "EMLSETUP_SYSTEM_PASSWORD" in text and "--passwords-from-stdin" in text
    data = tomllib.loads(text)
    assert set(data) == {"hana", "admin", "serving", "preflight"}
    # Every key is commented with what it means and its default.
    lines = text.splitlines()
    for key in setting_names():
        name = key.split(".")[1]
        at = next(i for i, x in enumerate(lines) if x.lstrip("# ").startswith(f"{name} = "))
        comment = next(x for x in reversed(lines[:at]) if x.startswith("# ") and "Default" in x)
        assert MEANING[key] in comment, key


def test_the_written_file_exports_a_project_that_passes_ansible_lint(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    lint = REPO / ".venv" / "bin" / "ansible-lint"
    if not lint.exists():
        pytest.skip("ansible-lint is not installed")
    answers = tmp_path / "answers.toml"
    assert sandbox.run_cli("answers", "write", "-o", str(answers)).returncode == 0
    project = tmp_path / "fleet"
    exported = sandbox.run_cli("--config", str(answers), "export", "ansible", "-o", str(project))
    assert exported.returncode == 0, exported.stderr
    settings = (project / "group_vars/all/settings.yml").read_text()
    assert "sql_port: 39015" in settings and "ref:" not in settings  # detected, not pinned
    linted = subprocess.run(
        [str(lint), "--offline", "--profile", "production", "."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_write_never_overwrites_a_file_with_other_content(sandbox: Sandbox, tmp_path: Path) -> None:
    mine = tmp_path / "answers.toml"
    mine.write_text("# my own notes\n")
    done = sandbox.run_cli("answers", "write", "-o", str(mine))
    assert done.returncode == 2 and "exists" in done.stderr
    assert mine.read_text() == "# my own notes\n"
