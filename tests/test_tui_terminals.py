"""Terminals the wizard meets over SSH and on a VM console: no colour, 16 colours (every
status must read from its symbol and word alone); and no terminal at all (ssh without -t,
cron, a redirection), where it must say so in one line instead of hanging."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox import REPO, Sandbox
from tests.test_tui_leave_running import Terminal
from tests.tui_support import open_app, settle

EMLSETUP = Path(sys.executable).parent / "emlsetup"  # the installed console script


def _screen_text(svg: str) -> str:
    """The characters of an exported screen, line by line, without any styling."""
    rows = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return html.unescape("".join(rows)).replace("\xa0", " ")


@pytest.mark.parametrize(
    "env", [{"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "linux"}], ids=["no-color", "linux"]
)
async def test_every_step_status_reads_without_colour(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
    failed = sandbox.run_cli(
        "run", "--yes", "--only-step", "3", env=sandbox.env(FAKE_FAIL="zypper:install")
    )
    assert failed.returncode == 1
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = open_app(sandbox, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if env.get("TERM") == "linux":
            assert app.console.color_system == "standard"  # 16 colours on a VM console
        text = _screen_text(app.export_screenshot())
    statuses = dict(re.findall(r"\b([1-7])\s+([○✔✘▶–⏸] \w+)", text))
    assert statuses.get("2") == "✔ done", text
    assert statuses.get("3") == "✘ failed", text
    assert all(statuses.get(str(n)) == "○ pending" for n in (1, 4, 5, 6, 7)), statuses


@pytest.mark.parametrize("stdout", ["pipe", "file", "terminal"])
def test_without_a_terminal_the_wizard_says_so_in_one_line(
    sandbox: Sandbox, tmp_path: Path, stdout: str
) -> None:
    """`emlsetup` from cron or `ssh host emlsetup`: stdin is not a terminal (/dev/null here);
    stdout a pipe, a file, or (ssh's stderr) a terminal. One line naming the headless
    command, exit 2, no escape codes, and no wait for keys that never come."""
    argv = [str(EMLSETUP), "--root", str(sandbox.root), "--state-dir", str(sandbox.state_dir)]
    out_file = tmp_path / "out"
    master, slave = os.openpty()
    target = {"pipe": subprocess.PIPE, "file": out_file.open("wb"), "terminal": slave}[stdout]
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=target, stderr=subprocess.PIPE,
            cwd=REPO, env=sandbox.env(TERM="xterm-256color"), timeout=60,
        )  # fmt: skip
    finally:
        os.close(slave)
        os.close(master)
    said = done.stderr.decode()
    written = (done.stdout or b"") + (out_file.read_bytes() if out_file.exists() else b"")
    assert done.returncode == 2, said
    assert said.count("\n") == 1 and said.startswith("emlsetup: the wizard needs a terminal")
    assert f"emlsetup --root {sandbox.root} --state-dir {sandbox.state_dir} run --yes" in said
    assert "\x1b" not in said and written == b""
    assert not sandbox.state_dir.exists()  # nothing opened, nothing written


def test_without_a_terminal_a_wrapper_is_named_by_its_own_command(sandbox: Sandbox) -> None:
    """The demo runs emlsetup for the admin: the headless command it names is the demo's."""
    own = "python -m tests.demo --keep /tmp/kept --"
    done = subprocess.run(
        [str(EMLSETUP), "--root", str(sandbox.root), "--state-dir", str(sandbox.state_dir)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=REPO, timeout=60,
        env=sandbox.env(EMLSETUP_COMMAND=own),
    )  # fmt: skip
    assert done.returncode == 2
    assert f"`{own} run --yes`" in done.stderr and "emlsetup --root" not in done.stderr


def test_output_redirected_from_a_terminal_is_refused_too(sandbox: Sandbox, tmp_path: Path) -> None:
    """`emlsetup > out` typed at a terminal: keys would come, but nothing the wizard draws
    would reach the admin's screen; the same one line, on the terminal."""
    out_file = tmp_path / "out"
    shell = f"exec {EMLSETUP} --state-dir {sandbox.state_dir} > {out_file}"
    term = Terminal(["/bin/sh", "-c", shell], sandbox.env(TERM="xterm-256color"), (80, 24))
    try:
        assert term.proc.wait(timeout=60) == 2
        term.reader.join(timeout=5)
    finally:
        term.close()
    said = bytes(term.output).decode()
    assert "the wizard needs a terminal" in said and "\x1b" not in said
    assert out_file.read_bytes() == b""
