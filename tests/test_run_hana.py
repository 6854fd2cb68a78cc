"""Steps 1 and 7 through the real CLI and the real hdbcli, against the HANA test server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox

SYSTEM_PW, ML_PW = "Manager1-Known", "Secret1-Known"
CREATES = ("CREATE REMOTE SOURCE", "CREATE SCHEMA", "CREATE TABLE", "CREATE PROCEDURE", "GRANT")


@pytest.fixture
def hana() -> Iterator[tuple[Catalogue, HanaTestServer]]:
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        yield cat, srv


def hana_env(sb: Sandbox, srv: HanaTestServer, **extra: str) -> dict[str, str]:
    settings = {
        "EMLSETUP_HANA__ADDRESS": "127.0.0.1",
        "EMLSETUP_HANA__SQL_PORT": str(srv.port),
        "EMLSETUP_HANA__CONNECT_TIMEOUT_S": "3",
        "EMLSETUP_SYSTEM_PASSWORD": SYSTEM_PW,
        "EMLSETUP_ML_USER_PASSWORD": ML_PW,
    }
    return sb.env(**{**settings, **extra})


def sent(srv: HanaTestServer, start: str) -> list[str]:
    return [s.sql for s in srv.statements if s.sql.lstrip().upper().startswith(start)]


def test_all_seven_steps_then_a_second_run_creates_nothing(
    sandbox: Sandbox, hana: tuple[Catalogue, HanaTestServer]
) -> None:
    _, srv = hana
    env = hana_env(sandbox, srv)
    done = sandbox.run_cli("run", "--yes", env=env)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "All steps done" in done.stdout
    assert "Status | 0 | OK" in done.stdout
    first = {kind: len(sent(srv, kind)) for kind in CREATES}
    assert first == {
        "CREATE REMOTE SOURCE": 1,
        "CREATE SCHEMA": 1,
        "CREATE TABLE": 3,
        "CREATE PROCEDURE": 1,
        "GRANT": 3,  # the EML role, AFLPM_CREATOR_ERASER_EXECUTE, the config table
    }
    remote = sent(srv, "CREATE REMOTE SOURCE")[0]
    assert f"server=localhost;port={sandbox.port}" in remote
    again = sandbox.run_cli("run", "--yes", "--only-step", "7", env=env)
    assert again.returncode == 0, again.stdout[-3000:]
    assert {kind: len(sent(srv, kind)) for kind in CREATES} == first
    assert len(sent(srv, "INSERT INTO CHECK_PARAMS")) == 1
    # Nothing the reload depends on changed: re-checked, not run; on request it runs again.
    assert len(sent(srv, "CALL UPDATE_CONFIGURATION")) == 1
    assert "re-checked" in again.stdout and "--rerun update-configuration" in again.stdout
    asked = sandbox.run_cli(
        "run", "--yes", "--only-step", "7", "--rerun", "update-configuration", env=env
    )
    assert asked.returncode == 0, asked.stdout[-3000:]
    assert len(sent(srv, "CALL UPDATE_CONFIGURATION")) == 2


def test_missing_eml_afl_fails_step_1_with_the_package_to_install(sandbox: Sandbox) -> None:
    cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW}, afl_installed=False)
    with HanaTestServer(cat) as srv:
        done = sandbox.run_cli("run", "--yes", "--only-step", "1", env=hana_env(sandbox, srv))
    assert done.returncode == 1
    assert "AFL_FUNCTIONS rows for AREA_NAME = 'EML'" in done.stdout
    assert "eml.tgz" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_wrong_password_is_one_sentence_with_the_fix(
    sandbox: Sandbox, hana: tuple[Catalogue, HanaTestServer]
) -> None:
    _, srv = hana
    env = hana_env(sandbox, srv, EMLSETUP_SYSTEM_PASSWORD="wrong")
    done = sandbox.run_cli("run", "--yes", "--only-step", "7", env=env)
    assert done.returncode == 1
    assert "authentication failed" in done.stdout.lower()
    assert "wrong" not in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_unreachable_hana_fails_fast_with_a_sentence(sandbox: Sandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env = sandbox.env(
        EMLSETUP_HANA__ADDRESS="127.0.0.1",
        EMLSETUP_HANA__SQL_PORT=str(closed),
        EMLSETUP_SYSTEM_PASSWORD=SYSTEM_PW,
        EMLSETUP_ML_USER_PASSWORD=ML_PW,
    )
    done = sandbox.run_cli("run", "--yes", "--only-step", "7", env=env, timeout=60)
    assert done.returncode == 1
    assert f"127.0.0.1:{closed}" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_remote_source_at_a_dead_port_fails_the_reload_with_the_fix(
    sandbox: Sandbox, hana: tuple[Catalogue, HanaTestServer]
) -> None:
    _, srv = hana
    # Steps 2-6 not run: no model server listens on the configured port.
    done = sandbox.run_cli("run", "--yes", "--only-step", "7", env=hana_env(sandbox, srv))
    assert done.returncode == 1
    assert "Reload the EML configuration failed" in done.stdout
    assert "expected Status | 0 | OK" in done.stdout
