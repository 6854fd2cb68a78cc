"""Faults that ended in a traceback (issue 23): Ctrl-C in the preflight and in `model add`,
a full state folder and a full export folder during `model add`, a crash log on a full
disk, and a lock refusal before the holder wrote its pid. Each through the real CLI in a
real subprocess, with real signals sent at an event (never after a sleep) and real full
filesystems (tests/full_disk.py)."""

from __future__ import annotations

import fcntl
import io
import os
import select
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from steps.cli import main as cli
from steps.core.lock import LOCK_FILE, StateLock
from tests.fakes.fakelib import install_tool
from tests.full_disk import fill, full, tiny_tmpfs
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import REPO, Sandbox
from tests.test_model_commands import EXPORT
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env

Ready = tuple[Sandbox, dict[str, str], HanaTestServer]
MODEL = "half_plus_two"


class SilentHana:
    """A HANA that accepts the login and never answers it: the preflight hangs in its
    login (as on a HANA that is starting), which is where an admin presses Ctrl-C."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.login_sent = threading.Event()  # a client sent bytes (the preflight's knock none)
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            if conn.recv(64):
                self.login_sent.set()
        except OSError:
            pass

    def close(self) -> None:
        for conn in self._conns:
            conn.close()
        self.sock.close()


@pytest.fixture
def ready(sandbox: Sandbox) -> Iterator[Ready]:
    """Steps 2, 6 and 7 done (as in test_model_commands): `model add` can run."""
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        install_tool(sandbox.fakebin, "tensorflow_model_server")
        env = hana_env(sandbox, srv)
        for args in (["--only-step", "2"], ["--from-step", "6"]):
            done = sandbox.run_cli("run", "--yes", *args, env=env)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        yield sandbox, env, srv


@pytest.fixture
def silent_hana() -> Iterator[SilentHana]:
    srv = SilentHana()
    yield srv
    srv.close()


def _start(sb: Sandbox, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """The wizard as the leader of its own process group, as a shell starts a job: Ctrl-C
    is SIGINT to that whole group."""
    return subprocess.Popen(
        sb.cli_argv(*args), cwd=REPO, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def test_ctrl_c_in_the_preflight_is_one_sentence_and_exit_130(
    sandbox: Sandbox, silent_hana: SilentHana
) -> None:
    env = sandbox.env(
        EMLSETUP_HANA__ADDRESS="127.0.0.1",
        EMLSETUP_HANA__SQL_PORT=str(silent_hana.port),
        EMLSETUP_HANA__CONNECT_TIMEOUT_S="3",
        EMLSETUP_SYSTEM_PASSWORD=SYSTEM_PW,
    )
    proc = _start(sandbox, env, "run", "--yes", "--only-step", "1")
    try:
        assert silent_hana.login_sent.wait(60), "the preflight never tried the HANA login"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert out.strip().splitlines()[-1] == (
        "Interrupted. Nothing done is lost: nothing was changed yet; run the same command again."
    )
    assert not (sandbox.state_dir / "state.json").exists()  # stopped before anything changed
    assert sandbox.calls("hxe_gc.sh") == []


def _fifos(folder: Path) -> tuple[int, int, int]:
    os.mkfifo(folder / "events")
    os.mkfifo(folder / "go")
    events = os.open(folder / "events", os.O_RDONLY | os.O_NONBLOCK)
    keep = os.open(folder / "events", os.O_WRONLY)  # no EOF while the wizard opens it
    go = os.open(folder / "go", os.O_RDWR)
    return events, keep, go


def test_ctrl_c_in_model_add_is_one_sentence_and_the_next_add_continues(ready: Ready) -> None:
    sb, env, _ = ready
    points = sb.path / "points"
    points.mkdir()
    events, keep, go = _fifos(points)
    proc = _start(sb, {**env, "EMLSETUP_MODEL_EVENTS": str(points)}, "model", "add", MODEL)
    seen = b""
    try:
        while b"half written" not in seen:  # the wizard waits there for our byte
            ready_fds, _, _ = select.select([events], [], [], 60)
            assert ready_fds, f"model add never reached the copy: {seen!r}"
            seen += os.read(events, 4096)
            if b"half written" not in seen:
                os.write(go, b"g" * seen.count(b"\n"))
                seen = seen.rsplit(b"\n", 1)[-1]
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        for fd in (events, keep, go):
            os.close(fd)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert out.strip().splitlines()[-1] == (
        f"Interrupted. Nothing done is lost: run `emlsetup model add {MODEL}` again: it "
        "continues where this one stopped."
    )
    again = sb.run_cli("model", "add", MODEL, env=env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr
    assert f"Resuming the interrupted `model add {MODEL}` at copy" in again.stdout


def test_a_full_state_folder_during_model_add_is_one_sentence(ready: Ready) -> None:
    sb, env, _ = ready
    with full(sb.state_dir) as filler:
        added = sb.run_cli("model", "add", MODEL, env=env)
        assert added.returncode == 1, added.stdout + added.stderr
        assert "Traceback" not in added.stderr and "internal error" not in added.stderr
        said = added.stdout.strip().splitlines()[-1]
        assert said.startswith("Failed: cannot write (No space left on device) in the state "
                               f"folder {sb.state_dir} (0 bytes free)"), said  # fmt: skip
        assert said.endswith("then run the same command again; nothing done so far is lost")
        filler.unlink()  # the admin frees space: the same command goes on
        again = sb.run_cli("model", "add", MODEL, env=env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr


def test_a_full_export_folder_during_model_add_says_what_where_and_how_much(
    ready: Ready,
) -> None:
    sb, env, _ = ready
    base = sb.target(f"/{EXPORT}/{MODEL}")
    with tiny_tmpfs(base) as mounted:
        filler = fill(mounted)
        added = sb.run_cli("model", "add", MODEL, env=env)
        assert added.returncode == 1, added.stdout + added.stderr
        assert "internal error" not in added.stderr and "Traceback" not in added.stderr
        said = added.stdout.strip().splitlines()[-1]
        assert said == (
            f"Failed: cannot copy the model to /{EXPORT}/{MODEL}/1 (No space left on device): "
            "it needs 4.0 KB (4049 bytes), 0 bytes free there; free some space there, then "
            "run the same command again"
        ), said
        assert sorted(p.name for p in mounted.iterdir()) == [filler.name]  # no partial copy
        filler.unlink()
        again = sb.run_cli("model", "add", MODEL, env=env)
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr
        assert (mounted / "1" / "saved_model.pb").is_file()


def test_a_crash_log_goes_to_the_temporary_folder_when_the_state_folder_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fault the CLI has no sentence for, while the state folder's disk is full: a crash
    file can be created there but not written, so the log goes to the temporary folder."""
    state = tmp_path / "state"
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))

    def broken(*_: object) -> int:
        raise RuntimeError("an unforeseen fault")

    monkeypatch.setattr(cli, "_dispatch", broken)
    with tiny_tmpfs(state):
        fill(state)
        code = cli.main(["--state-dir", str(state), "plan"], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 70, err
    crash = next(temp.glob("emlsetup-crash-*.txt"))
    assert f"internal error: RuntimeError: an unforeseen fault (details in {crash})" in err
    assert "RuntimeError: an unforeseen fault" in crash.read_text()


def test_a_lock_refusal_names_the_holders_pid_before_it_wrote_it(sandbox: Sandbox) -> None:
    """The holder has the kernel lock but its pid is not in the file yet (an emlsetup
    between taking the lock and writing its pid): the refusal still names it."""
    sandbox.state_dir.mkdir(parents=True)
    fd = os.open(sandbox.state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused = sandbox.run_cli("run", "--yes", "--only-step", "2")
    finally:
        os.close(fd)
    assert refused.returncode == 2, refused.stderr
    assert f"another emlsetup (pid {os.getpid()}) is using {sandbox.state_dir}" in refused.stderr
    assert "unknown" not in refused.stderr
    assert sandbox.calls("useradd") == []


def test_the_pid_replaces_an_older_longer_record_without_emptying_it(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).write_text("1234567890123456789012345\n")
    with StateLock(tmp_path):
        words = (tmp_path / LOCK_FILE).read_text().split()
    assert words == [str(os.getpid())]
