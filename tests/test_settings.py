"""Answers file, environment and flags: precedence, and one clear line for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from steps.cli.main import main
from steps.core.settings import SettingsError, load_settings


def test_answers_file_then_environment_then_flags(tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('[hana]\naddress = "hxehost"\nsql_port = 39015\n[serving]\nport = 8501\n')
    s = load_settings(answers, {"EMLSETUP_SERVING__PORT": "8502"}, ["hana.tenant=SYSTEMDB"])
    assert (s.hana.address, s.hana.tenant, s.serving.port) == ("hxehost", "SYSTEMDB", 8502)
    assert load_settings(answers, {}, ["serving.port=9000"]).serving.port == 9000


def test_defaults_are_the_tutorials() -> None:
    s = load_settings()
    assert s.admin.user == "tmsadm" and s.admin.home_dir == "/home/tmsadm"
    assert s.serving.bazel_version == "0.11.1" and s.serving.port == 8500
    assert s.serving.ref == "1.8.0"
    assert s.expand(s.serving.venv) == "/home/tmsadm/tms"
    assert s.expand(s.serving.export_dir) == "/home/tmsadm/export"


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        (["serving.port=70000"], "serving.port"),
        (["hana.sql_port=abc"], "hana.sql_port"),
        (["admin.user=Root Admin"], "admin.user"),
        (['serving.optimisation=["avx", "sse9"]'], "serving.optimisation"),
        (["serving.venv=relative/path"], "serving.venv"),
        # A venv, clone or export folder of / or ~ would take over the system or the home.
        (["serving.export_dir=/"], "serving.export_dir"),
        (["serving.checkout=//"], "serving.checkout"),
        (["serving.venv=~/"], "serving.venv"),
        (["serving.export_dir=/.."], "serving.export_dir"),
        # A DNS label has at most 63 characters (RFC 1035); a longer one crashed the socket.
        (["serving.host=" + "a" * 64 + ".example"], "serving.host"),
        (["hana.address=hxe..example"], "hana.address"),
        (["hana.colour=blue"], "hana.colour"),
        (["nodots=1"], "nodots"),
        (["serving.port"], "serving.port"),
    ],
)
def test_bad_values_name_the_field_in_one_line(overrides: list[str], names: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(overrides=overrides)
    message = str(err.value)
    assert names in message and "\n" not in message


def test_a_password_in_an_answers_file_is_refused_with_the_alternatives(tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('[hana]\nsystem_password = "Manager1"\n')
    with pytest.raises(SettingsError) as err:
        load_settings(answers)
    assert "never read from files" in str(err.value)
    assert "EMLSETUP_SYSTEM_PASSWORD" in str(err.value)
    assert "Manager1" not in str(err.value)


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[hana\naddress = 1\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(SettingsError, match="no such file"):
        load_settings(tmp_path / "missing.toml")


def test_cli_exits_2_with_one_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "a.toml"
    answers.write_text("[serving]\nport = 0\n")
    assert main(["--config", str(answers), "plan", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "serving.port" in err and str(answers) in err
    assert "Traceback" not in err
