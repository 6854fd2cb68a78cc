"""Driving step 5 with the real Bazel for tests/test_real_bazel.py: the wizard headless and
on its build screen, the run's state and the build's own log read back, Bazel's own counts
("INFO: N processes", "N total actions"), and another Bazel client on the same output base.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from tests.real_bazel_workspace import set_salt
from tests.sandbox import Sandbox
from tests.tui_support import open_app, settle, text_of, wait_for
from tui.screens.preflight import PreflightScreen

# Generous: a cold build takes a minute on CI; a hang fails the test instead of CI.
LONG = 900.0
OWN_BAZEL = "/home/tmsadm/bin/bazel"
CHECKOUT = "/home/tmsadm/serving"
SKIP = ("--skip-preflight", "bazel")
PROCESSES = re.compile(r"^INFO: (\d+) process(?:es)?(?:: (?:(\d+) internal)?.*)?\.$", re.M)
PROGRESS = re.compile(r"^\[(\d+) / (\d+)\] Compiling", re.M)


def machine_cpu_flags() -> str:
    """This machine's own flags: the build's -m flags must suit the CPU that runs the test."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return line.partition(":")[2].strip()
    return ""


def executed(log: str) -> int:
    """Processes Bazel ran, by its own count ("INFO: 17 processes: 2 internal, 15
    linux-sandbox."): the internal ones (symlinks, manifests) left out."""
    found = PROCESSES.findall(log)
    assert found, log[-2000:]
    total, internal = found[-1]
    return int(total) - int(internal or 0)


def total_actions(log: str) -> int:
    found = re.search(r"Build completed successfully, (\d+) total actions?", log)
    assert found, log[-2000:]
    return int(found.group(1))


@dataclass
class Real:
    sb: Sandbox
    ws: Path
    env: dict[str, str]
    salt: int = 1
    first_total: int | None = None  # the cold build's total actions
    group_full: int | None = None  # processes of an uninterrupted one-group rebuild

    def cli(self, *args: str, timeout: float = LONG) -> subprocess.CompletedProcess[str]:
        return self.sb.run_cli(*args, env=self.env, timeout=timeout)

    def start(self, *args: str, out: Path) -> subprocess.Popen[bytes]:
        """The wizard headless in the background, its output into ``out``."""
        with out.open("wb") as sink:
            return subprocess.Popen(
                self.sb.cli_argv(*args), cwd=Path(__file__).parent.parent, env=self.env,
                stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip

    def dirty(self, *groups: int) -> None:
        """Work for the next build: new sources in these groups, and no model server."""
        self.salt += 1
        for group in groups:
            set_salt(self.ws, self.salt, range(group, group + 1))
        (self.ws / "bazel-bin").unlink(missing_ok=True)

    def record(self, action: str) -> dict[str, Any]:
        state = json.loads((self.sb.state_dir / "state.json").read_text())
        step = next(s for s in state["steps"] if s["number"] == 5)
        found = next(a for a in step["actions"] if a["id"] == action)
        return dict(found["commands"][-1]) if found["commands"] else {"status": found["status"]}

    def status_of(self, action: str) -> str:
        state = json.loads((self.sb.state_dir / "state.json").read_text())
        step = next(s for s in state["steps"] if s["number"] == 5)
        return str(next(a for a in step["actions"] if a["id"] == action)["status"])

    def log(self, action: str) -> str:
        return Path(self.record(action)["log_file"]).read_text(errors="replace")

    def log_file(self, action: str) -> str:
        """The log of the action's last command ("" before it has one)."""
        try:
            return str(self.record(action).get("log_file") or "")
        except (OSError, StopIteration, json.JSONDecodeError):  # the state being replaced
            return ""

    def new_log(self, action: str, before: str) -> str:
        """The text of the action's log once a command newer than ``before`` has one."""
        now = self.log_file(action)
        return Path(now).read_text(errors="replace") if now and now != before else ""

    def until_log(self, action: str, before: str, ready: Callable[[str], bool], what: str) -> str:
        """Waits for the new build's own log (written as Bazel prints) to show ``what``."""
        deadline = time.monotonic() + LONG
        while time.monotonic() < deadline:
            text = self.new_log(action, before)
            if ready(text):
                return text
            time.sleep(0.1)  # polling the log for the event, not a pause for time to pass
        raise AssertionError(f"the build's log never showed {what}")

    def bazel_client(self, *args: str, out: Path) -> subprocess.Popen[bytes]:
        """Another Bazel command on the same output base, as the admin would type it."""
        env = {**self.env, "HOME": str(self.sb.target("/home/tmsadm")), "USER": "tmsadm"}
        with out.open("wb") as sink:
            return subprocess.Popen(
                [str(self.sb.target(OWN_BAZEL)), *args], cwd=self.ws, env=env,
                stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip

    def server_pid(self) -> int:
        cache = self.sb.target("/home/tmsadm/.cache/bazel")
        (found,) = cache.glob("*/*/server/server.pid.txt")
        return int(found.read_text())


def compiled_some(first: int = 2) -> Callable[[str], bool]:
    """True once Bazel's counter has moved ``first`` actions past its first compile line:
    some sources are compiled, more are to come."""

    def ready(log: str) -> bool:
        done = [int(n) for n, _ in PROGRESS.findall(log)]
        return bool(done) and done[-1] >= done[0] + first

    return ready


@asynccontextmanager
async def on_build_screen(
    real: Real, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Any, Any, str]]:
    """The wizard at 80x24, step 5 run from its build screen, the preflight's bazel line
    accepted ("g"). Whatever the test finds, a build still followed is interrupted on the
    way out, so that no worker is left following it."""
    app = open_app(real.sb, monkeypatch, EMLSETUP_SERVING__BAZEL=OWN_BAZEL)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_build(run=True)

        # The preflight reads the system (and asks Bazel its version): slow on a busy machine.
        def asked_or_over() -> bool:
            over = app.live is not None and app.live.outcome is not None
            return isinstance(app.screen, PreflightScreen) or over

        await wait_for(pilot, asked_or_over, timeout=LONG)
        preflight = app.screen
        assert isinstance(preflight, PreflightScreen), app.live and app.live.outcome
        await wait_for(pilot, lambda: preflight.focused is not None)  # mounted, its buttons up
        detail = text_of(preflight.query_one("#detail", Static))
        await pilot.press("g")
        try:
            yield app, pilot, detail
        finally:
            if app.busy and app.driver.cancel():
                await wait_for(pilot, lambda: not app.busy, timeout=LONG)
