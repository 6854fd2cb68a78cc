"""`emlsetup model add / test / list / remove` through the real CLI, the real hdbcli, the
HANA test server and the gRPC TF Serving stand-in: SQL -> EML -> gRPC Predict -> SQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from steps.core.state import StateStore
from steps.models.commands import SHIPPED
from tests.fakes.fakelib import install_tool
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import REPO, Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env, sent

EXPORT = "home/tmsadm/export"


@pytest.fixture
def hana() -> Iterator[tuple[Catalogue, HanaTestServer]]:
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        yield cat, srv


@pytest.fixture
def ready(
    sandbox: Sandbox, hana: tuple[Catalogue, HanaTestServer]
) -> tuple[Sandbox, dict[str, str], HanaTestServer]:
    """The tutorial's steps 2, 6 and 7 done: the admin, a running model server (the gRPC
    stand-in; step 5's build is skipped by putting it on PATH) and EML configured."""
    _, srv = hana
    install_tool(sandbox.fakebin, "tensorflow_model_server")
    env = hana_env(sandbox, srv)
    for args in (["--only-step", "2"], ["--from-step", "6"]):
        done = sandbox.run_cli("run", "--yes", *args, env=env)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return sandbox, env, srv


def _ml_user_sql(srv: HanaTestServer, sql: str) -> list[tuple[object, ...]]:
    return srv.query(sql, "ML_USER", ML_PW)


def _admin_uid(sb: Sandbox) -> int:
    line = next(
        x for x in sb.target("/etc/passwd").read_text().splitlines() if x.startswith("tmsadm:")
    )
    return int(line.split(":")[2])


def test_model_add_then_test_answers_2_5_for_1_0_from_sql_and_again_changes_nothing(
    ready: tuple[Sandbox, dict[str, str], HanaTestServer],
) -> None:
    sb, env, srv = ready
    added = sb.run_cli("model", "add", "half_plus_two", env=env)
    assert added.returncode == 0, added.stdout[-3000:] + added.stderr[-2000:]
    out = added.stdout
    assert "HandleReloadConfigRequest: serving half_plus_two" in out
    assert "half_plus_two version 1 is AVAILABLE" in out
    assert (
        "GetModelMetadata: serving_default, in: x DT_FLOAT [-1, 1]; out: y DT_FLOAT [-1, 1]" in out
    )
    assert "UpdateModelConfiguration: Status 0 OK" in out
    assert "PREDICT: HANA asked TensorFlow and got 2.5 for 1" in out  # the proof
    served = sb.target(f"/{EXPORT}/half_plus_two/1")
    assert (served / "saved_model.pb").is_file() and (served / "variables").is_dir()
    if os.geteuid() == 0:  # only root can give the files to the admin
        assert {p.stat().st_uid for p in [served, *served.rglob("*")]} == {_admin_uid(sb)}
    config = sb.target(f"/{EXPORT}/config.cnf").read_text()
    assert config.startswith("model_config_list: {\n") and 'name: "half_plus_two"' in config

    tested = sb.run_cli("model", "test", "half_plus_two", env=env)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "HANA asked TensorFlow and got 2.5 for 1" in tested.stdout
    # Read back through hdbcli: the row the wrapper wrote, computed by the stand-in's graph.
    assert _ml_user_sql(srv, "SELECT * FROM EML_DATA.HALF_PLUS_TWO_OUTPUT") == [(2.5,)]
    assert _ml_user_sql(srv, "SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION") == [
        ("half_plus_two", "RemoteSource", "TensorFlow")
    ]

    assert "half_plus_two version 1 is served and callable from SQL (6 changes)" in out
    changes = ("INSERT INTO _SYS_AFL", "CREATE", "CALL SYS.AFLLANG", "CALL UPDATE_CONFIGURATION")
    before = {k: len(sent(srv, k)) for k in changes}
    again = sb.run_cli("model", "add", "half_plus_two", env=env)
    assert again.returncode == 0, again.stdout[-3000:]
    for said in (
        "is already there with the same files",
        "config.cnf already says so",
        "TF Serving serves half_plus_two version 1 already",  # no reload
        "EML_MODEL_CONFIGURATION has half_plus_two already",
        "EML has half_plus_two loaded already",  # no UpdateModelConfiguration
        "PREDICT_HALF_PLUS_TWO exists already",
        "half_plus_two version 1 is served and callable from SQL (0 changes)",
    ):
        assert said in again.stdout
    assert sb.target(f"/{EXPORT}/config.cnf").read_text() == config
    assert {k: len(sent(srv, k)) for k in changes} == before

    listed = json.loads(sb.run_cli("model", "list", "--json", env=env).stdout)
    assert listed == [
        {
            "model": "half_plus_two",
            "base_path": "/home/tmsadm/export/half_plus_two",
            "versions": [1],
            "hana_row": True,
            "wrapper": True,
            "last_test": "HANA asked TensorFlow and got 2.5 for 1",
        }
    ]
    report = sb.run_cli("report", env=env).stdout
    assert "**model test half_plus_two**: done" in report and "got 2.5 for 1" in report

    removed = sb.run_cli("model", "remove", "half_plus_two", env=env)
    assert removed.returncode == 0, removed.stdout[-3000:]
    assert "half_plus_two" not in sb.target(f"/{EXPORT}/config.cnf").read_text()
    assert _ml_user_sql(srv, "SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION") == []
    gone = sb.run_cli("model", "test", "half_plus_two", env=env)
    assert gone.returncode == 1 and "PREDICT_HALF_PLUS_TWO does not exist" in gone.stdout
    # the admin's files are never deleted: moved aside, so the version can come back
    assert not served.exists()
    (aside,) = sb.target(f"/{EXPORT}/.removed").iterdir()
    assert f"its files moved to /{EXPORT}/.removed/{aside.name}" in removed.stdout
    assert (aside / "1/saved_model.pb").read_bytes() == (SHIPPED / "saved_model.pb").read_bytes()


