"""A state folder the wizard cannot write (a read-only mount, another user's folder) is one
sentence and exit 2, never an internal error, and the state in it is left as it was
(issue 15, item 2). Root ignores file modes, so the read-only case is a real read-only bind
mount (in a private mount namespace: nothing outside the test sees it) and the other user
is a real uid (setpriv)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from steps.core.state import RunState, StateStore
from tests.sandbox import REPO, Sandbox

# Absolute paths: the wizard's PATH holds only the sandbox's stand-ins.
SETPRIV, UNSHARE, MOUNT = (shutil.which(t) or t for t in ("setpriv", "unshare", "mount"))
NOBODY = [SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups"]
BIND_RO = f'{MOUNT} --bind "$0" "$0" && {MOUNT} -o remount,bind,ro "$0" "$0" && exec "$@"'


@pytest.fixture
def open_sandbox() -> Iterator[Sandbox]:
    """A sandbox another user can read (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="emlsetup-ro-"))
    folder.chmod(0o755)
    sb = Sandbox.create(folder / "sb")
    for path in (folder / "sb", sb.root):
        path.chmod(0o755)
    StateStore(sb.state_dir).ensure_folder()
    sb.state_dir.chmod(0o755)
    StateStore(sb.state_dir).save(RunState(run_id="keep", distro="x", family="sles"))
    yield sb
    sb.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def _wizard(sb: Sandbox, *prefix: str) -> subprocess.CompletedProcess[str]:
    argv = [*prefix, *sb.cli_argv("run", "--yes", "--only-step", "2")]
    return subprocess.run(argv, cwd=REPO, env=sb.env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def _assert_one_sentence(done: subprocess.CompletedProcess[str], sb: Sandbox) -> None:
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "internal error" not in lines[0], done.stderr
    assert str(sb.state_dir) in lines[0] and "--state-dir" in lines[0]


def test_a_read_only_state_folder_is_one_sentence_and_exit_2(open_sandbox: Sandbox) -> None:
    sb = open_sandbox
    if not (Path(UNSHARE).is_absolute() and Path(MOUNT).is_absolute()):
        pytest.skip("needs unshare and mount (util-linux)")
    before = (sb.state_dir / "state.json").read_bytes()
    probe = subprocess.run([UNSHARE, "-m", "/bin/sh", "-c", BIND_RO, str(sb.state_dir), "true"],
                           capture_output=True, text=True)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"no private read-only bind mount here: {probe.stderr.strip()}")
    done = _wizard(sb, UNSHARE, "-m", "/bin/sh", "-c", BIND_RO, str(sb.state_dir))
    _assert_one_sentence(done, sb)
    assert "Read-only file system" in done.stderr
    assert (sb.state_dir / "state.json").read_bytes() == before
    assert sb.calls() == []  # nothing ran


def test_another_users_state_folder_is_one_sentence_and_exit_2(open_sandbox: Sandbox) -> None:
    sb = open_sandbox
    if not Path(SETPRIV).is_absolute():
        pytest.skip("needs setpriv (util-linux)")
    alive = subprocess.run([*NOBODY, sys.executable, "-c", "import os; print(os.geteuid())"],
                           capture_output=True, text=True)  # fmt: skip
    if alive.returncode != 0 or alive.stdout.strip() != "65534":
        pytest.skip(f"cannot run as uid 65534 here: {alive.stderr.strip()}")
    before = (sb.state_dir / "state.json").read_bytes()
    done = _wizard(sb, *NOBODY)
    _assert_one_sentence(done, sb)
    assert "Permission denied" in done.stderr
    assert (sb.state_dir / "state.json").read_bytes() == before
    assert sb.calls() == []
