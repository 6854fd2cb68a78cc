"""Step 1's memory clean-up: hxe_gc.sh prompts for the SYSTEM password and runs from hxeadm's
login shell (SAP: sap-tutorials/Tutorials tutorials/hxe-ua-eml-vm/hxe-ua-eml-vm.md, "When
prompted for System database user (SYSTEM) password ..."; tutorials/hxe-rhel-server-core-
local/hxe-rhel-server-core-local.md, "sudo su -l hxeadm ... ./hxe_gc.sh"). The stand-in
(tests/fakes/fakes_system.py) prompts, fails at end of input and without the login
environment. The wizard answers through a pipe with the password it holds, and the password
is on no command line, in no child's environment and in no file."""

from __future__ import annotations

import hashlib
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from checks.host import Host
from steps.core.runner import Identity, Runner
from steps.core.session import Options, Session
from steps.core.state import ActionStatus, StepStatus
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import REPO, Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env
from tests.tui_support import open_app, settle, wait_for
from tui.screens.passwords import PasswordScreen

SCRIPT = "/usr/sap/HXE/home/bin/hxe_gc.sh"
HASH = "/usr/sap/HXE/home/bin/.system-password.sha256"


def _expect_password(sb: Sandbox, password: str) -> None:
    sb.target(HASH).write_text(hashlib.sha256(password.encode()).hexdigest() + "\n")


def _seen_in_processes(secret: bytes, wizard: bytes) -> list[str]:
    """Command lines and environments that hold the secret, the wizard's own excepted: the
    admin gave it EMLSETUP_SYSTEM_PASSWORD, and a child between fork and exec is still a
    copy of the wizard (same command line, same environment) until the tool replaces it."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if cmdline == wizard:
                continue
            for part, text in (("cmdline", cmdline), ("environ", (proc / "environ").read_bytes())):
                if secret in text:
                    shown = cmdline.replace(b"\0", b" ")[:200].decode(errors="replace")
                    found.append(f"{proc.name}/{part}: {shown}")
        except OSError:
            continue
    return found


Completed = subprocess.CompletedProcess[str]


def _unique() -> str:
    return f"Gc-{uuid.uuid4().hex[:12]}-Pw1"


def _run_step1(sb: Sandbox, env: dict[str, str], secret: str) -> tuple[Completed, list[str]]:
    """`emlsetup run --only-step 1`, with the process table watched while it runs."""
    proc = subprocess.Popen(
        sb.cli_argv("run", "--yes", "--only-step", "1"),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    stop = threading.Event()

    wizard = b"\0".join(a.encode() for a in sb.cli_argv("run", "--yes", "--only-step", "1"))
    wizard += b"\0"

    def watch() -> None:
        while not stop.is_set():
            seen.extend(_seen_in_processes(secret.encode(), wizard))
            stop.wait(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    out, _ = proc.communicate(timeout=120)
    stop.set()
    watcher.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, ""), seen


def test_the_prompt_is_answered_through_a_pipe_as_hxeadm_in_its_login_environment(
    sandbox: Sandbox,
) -> None:
    password = _unique()
    _expect_password(sandbox, password)
    with HanaTestServer(Catalogue(users={"SYSTEM": password, "ML_USER": ML_PW})) as srv:
        env = hana_env(sandbox, srv, EMLSETUP_SYSTEM_PASSWORD=password)
        done, seen = _run_step1(sandbox, env, password)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Done: 1.2 GB of memory released" in done.stdout  # the right password was given
    gc = sandbox.calls("hxe_gc.sh")
    assert len(gc) == 1
    assert gc[0]["user"] == "hxeadm"
    assert gc[0]["cwd"] == str(sandbox.target("/usr/sap/HXE/home"))  # su -l starts at home
    assert gc[0]["secret_env"] == []
    sudo = next(c for c in sandbox.calls("sudo") if SCRIPT in c["argv"])
    assert sudo["argv"][:4] == ["-n", "-i", "-u", "hxeadm"]
    assert seen == []  # on no command line, in no environment of any other process
    assert all(password not in " ".join(c["argv"]) for c in sandbox.calls())
    written = [p for p in sandbox.path.rglob("*") if p.is_file()]
    assert len(written) > 10  # the state, the step's logs, the calls, the system's files
    assert [p for p in written if password.encode() in p.read_bytes()] == []
    assert password not in done.stdout


def test_a_wrong_password_fails_step_1_with_hanas_error(sandbox: Sandbox) -> None:
    _expect_password(sandbox, "another-Password1")
    with HanaTestServer(Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})) as srv:
        done, _ = _run_step1(sandbox, hana_env(sandbox, srv), SYSTEM_PW)
    assert done.returncode == 1
    assert "Run the memory management script failed: exit 1" in done.stdout
    assert "authentication failed" in done.stdout
    assert SYSTEM_PW not in done.stdout


def _runner(sb: Sandbox) -> Runner:
    host = Host(root=sb.root, search_path=sb.env()["PATH"])
    return Runner(host, Identity(admin="tmsadm", sid_adm="hxeadm"), sb.path / "logs")


def test_the_stand_in_fails_at_end_of_input_and_without_a_login(sandbox: Sandbox) -> None:
    """What the wizard did before (nothing on standard input, no login environment) fails
    on the stand-in as on the VM; with both, the prompt is answered."""
    runner = _runner(sandbox)
    closed = runner.run([SCRIPT], "sid_adm", login=True)
    plain = runner.run([SCRIPT], "sid_adm", secret_input=SYSTEM_PW)
    answered = runner.run([SCRIPT], "sid_adm", login=True, secret_input=SYSTEM_PW)
    assert closed.exit_code == 1
    assert any("no password given (end of input)" in line for line in closed.tail)
    assert plain.exit_code == 127 and "hdbsql: command not found" in plain.tail[-1]
    assert answered.exit_code == 0, answered.tail
    assert any("memory released" in line for line in answered.tail)


def test_without_the_password_headless_skips_the_clean_up_with_how_to_run_it(
    sandbox: Sandbox,
) -> None:
    """Only an hdbuserstore key: hdbcli can connect, but the wizard never holds the password
    the script asks for, so the optional clean-up is skipped with a sentence."""
    env = {**sandbox.env(), "EMLSETUP_HANA__SYSTEM_KEY": "HXESYSTEM"}
    session = Session.open(Options(root=sandbox.root, state_dir=sandbox.state_dir, environ=env))
    plan = session.plan()
    session.store.ensure_folder()
    engine = session.engine(plan, session.load_or_new_state(plan), sql=session.sql_backend())
    step = plan.step(1)
    action = next(a for a in step.actions if a.id == "hxe-gc")
    status, reason = engine.verdict(step, action)
    assert status == ActionStatus.SKIPPED
    assert "asks for the SYSTEM password" in reason
    assert "only the hdbuserstore key HXESYSTEM" in reason
    assert f"run it by hand: `sudo su -l hxeadm -c {SCRIPT}`" in reason
    assert engine.run_action(step, action)
    assert sandbox.calls("hxe_gc.sh") == []  # never started without its answer
    assert engine.state.step(1).action("hxe-gc").status == ActionStatus.SKIPPED


async def test_the_wizard_asks_for_the_password_when_it_holds_only_a_key(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin's hdbuserstore key connects hdbcli, but hxe_gc.sh wants the password: the
    wizard asks for it before step 1 runs, in the masked form."""
    app = open_app(sandbox, monkeypatch, EMLSETUP_HANA__SYSTEM_KEY="HXESYSTEM")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("1", "r")
        await wait_for(pilot, lambda: isinstance(app.screen, PasswordScreen))
        await pilot.press("escape")  # nothing runs without an answer
        await settle(pilot)
    assert sandbox.calls("hxe_gc.sh") == []


