"""A state folder the wizard cannot write (a read-only mount, another user's folder) is one
sentence and exit 2, never an internal error, and the state in it is left as it was
(issue 15, item 2). Root ignores file modes, so the read-only case is a real read-only bind
mount (in a private mount namespace: nothing outside the test sees it), and the other
user's folder belongs to a real other uid (65534) while the wizard runs as root stripped of
every capability (setpriv: no CAP_DAC_OVERRIDE, so the kernel checks the folder's modes as
for any user). The wizard keeps its own uid so that it can read the checkout and the venv
wherever they were cloned: in a 0700 home folder, uid 65534 could not even start Python
there (issue 23, item 8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from steps.core.state import RunState, StateStore
from tests.sandbox import REPO, Sandbox

# Absolute paths: the wizard's PATH holds only the sandbox's stand-ins.
SETPRIV, UNSHARE, MOUNT = (shutil.which(t) or t for t in ("setpriv", "unshare", "mount"))
OTHER_UID = 65534
# Root without capabilities: an empty bounding set gives the next program none
# (capabilities(7), "Transformation of capabilities during execve()").
UNPRIVILEGED = [SETPRIV, "--bounding-set=-all", "--inh-caps=-all"]
BIND_RO = f'{MOUNT} --bind "$0" "$0" && {MOUNT} -o remount,bind,ro "$0" "$0" && exec "$@"'


@pytest.fixture
def open_sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox whose state folder, with a run state in it, belongs to another user."""
    sb = make_sandbox()
    StateStore(sb.state_dir).ensure_folder()
    StateStore(sb.state_dir).save(RunState(run_id="keep", distro="x", family="sles"))
    sb.state_dir.chmod(0o755)
    if os.geteuid() == 0:
        for path in (sb.state_dir, *sb.state_dir.iterdir()):
            os.chown(path, OTHER_UID, OTHER_UID)
    return sb


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
    if os.geteuid() != 0:
        pytest.skip("needs root: the folder is given to another uid (CI is root)")
    probe = sb.state_dir / "probe"
    tried = subprocess.run([*UNPRIVILEGED, sys.executable, "-c", f"open({str(probe)!r}, 'w')"],
                           capture_output=True, text=True)  # fmt: skip
    if tried.returncode == 0 or "PermissionError" not in tried.stderr:
        probe.unlink(missing_ok=True)
        pytest.skip(f"cannot drop root's capabilities here: {tried.stderr.strip()[-200:]}")
    assert (sb.state_dir / "state.json").stat().st_uid == OTHER_UID
    before = (sb.state_dir / "state.json").read_bytes()
    done = _wizard(sb, *UNPRIVILEGED)
    _assert_one_sentence(done, sb)
    assert "Permission denied" in done.stderr
    assert (sb.state_dir / "state.json").read_bytes() == before
    assert sb.calls() == []
