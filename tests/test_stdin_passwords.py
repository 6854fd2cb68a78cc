"""`--passwords-from-stdin` and `run --background`: how a fleet controller hands emlsetup the
HANA passwords without a command line or an environment holding them."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from steps.core.stdin_secrets import StdinSecretsError, parse
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox

SYSTEM_PW, ML_PW = "St1n-System=Pw x", "St1n-MlUser-Pw"


def test_the_format_names_each_password_and_the_answers_follow_an_empty_line() -> None:
    data = (
        f"EMLSETUP_SYSTEM_PASSWORD={SYSTEM_PW}\r\nEMLSETUP_ML_USER_PASSWORD={ML_PW}\n\n"
        "[serving]\nport = 8501\n"
    )
    passwords, rest = parse(data.encode())
    assert passwords == {"EMLSETUP_SYSTEM_PASSWORD": SYSTEM_PW, "EMLSETUP_ML_USER_PASSWORD": ML_PW}
    assert rest == "[serving]\nport = 8501\n"
    assert parse(b"EMLSETUP_SYSTEM_PASSWORD=\n") == ({}, "")  # empty: no password
    assert parse(b"\n[hana]\n") == ({}, "[hana]\n")  # no passwords, only answers
    assert parse(b"") == ({}, "")


@pytest.mark.parametrize(
    "data",
    [f"{SYSTEM_PW}\n", f"PASSWORD={SYSTEM_PW}\n", "EMLSETUP_SYSTEM_PASSWORD=a\n" * 2],
)
def test_a_wrong_line_is_refused_without_showing_it(data: str) -> None:
    with pytest.raises(StdinSecretsError) as caught:
        parse(data.encode())
    assert SYSTEM_PW not in str(caught.value) and "\n" not in str(caught.value)
    assert "--passwords-from-stdin" in str(caught.value)


@pytest.fixture
def hana() -> Iterator[HanaTestServer]:
    with HanaTestServer(Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})) as srv:
        yield srv


def stdin_text(answers: str = "") -> str:
    return f"EMLSETUP_SYSTEM_PASSWORD={SYSTEM_PW}\nEMLSETUP_ML_USER_PASSWORD={ML_PW}\n\n{answers}"


def test_check_reaches_hana_with_the_passwords_and_the_answers_from_stdin(
    sandbox: Sandbox, hana: HanaTestServer
) -> None:
    answers = f'[hana]\naddress = "127.0.0.1"\nsql_port = {hana.port}\n'
    done = sandbox.run_cli(
        "--passwords-from-stdin", "--config", "-", "check", "--step", "1", "--json",
        input=stdin_text(answers),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(done.stdout)
    assert [r["status"] for r in rows if r["step"] == 1] == ["ok", "ok", "ok"], rows
    assert {st.user for st in hana.statements} == {"SYSTEM"}
    assert SYSTEM_PW not in done.stdout + done.stderr


def test_a_bad_stdin_is_one_line_and_exit_2(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("--passwords-from-stdin", "check", input=f"{SYSTEM_PW}\n")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "line 1 is not NAME=PASSWORD" in done.stderr
    assert SYSTEM_PW not in done.stderr + done.stdout


def test_a_background_run_returns_once_it_holds_the_state_and_uses_the_passwords(
    sandbox: Sandbox, hana: HanaTestServer
) -> None:
    """`run --background` returns while the run goes on; the run got the passwords from the
    pipe (step 7 talks to HANA as ML_USER) and neither it nor its tools have them in their
    environment or command line."""
    env = sandbox.env(EMLSETUP_HANA__ADDRESS="127.0.0.1", EMLSETUP_HANA__SQL_PORT=str(hana.port))
    started = sandbox.run_cli(
        "--passwords-from-stdin", "run", "--yes", "--background", "--only-step", "7",
        env=env, input=stdin_text(),
    )  # fmt: skip
    assert started.returncode == 0, started.stdout + started.stderr
    assert "Run started in the background (pid " in started.stdout
    pid = int(started.stdout.split("(pid ")[1].split(")")[0])
    # While it holds the state folder, `status` says so (exit 3); it then ends on its own.
    polled = sandbox.run_cli("status", "--json", env=env)
    assert polled.returncode in (0, 1, 3)
    if polled.returncode == 3:
        environ = Path(f"/proc/{pid}/environ")
        seen = environ.read_bytes() if environ.exists() else b""
        assert SYSTEM_PW.encode() not in seen and ML_PW.encode() not in seen
    wait_gone(pid)
    final = json.loads(sandbox.run_cli("status", "--json", env=env).stdout)
    # No model server runs here: the reload fails, after the objects were created as ML_USER.
    assert final["failed_step"] == 7, final
    assert "ML_USER" in {st.user for st in hana.statements}
    log = (sandbox.state_dir / "background-run.log").read_text()
    assert "Reload the EML configuration failed" in log
    assert SYSTEM_PW not in log and ML_PW not in log
    assert all(not c["secret_env"] for c in sandbox.calls())


def wait_gone(pid: int) -> None:
    """The background run is not our child (it left its session): wait on its pidfd."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([fd], [], [], 120)
    finally:
        os.close(fd)


