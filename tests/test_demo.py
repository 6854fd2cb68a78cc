"""The demo (tests/demo.py): its passwords shown inside the wizard, the admin's NO_COLOR
kept, a build left running surviving the demo's end unless --stop, and the model chain
at its end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Label, Static

from tests.demo import ML_PW, SYSTEM_PW, build_left_running, demo_env, finish, open_sandbox
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
        said = finish(sb, folder, kept=False, stop=False)
        assert f"The build goes on (pid {proc.pid}) in {folder}" in said
        assert f"--keep {folder}" in said
        assert proc.poll() is None and folder.is_dir()  # not killed, not removed
        again = open_sandbox(folder / "sandbox", "sles12sp2")  # --keep DIR re-opens it
        assert again.path == sb.path and build_left_running(again) == proc.pid
        # --stop: the admin asks for it to end; the folder goes too
        assert finish(sb, folder, kept=False, stop=True) == ""
        assert proc.wait(timeout=30) != 0
        assert not folder.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


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
    # --keep re-opens the sandbox with a new (empty) HANA test server: step 7's checks
    # fail there, so the chain is not tried, and the demo says when it runs
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMLSETUP_", "FAKE_"))}
    again = subprocess.run(
        [*argv, "--", "status"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stdout[-3000:]
    assert "$ emlsetup model" not in again.stdout
    assert "once step 7's checks pass (emlsetup check --step 7)" in again.stdout


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