PHASES = [
    "copy",
    "config.cnf",
    "reload TF Serving",
    "AVAILABLE",
    "HANA model row",
    "EML_CHECKDESTINATION_PROC",
]


def test_a_kill_after_each_phase_of_model_add_resumes_to_the_same_end(
    ready: tuple[Sandbox, dict[str, str], HanaTestServer],
) -> None:
    """SIGKILL as soon as a phase has printed (the next one is under way), then the same
    command again: the end is the same as without a kill, nothing twice. The server here
    has no HandleReloadConfigRequest, so every reload is a restart of step 6's server."""
    sb, env, srv = ready
    _restart_without_reload(sb, env)
    for phase in PHASES:
        proc = subprocess.Popen(
            sb.cli_argv("model", "add", "half_plus_two"),
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(f"  {phase}:"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
        proc.stdout.close()
        resumed = sb.run_cli("model", "add", "half_plus_two", env=env)
        assert resumed.returncode == 0, (phase, resumed.stdout[-3000:])
        assert "Resuming the interrupted `model add half_plus_two`" in resumed.stdout, phase
        config = sb.target(f"/{EXPORT}/config.cnf").read_text()
        assert config.count('name: "half_plus_two"') == 1, phase
        assert not list(sb.target(f"/{EXPORT}").glob("**/.*emlsetup-new")), phase
        assert _ml_user_sql(srv, "SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION") == [
            ("half_plus_two", "RemoteSource", "TensorFlow")
        ], phase
        procedures = (
            'SELECT COUNT(*) FROM "SYS"."PROCEDURES" WHERE PROCEDURE_NAME = '
            + "'PREDICT_HALF_PLUS_TWO'"
        )
        assert _ml_user_sql(srv, procedures) == [(1,)], phase
        tested = sb.run_cli("model", "test", "half_plus_two", env=env)
        assert "got 2.5 for 1" in tested.stdout, (phase, tested.stdout[-2000:])
        removed = sb.run_cli("model", "remove", "half_plus_two", env=env)
        assert removed.returncode == 0, (phase, removed.stdout[-3000:])
    assert "restarted TensorFlow Serving (it has no HandleReloadConfigRequest)" in removed.stdout
    # each restart stopped the server before it: one runs, on the port
    running = [p for p in (sb.path / "pids").glob("server-*") if _alive(int(p.read_text()))]
    assert len(running) == 1, running


def _alive(pid: int) -> bool:
    """A stand-in model server runs as ``pid`` (its pid file stays after it ends, and pids
    are recycled: the command line must be the stand-in's)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return "State:\tZ" not in status and b"tensorflow_model_server" in cmdline


def _restart_without_reload(sb: Sandbox, env: dict[str, str]) -> None:
    """Step 6's server again, now one without HandleReloadConfigRequest."""
    env["FAKE_TF_NO_RELOAD"] = "1"
    for pid_file in (sb.path / "pids").glob("server-*"):
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        pid_file.unlink()
    done = sb.run_cli("run", "--yes", "--only-step", "6", env=env)
    assert done.returncode == 0, done.stdout[-3000:]


def test_bad_input_is_one_sentence_and_copies_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    env = sandbox.env()
    done = sandbox.run_cli("model", "add", "m", str(tmp_path), env=env)
    assert done.returncode == 1
    assert f"Failed: {tmp_path} has no saved_model.pb" in done.stdout
    assert not sandbox.target(f"/{EXPORT}/m").exists()
    bad = sandbox.run_cli("model", "add", "1bad;drop", env=env)
    assert bad.returncode == 2 and "use a letter" in bad.stdout
    assert "Traceback" not in done.stdout + done.stderr + bad.stderr


def test_a_restart_never_stops_a_process_that_got_the_saved_pid_of_the_server(
    ready: tuple[Sandbox, dict[str, str], HanaTestServer],
) -> None:
    """Pids are recycled (pid_max is often 32768): the pid step 6 saved may be another
    program by now. The restart stops the server that listens on the port instead, and
    the other program keeps running."""
    sb, env, _ = ready
    _restart_without_reload(sb, env)
    other = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('up', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        assert other.stdout is not None and other.stdout.readline() == b"up\n"
        store = StateStore(sb.state_dir)
        state = store.load()
        assert state is not None
        state.step(6).action("start-server").commands[-1].pid = other.pid
        store.save(state)
        added = sb.run_cli("model", "add", "half_plus_two", env=env)
        assert added.returncode == 0, added.stdout[-3000:]
        assert "restarted TensorFlow Serving (it has no HandleReloadConfigRequest)" in added.stdout
        assert other.poll() is None  # not stopped
        running = [p for p in (sb.path / "pids").glob("server-*") if _alive(int(p.read_text()))]
        assert len(running) == 1, running  # the old server stopped, the new one runs
    finally:
        other.kill()
        other.wait()
        assert other.stdout is not None
        other.stdout.close()