def test_a_background_run_that_cannot_start_says_why(sandbox: Sandbox) -> None:
    """The state folder is held by another emlsetup: the reason, exit 2, nothing started."""
    from steps.core.lock import StateLock

    sandbox.state_dir.mkdir(parents=True, exist_ok=True)
    with StateLock(sandbox.state_dir):
        done = sandbox.run_cli("run", "--yes", "--background", "--only-step", "2")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "another emlsetup" in done.stderr and done.stderr.count("\n") == 1


def test_rerun_names_only_what_can_run_again(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("run", "--yes", "--rerun", "grant-role")
    assert done.returncode == 2
    assert "--rerun grant-role" in done.stderr and "hxe-gc, update-configuration" in done.stderr


def _with_system_password(sb: Sandbox, srv: HanaTestServer) -> dict[str, str]:
    """hxe_gc.sh asks for the SYSTEM password: the wizard answers with the one it holds."""
    return sb.env(
        EMLSETUP_HANA__ADDRESS="127.0.0.1",
        EMLSETUP_HANA__SQL_PORT=str(srv.port),
        EMLSETUP_SYSTEM_PASSWORD=SYSTEM_PW,
    )


def test_hxe_gc_runs_once_then_on_request(sandbox: Sandbox, hana: HanaTestServer) -> None:
    env = _with_system_password(sandbox, hana)
    for extra in ([], [], ["--rerun", "hxe-gc"]):
        done = sandbox.run_cli("run", "--yes", "--only-step", "1", *extra, env=env)
        assert done.returncode in (0, 1), done.stdout + done.stderr
    assert len(sandbox.calls("hxe_gc.sh")) == 2
    status = json.loads(sandbox.run_cli("status", "--json").stdout)
    assert status["changed_actions"] == ["1/hxe-gc"]


def test_status_lists_what_the_last_run_rechecked(sandbox: Sandbox, hana: HanaTestServer) -> None:
    env = _with_system_password(sandbox, hana)
    sandbox.run_cli("run", "--yes", "--only-step", "1", env=env)
    again = sandbox.run_cli("run", "--yes", "--only-step", "1", env=env)
    assert "re-checked: ran in an earlier run" in again.stdout
    status = json.loads(sandbox.run_cli("status", "--json").stdout)
    assert status["changed_actions"] == [] and status["rechecked_actions"] == ["1/hxe-gc"]


def test_the_process_scan_of_the_fleet_test_finds_a_password_where_it_is(tmp_path: Path) -> None:
    """The scan the fleet test relies on (tests/fakes/fakelib.py) sees a password in another
    process's command line and in its environment."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "fakes"))
    from fakelib import proc_scan

    strings = tmp_path / "strings"
    strings.write_text(f"{SYSTEM_PW}\n{ML_PW}\n")
    env = {"PATH": os.environ["PATH"], "SOME_VALUE": ML_PW}
    argv = ["sh", "-c", "echo ready; cat", SYSTEM_PW]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"  # it runs
        found = proc_scan(strings)["found"]
        proc.communicate(b"")
    assert f"{proc.pid} sh cmdline" in found and f"{proc.pid} sh environ" in found
