"""The real `emlsetup` in a real terminal (a pty, 80x24): during the build the admin quits
with "leave it running". The wizard process ends, the build goes on without it, and the
next `emlsetup resume` re-attaches to that same build instead of starting another.

This path ends the process with os._exit (the engine's thread is still following the
build), so it cannot run inside pytest's process the way the pilot tests do."""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from steps.core.follow import is_our_wrapper
from tests.sandbox import REPO, Sandbox
from tests.tui_support import prepare_steps

CSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]")


class Terminal:
    """A child process on a pty of a given size; what it writes is collected in a thread,
    which wakes whoever waits in `until` on every block."""

    def __init__(self, argv: list[str], env: dict[str, str], size: tuple[int, int]) -> None:
        master, slave = os.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                data = b""
            with self.changed:
                self.output += data
                self.changed.notify_all()
            if not data:
                return

    def shows(self, text: str, since: int = 0) -> bool:
        """Whether ``text`` has been drawn (cursor moves and colours taken out), since the
        output stood at ``since`` (what `press` returns)."""
        return text in CSI.sub("", bytes(self.output[since:]).decode(errors="replace"))

    def press(self, key: str) -> int:
        """Types the key; returns where the output stood, so that the test waits for what
        the key shows rather than for a time."""
        at = len(self.output)
        os.write(self.master, key.encode())
        return at

    def until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Until the predicate holds: tested again on every block the wizard draws, and at
        least every 0.5 s for what is not on screen (a file the build writes)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                assert left > 0, f"timed out waiting for {what}"
                self.changed.wait(min(left, 0.5))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def build_record(sandbox: Sandbox) -> dict[str, Any] | None:
    try:
        state = json.loads((sandbox.state_dir / "state.json").read_text())
    except (OSError, ValueError):
        return None
    step = next(s for s in state["steps"] if s["number"] == 5)
    build = next(a for a in step["actions"] if a["id"] == "build")
    commands: list[dict[str, Any]] = build["commands"]
    return commands[-1] if commands and commands[-1].get("pid") else None


def test_leaving_the_build_running_ends_the_wizard_and_resume_reattaches(
    sandbox: Sandbox,
) -> None:
    prepare_steps(sandbox, 2, 3, 4)
    env = sandbox.env(FAKE_BAZEL_SPEED="2", TERM="xterm-256color")
    term = Terminal(sandbox.cli_argv(), env, size=(80, 24))
    try:
        term.until(lambda: term.shows("Validate"), 30, "the welcome screen")
        at = term.press("5")
        term.until(lambda: term.shows("Step 5 of 7", since=at), 30, "step 5")
        at = term.press("r")  # run: the build screen starts the build, detached
        term.until(lambda: build_record(sandbox) is not None, 60, "the build to start")
        term.until(lambda: term.shows("[0 / 4]", since=at), 30, "the build's progress")
        at = term.press("q")
        term.until(lambda: term.shows("Quit, build keeps going (l)", since=at), 30, "the question")
        term.press("l")
        term.proc.wait(timeout=20)  # the wizard exits
        term.reader.join(timeout=5)
    finally:
        term.close()
    assert term.proc.returncode == 0
    said = bytes(term.output).decode(errors="replace")
    assert "The build goes on in the background. Re-attach with:" in said
    rec = build_record(sandbox)
    assert rec is not None and rec["exit_code"] is None
    assert is_our_wrapper(rec["pid"], Path(rec["exit_file"]))  # the build outlived the wizard

    # goes on to steps 6-7 (no HANA here: its preflight line is accepted)
    resumed = sandbox.run_cli("resume", "--yes", "--skip-preflight", "hana")
    assert "== Step 6" in resumed.stdout, resumed.stdout[-2000:]  # step 5 finished
    assert "re-attaching to the build started" in resumed.stdout
    assert f"(pid {rec['pid']})" in resumed.stdout
    assert sum("build" in c["argv"] for c in sandbox.calls("bazel")) == 1  # never run twice
    final = build_record(sandbox)
    assert final is not None and final["exit_code"] == 0
