"""A known HANA password goes in; it must come out nowhere: not in any file the run wrote,
not in the terminal transcript, not on any command line other users can see."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import REPO, Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env


def _command_lines() -> list[bytes]:
    lines = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                lines.append((proc / "cmdline").read_bytes())
            except OSError:
                continue
    return lines


def _files_under(*folders: Path) -> list[Path]:
    return [p for f in folders if f.exists() for p in f.rglob("*") if p.is_file()]


def test_the_password_appears_nowhere(sandbox: Sandbox, tmp_path: Path) -> None:
    cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    seen_on_a_command_line: list[bytes] = []
    with HanaTestServer(cat) as srv:
        env = hana_env(sandbox, srv)
        proc = subprocess.Popen(
            sandbox.cli_argv("run", "--yes"),
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                seen_on_a_command_line.extend(
                    c for c in _command_lines() if SYSTEM_PW.encode() in c or ML_PW.encode() in c
                )
                stop.wait(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        transcript, _ = proc.communicate(timeout=300)
        stop.set()
        watcher.join()
        assert proc.returncode == 0, transcript[-3000:]
        reports = tmp_path / "reports"
        reports.mkdir()
        for fmt in ("md", "json", "html"):
            out = reports / f"report.{fmt}"
            done = sandbox.run_cli("report", "--format", fmt, "-o", str(out), env=env)
            assert done.returncode == 0, done.stderr
            transcript += done.stdout + done.stderr
    assert seen_on_a_command_line == []
    assert len(sandbox.calls()) > 30
    assert [c for c in sandbox.calls() if c["secret_env"]] == []  # no tool got a password
    written = _files_under(sandbox.state_dir, sandbox.root, reports)
    assert len(written) > 20  # state, logs, the model server's log, reports, the system's files
    for secret in (SYSTEM_PW, ML_PW):
        assert secret not in transcript
        leaked = [p for p in written if secret.encode() in p.read_bytes()]
        assert leaked == []
