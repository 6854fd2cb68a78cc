"""The demo (tests/demo.py) off its happy path, in real processes: a build left running from
the demo's wizard, the re-attach command it shows (the demo's own, not an `emlsetup` that
is not on PATH), `--stop` (the build stopped the way Cancel stops it, and `status` saying
so), Ctrl-C during a demo command, the catalogue file of its HANA test server, and the demo
piped to `head`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steps.core.follow import is_our_wrapper
from steps.core.session import Options
from tests.demo import ML_PW, SYSTEM_PW, demo_command, runs_steps
from tests.demo_keep import CATALOGUE_FILE, REATTACHED, hana_server
from tests.hana_server.persist import CatalogueFileError, load
from tests.sandbox import REPO, Sandbox
from tests.test_tui_leave_running import Terminal
from tui.driver import reattach_command

SLOW = "0.05"  # the recorded 55 s build replayed in about 18 minutes: it runs on
HANA = {"EMLSETUP_SYSTEM_PASSWORD": SYSTEM_PW, "EMLSETUP_ML_USER_PASSWORD": ML_PW}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMLSETUP_", "FAKE_"))}
    env.update(NO_COLOR="1", TERM="xterm-256color", **extra)
    return env


def _demo_argv(kept: Path) -> list[str]:
    return [sys.executable, "-m", "tests.demo", "--keep", str(kept), "--speed", SLOW]


def _build(kept: Path) -> dict[str, Any]:
    """Step 5's build record in the kept sandbox's run state ({} before it started)."""
    try:
        state = json.loads((kept / "sandbox" / "state" / "state.json").read_text())
    except (OSError, ValueError):
        return {}
    step = next((s for s in state["steps"] if s["number"] == 5), {"actions": []})
    build = next((a for a in step["actions"] if a["id"] == "build"), {"commands": []})
    commands: list[dict[str, Any]] = build["commands"]
    return commands[-1] if commands and commands[-1].get("pid") else {}


@pytest.fixture(scope="module")
def left_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """Steps 2-4 done headless in the demo, then the demo's wizard in a terminal: step 5's
    build started, and the admin quits with "build keeps going". Yields (the kept folder,
    the re-attach command the demo should show, what the terminal showed); afterwards
    whatever still runs in the sandbox (the build, when a test failed before stopping it)
    is ended."""
    kept = tmp_path_factory.mktemp("demo") / "kept"
    argv = _demo_argv(kept)
    early = [*argv, "--", "run", "--from-step", "2", "--to-step", "4", "--yes"]
    done = subprocess.run(early, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    command = f"{demo_command(kept, speed=SLOW)} -- resume"
    term = Terminal(argv, _env(), size=(200, 50))
    try:
        term.until(lambda: term.shows("Validate"), 60, "the welcome screen")
        at = term.press("5")
        term.until(lambda: term.shows("Step 5 of 7", since=at), 30, "step 5")
        at = term.press("r")
        term.until(lambda: bool(_build(kept)), 60, "the build to start")
        term.until(lambda: term.shows(command, since=at), 30, "the re-attach command")
        at = term.press("q")
        term.until(lambda: term.shows("Quit, build keeps going (l)", since=at), 30, "the question")
        term.press("l")
        term.proc.wait(timeout=60)  # the wizard, then the demo, end
        term.reader.join(timeout=5)
    finally:
        if term.proc.poll() is None:  # the wizard too, not only the demo
            os.killpg(term.proc.pid, signal.SIGKILL)
        term.close()
    assert term.proc.returncode == 0
    yield kept, command, bytes(term.output).decode(errors="replace")
    Sandbox(kept / "sandbox", "sles12sp2").cleanup()


def test_the_demo_s_wizard_shows_the_demo_s_own_reattach_command(
    left_running: tuple[Path, str, str],
) -> None:
    """On the build screen and after quitting: the command that re-attaches inside the
    sandbox (the demo on its folder), which the next test runs."""
    kept, command, shown = left_running
    assert command.endswith(f"-m tests.demo --keep {kept} --speed {SLOW} -- resume")
    assert f"The build goes on in the background. Re-attach with: {command}" in shown
    assert "Re-attach with: emlsetup" not in shown
    rec = _build(kept)
    assert rec["exit_code"] is None and is_our_wrapper(rec["pid"], Path(rec["exit_file"]))
    assert f"The build goes on (pid {rec['pid']}) in {kept}." in shown


def test_stop_stops_the_build_as_cancel_does_and_status_says_so(
    left_running: tuple[Path, str, str],
) -> None:
    """`--stop` ends the build left running through the product's own Cancel (one
    interrupt, Bazel's exit 8 recorded), says what it did, and `status` then tells the
    truth: interrupted, and the demo's own resume command (before: the build was killed
    silently and status said "left running ...; resume re-attaches to it")."""
    kept, command, _ = left_running
    pid = _build(kept)["pid"]
    stopped = subprocess.run(
        [*_demo_argv(kept), "--stop", "--", "status"],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = stopped.stdout
    assert f"--stop: the build (pid {pid}) is stopped as Cancel stops it" in out, out[-3000:]
    assert "Bazel ended with exit 8" in out
    assert f"Interrupted. Nothing done is lost: `{command}` continues." in out
    rec = _build(kept)
    assert rec["exit_code"] == 8 and not is_our_wrapper(pid, Path(rec["exit_file"]))
    assert "The build goes on" not in out
    status = subprocess.run(
        [*_demo_argv(kept), "--", "status"],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert status.returncode == 1, status.stdout
    assert "step 5: pending (interrupted during: " in status.stdout
    assert "left running" not in status.stdout and "re-attaches" not in status.stdout
    assert f"`{command}` continues" in status.stdout


def test_ctrl_c_in_a_demo_command_is_the_command_s_clean_interrupt(
    left_running: tuple[Path, str, str],
) -> None:
    """The re-attach command shown, run as shown, then Ctrl-C (SIGINT to the terminal's
    process group) once the build runs: emlsetup interrupts it cleanly and the demo waits
    for it (before: the demo died with a KeyboardInterrupt traceback and killed emlsetup
    0.25 s into its interrupt)."""
    kept, command, _ = left_running
    words = command.split()
    proc = subprocess.Popen(
        [sys.executable, *words[1:]], cwd=REPO, env=_env(**HANA), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        # Bazel's first line (a new build), or the build left running followed again
        if "Loading:" in line or REATTACHED in line:
            os.killpg(proc.pid, signal.SIGINT)
            break
    out = "".join(seen) + proc.stdout.read()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, out[-3000:] + err[-2000:]
    assert f"Interrupted. Nothing done is lost: `{command}` continues." in out
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert _build(kept)["exit_code"] == 8  # Bazel's own interrupt, recorded


def test_the_demo_piped_to_head_ends_quietly(left_running: tuple[Path, str, str]) -> None:
    """The reader goes after one line: no BrokenPipe traceback, exit 0, as emlsetup."""
    kept, _, _ = left_running
    proc = subprocess.Popen(
        [*_demo_argv(kept), "--", "status"], cwd=REPO, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_the_catalogue_file_comes_back_whole_and_a_damaged_one_is_one_sentence(
    tmp_path: Path,
) -> None:
    """What statements changed is there when the server starts again, on its port; the
    file never holds a password; a damaged file is a sentence and a fresh catalogue."""
    from hdbcli import dbapi

    users = {"SYSTEM": "Manager1", "ML_USER": "Secret1"}
    with hana_server(tmp_path, users)[0] as srv:
        conn = dbapi.connect(
            address=srv.host, port=srv.port, user="ML_USER", password="Secret1", databaseName="HXE"
        )
        cur = conn.cursor()
        for sql in ("CREATE SCHEMA EML_DATA", 'CREATE TABLE EML_DATA.T ("X" INTEGER)',
                    "INSERT INTO EML_DATA.T VALUES (7)"):  # fmt: skip
            cur.execute(sql)
        conn.close()
        port = srv.port
    path = tmp_path / CATALOGUE_FILE
    assert b"Secret1" not in path.read_bytes()  # the state, never the passwords
    server, said = hana_server(tmp_path, users)
    assert said.startswith("The HANA test server holds what it held")
    with server as srv:
        assert srv.port == port  # as a restarted HANA, on its own port
        assert srv.query("SELECT * FROM EML_DATA.T", "ML_USER", "Secret1") == [(7,)]
    path.write_bytes(b"not a catalogue")
    with pytest.raises(CatalogueFileError, match="not a saved catalogue"):
        load(path)
    assert "starts with a new catalogue" in hana_server(tmp_path, users)[1]


def test_the_reattach_command_is_the_wrapper_s_when_one_is_named() -> None:
    bare = Options(root=Path("/srv/hxe"), state_dir=Path("/srv/state"), environ={})
    assert reattach_command(bare) == "emlsetup --root /srv/hxe --state-dir /srv/state resume"
    wrapped = Options(
        root=Path("/srv/hxe"), environ={"EMLSETUP_COMMAND": "python -m tests.demo --keep D --"}
    )
    assert reattach_command(wrapped) == "python -m tests.demo --keep D -- resume"
    assert runs_steps([]) and runs_steps(["--distro", "x", "run"]) and runs_steps(["resume"])
    assert not runs_steps(["status"]) and not runs_steps(["--set", "run", "check"])