async def test_a_password_typed_in_the_wizard_answers_the_prompt(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = _unique()
    _expect_password(sandbox, password)
    with HanaTestServer(Catalogue(users={"SYSTEM": password, "ML_USER": ML_PW})) as srv:
        app = open_app(
            sandbox,
            monkeypatch,
            EMLSETUP_HANA__ADDRESS="127.0.0.1",
            EMLSETUP_HANA__SQL_PORT=str(srv.port),
            EMLSETUP_HANA__CONNECT_TIMEOUT_S="3",
        )
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("1", "r")
            await wait_for(pilot, lambda: isinstance(app.screen, PasswordScreen))
            await pilot.click("#emlsetup_system_password")
            await pilot.press(*password, "enter")
            state = app.driver

            def finished() -> bool:
                st = state.state
                return st is not None and st.step(1).status in (StepStatus.DONE, StepStatus.FAILED)

            await wait_for(pilot, finished, timeout=60)
            await settle(pilot)
            assert state.state is not None
            assert state.state.step(1).status == StepStatus.DONE, state.state.step(1).reason
    gc = sandbox.calls("hxe_gc.sh")
    assert len(gc) == 1 and gc[0]["user"] == "hxeadm"
    logs = [p for p in sandbox.state_dir.rglob("*") if p.is_file()]
    assert any(b"memory released" in p.read_bytes() for p in logs)  # the right password
    assert [p for p in logs if password.encode() in p.read_bytes()] == []
