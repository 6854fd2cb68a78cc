"""The demo (tests/demo.py): its passwords shown inside the wizard, the admin's NO_COLOR
kept, a build left running surviving the demo's end, `--speed` as README names it, the
model chain at the end of the run that got step 7 done, and a kept demo that agrees with
itself after a restart (tests/test_demo_keep.py: --stop, re-attaching, Ctrl-C, a pipe)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Label, Static

from tests.demo import (
    ML_PW,
    SYSTEM_PW,
    build_left_running,
    demo_env,
    finish,
    open_sandbox,
    speed,
)
from tests.sandbox import REPO, Sandbox
from tests.tui_support import open_app, settle, wait_for
from tui.demo_notice import DEMO_NOTICE_VAR
from tui.screens.passwords import PasswordScreen
from tui.screens.validation import ValidationScreen


def _text(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def test_no_color_reaches_the_wizard_and_the_notice_file_is_named(sandbox: Sandbox) -> None:
    env = demo_env(sandbox, 30015, "20", {"NO_COLOR": "1"})
    assert env["NO_COLOR"] == "1"
    assert SYSTEM_PW in Path(env[DEMO_NOTICE_VAR]).read_text()
    assert "NO_COLOR" not in demo_env(sandbox, 30015, "20", {})
    assert not any(SYSTEM_PW in v or ML_PW in v for v in env.values())  # a path, not the text


@pytest.mark.parametrize("demo", [True, False], ids=["demo", "product"])
async def test_the_demo_passwords_are_shown_inside_the_wizard_only_in_the_demo(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, demo: bool
) -> None:
    extra = {DEMO_NOTICE_VAR: demo_env(sandbox, 30015, "20", {})[DEMO_NOTICE_VAR]} if demo else {}
    app = open_app(sandbox, monkeypatch, **extra)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ValidationScreen)
        shown = app.screen.query("#demo-notice")
        assert bool(shown) == demo
        if demo:
            said = _text(shown.first(Static))
            assert SYSTEM_PW in said and ML_PW in said and said.startswith("Demo only")
            assert SYSTEM_PW in app.export_screenshot()  # on screen at 80x24
        await pilot.press("escape")  # step 7
        await settle(pilot)
        app.open_step(1)
        await settle(pilot)
        await pilot.press("r")  # step 1 talks to HANA: the password prompt
        await wait_for(pilot, lambda: isinstance(app.screen, PasswordScreen))
        notice = app.screen.query("#demo-notice")
        assert bool(notice) == demo
        if demo:
            assert SYSTEM_PW in str(notice.first(Label).content)
        await pilot.press("escape")
        await settle(pilot)


def test_readme_names_the_speed_that_slows_the_build_and_the_demo_takes_it(
    sandbox: Sandbox,
) -> None:
    """The 3 s build is too short to try Quit, Cancel and re-attaching: README names the
    option that slows it, and that factor reaches the replayed Bazel; a speed that is not
    above 0 is one line, exit 2."""
    readme = (REPO / "README.md").read_text()
    named = re.search(r"python -m tests\.demo --speed ([0-9.]+)`", readme)
    assert named is not None, "README does not name the demo's --speed"
    factor = named.group(1)
    assert 0 < float(factor) < 1  # slower than recorded
    assert demo_env(sandbox, 30015, speed(factor), {})["FAKE_BAZEL_SPEED"] == factor
    bad = subprocess.run(
        [sys.executable, "-m", "tests.demo", "--speed", "0", "--", "status"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    said = bad.stderr.splitlines()[-1]
    assert said.endswith("--speed: '0': give a number above 0, e.g. 0.1 or 20")


def _fake_left_build(sb: Sandbox) -> subprocess.Popen[bytes]:
    """A process standing in for the detached build wrapper (steps/core/detach.py): it names its
    exit file on its command line, as the real one does, and carries the sandbox's
    environment, as every process the sandbox starts does."""
    exit_file = sb.path / "build.exit"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('up', flush=True); sys.stdin.read()",
         str(exit_file)],
        env=sb.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == b"up\n"  # exec'd: its
    # command line in /proc is its own, no longer the forking parent's
    sb.state_dir.mkdir(parents=True, exist_ok=True)
    record = {"display": "bazel build", "user": "tmsadm", "pid": proc.pid,
              "exit_file": str(exit_file), "exit_code": None}  # fmt: skip
    state = {"steps": [{"number": 5, "actions": [{"id": "build", "commands": [record]}]}]}
    (sb.state_dir / "state.json").write_text(json.dumps(state))
    return proc


def test_quitting_the_demo_leaves_a_running_build_and_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    sb = open_sandbox(folder / "sandbox", "sles12sp2")
    proc = _fake_left_build(sb)
    try:
        assert build_left_running(sb) == proc.pid
        said = finish(sb, folder, kept=False)
        assert f"The build goes on (pid {proc.pid}) in {folder}" in said
        assert f"--keep {folder}`" in said and f"--keep {folder} --stop -- status`" in said
        assert proc.poll() is None and folder.is_dir()  # not killed, not removed
        again = open_sandbox(folder / "sandbox", "sles12sp2")  # --keep DIR re-opens it
        assert again.path == sb.path and build_left_running(again) == proc.pid
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # once it has ended, the demo's folder goes with the rest
    assert finish(sb, folder, kept=False) == ""
    assert not folder.exists()


@pytest.fixture(scope="module")
def chain_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    """The demo headless to step 7 (the passwords passed through, as README shows), with
    --keep: (the kept folder, its command line, what it printed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMLSETUP_", "FAKE_"))}
    env.update(EMLSETUP_SYSTEM_PASSWORD=SYSTEM_PW, EMLSETUP_ML_USER_PASSWORD=ML_PW, NO_COLOR="1")
    kept = tmp_path_factory.mktemp("demo") / "kept"
    argv = [sys.executable, "-m", "tests.demo", "--speed", "2000", "--keep", str(kept)]
    done = subprocess.run(
        [*argv, "--", "run", "--yes"], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return kept, argv, done.stdout


def test_the_demo_ends_with_the_model_chain_read_back_through_hdbcli(
    chain_demo: tuple[Path, list[str], str],
) -> None:
    """After step 7: the shipped model added, HANA asks the TF Serving stand-in (2.5 for
    1.0, the value read back from HANA's output table through hdbcli), and a second add
    that changes nothing."""
    kept, argv, out = chain_demo
    assert "All steps done." in out
    chain = out[out.index("All steps done.") :]
    first, test, second = (
        chain.split("$ emlsetup ")[i] for i in (1, 2, 3)
    )  # each command's output, in order
    assert first.startswith("model add half_plus_two\n")
    assert "  copy: copied to /home/tmsadm/export/half_plus_two/1" in first
    assert "half_plus_two version 1 is served and callable from SQL (6 changes)" in first
    assert test.startswith("model test half_plus_two\n")
    assert "HANA asked TensorFlow and got 2.5 for 1\n" in test
    assert "Read back through hdbcli: EML_DATA.HALF_PLUS_TWO_OUTPUT holds y = 2.5\n" in test
    assert second.startswith("model add half_plus_two\n")
    assert "half_plus_two version 1 is served and callable from SQL (0 changes)" in second
    assert "\x1b[" not in out  # NO_COLOR reached the wizard
    assert f"The sandbox is kept in {kept}." in out


def _demo(argv: list[str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """The demo again on its kept folder: a new process, a new HANA test server and a new
    TF Serving stand-in, as after a restart."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMLSETUP_", "FAKE_"))}
    env.update(NO_COLOR="1", **extra)
    return subprocess.run(
        [*argv, "--", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


def test_a_kept_demo_started_again_agrees_with_itself(
    chain_demo: tuple[Path, list[str], str],
) -> None:
    """The demo process that got to done has ended; the same --keep DIR again brings back
    the HANA test server's catalogue and step 6's TF Serving: `model list`, `check` and
    `status` all say what the first run did (before: error 258, four failed checks and
    "done")."""
    kept, argv, _ = chain_demo
    hana = {"EMLSETUP_SYSTEM_PASSWORD": SYSTEM_PW, "EMLSETUP_ML_USER_PASSWORD": ML_PW}
    listed = _demo(argv, "model", "list", **hana)
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-2000:]
    assert "error 258" not in listed.stdout
    assert "half_plus_two: versions [1]" in listed.stdout
    assert "HANA row yes, wrapper yes" in listed.stdout
    assert "The HANA test server holds what it held when the demo last ended" in listed.stdout
    assert "TensorFlow Serving started again as step 6 started it (pid " in listed.stdout
    checked = _demo(argv, "check", **hana)
    assert checked.returncode == 0, checked.stdout[-3000:]
    summary = re.search(r"(\d+) checks: (\d+) ✔ ok", checked.stdout)
    assert summary is not None and summary.group(1) == summary.group(2), checked.stdout[-3000:]
    assert "✘" not in checked.stdout
    status = _demo(argv, "status")
    assert status.returncode == 0 and "done: all requested steps are done" in status.stdout


def test_the_model_chain_is_not_repeated_after_other_commands(
    chain_demo: tuple[Path, list[str], str],
) -> None:
    """The chain ran once, at the end of the run that got step 7 done: `status`, and a
    `resume` with nothing left to do, print neither the chain nor a hint about it."""
    _, argv, _ = chain_demo
    hana = {"EMLSETUP_SYSTEM_PASSWORD": SYSTEM_PW, "EMLSETUP_ML_USER_PASSWORD": ML_PW}
    for args in (("status",), ("resume",)):
        again = _demo(argv, *args, **hana)
        assert again.returncode == 0, again.stdout[-3000:]
        assert "model chain" not in again.stdout and "$ emlsetup model" not in again.stdout


async def test_the_validation_screen_shows_the_demo_s_smoke_prediction(
    chain_demo: tuple[Path, list[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer `model test` got in the demo, on the wizard's validation screen once it
    has checked (the demo's HANA test server is gone by now: the check says so, the last
    answer is from the journal)."""
    kept, _, _ = chain_demo
    sb = open_sandbox(kept / "sandbox", "sles12sp2")
    closed = {"EMLSETUP_HANA__ADDRESS": "127.0.0.1", "EMLSETUP_HANA__SQL_PORT": "1"}
    app = open_app(sb, monkeypatch, **closed)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ValidationScreen)
        await pilot.press("enter")  # "Connect and check", focused on opening
        await settle(pilot)
        shown = _text(app.screen.query_one("#models", Static))
        assert "Smoke prediction (half_plus_two, " in shown
        assert shown.endswith("): HANA asked TensorFlow and got 2.5 for 1.")
