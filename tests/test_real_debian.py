"""One real system end to end: a Debian 12 root built from Debian's own packages
(debootstrap, from the mirror this machine's apt already uses), and `emlsetup run --yes
--root ROOT --chroot` doing steps 2-4 in it for real: useradd, visudo, apt-get, a Python 3
venv, pip installing grpcio, TensorFlow and the serving API from PyPI, the hello check. A
second run finds everything done and changes nothing.

Needs root (debootstrap, chroot, mount); skipped otherwise, saying so. CI runs as root and
.ci/run installs debootstrap. About 4 minutes and 3 GB of temporary disk; the root is
removed afterwards even when a test fails (/proc is unmounted first).
See /work/shared/notes/real-debian-root.md for the measurements this lane is built on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SUITE = "bookworm"  # Debian 12: the apt-py3 route (steps/routes.py)
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: debootstrap, chroot and mounting /proc (CI is root)"
)


def host_mirror() -> str:
    """The Debian mirror of this machine's apt sources (deb822 .sources or sources.list)."""
    texts = [p.read_text() for p in Path("/etc/apt/sources.list.d").glob("*.sources")]
    for text in texts:
        for stanza in text.split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            if uris and "security" not in uris.group(1) and "/debian" in uris.group(1):
                return uris.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        m = re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s", legacy.read_text(), re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def _sh(*argv: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def debian_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if shutil.which("debootstrap") is None:
        pytest.fail("debootstrap is missing: apt-get update && apt-get install -y debootstrap")
    base = tmp_path_factory.mktemp("real-debian")
    root = base / "root"
    proc = root / "proc"
    try:
        made = _sh(
            "debootstrap", "--variant=minbase", "--include=sudo", SUITE, str(root), host_mirror()
        )
        assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
        # What a networked server has: a resolver, its host name, and (here) the CA that this
        # machine's pip trusts, given to the root's pip the way an admin would (/etc/pip.conf).
        for name in ("etc/resolv.conf", "etc/hosts"):
            if Path("/", name).exists():
                shutil.copy(Path("/", name), root / name)
        bundle = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
        if bundle.exists():
            shutil.copy(bundle, root / "etc/pip-host-ca.crt")
            (root / "etc/pip.conf").write_text("[global]\ncert = /etc/pip-host-ca.crt\n")
        mounted = _sh("mount", "-t", "proc", "proc", str(proc))
        assert mounted.returncode == 0, mounted.stderr
        yield root
    finally:
        if proc.is_dir() and os.path.ismount(proc):
            _sh("umount", str(proc)).returncode == 0 or _sh("umount", "-l", str(proc))
        if not os.path.ismount(proc):  # never delete through a mounted /proc
            shutil.rmtree(base, ignore_errors=True)


def _emlsetup(root: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMLSETUP_")}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    argv = [sys.executable, "-m", "tui", "--root", str(root), "--chroot", "--state-dir"]
    return subprocess.run(
        [*argv, str(state), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800
    )


def _fingerprint(root: Path) -> dict[str, str]:
    """What a run changes on the system: users, sudo rules, packages, the venv."""
    files = ["etc/passwd", "etc/shadow", "etc/sudoers.d/tmsadm", "var/lib/dpkg/status"]
    out = {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in files}
    venv = root / "home/tmsadm/tms/lib"
    out["venv"] = "\n".join(sorted(p.name for p in venv.glob("python3*/site-packages/*")))
    return out


def test_steps_2_to_4_for_real_on_debian_12_then_a_second_run_changes_nothing(
    debian_root: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = _emlsetup(debian_root, state, "run", "--yes", "--from-step", "2", "--to-step", "4")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    passwd = (debian_root / "etc/passwd").read_text()
    assert re.search(r"^tmsadm:x:\d+:\d+:TensorFlow Administrator:/home/tmsadm:", passwd, re.M)
    rule = debian_root / "etc/sudoers.d/tmsadm"
    assert (
        rule.read_text() == "tmsadm ALL=(ALL) NOPASSWD: ALL\n"
        and rule.stat().st_mode & 0o777 == 0o440
    )
    # The venv belongs to tmsadm and TensorFlow, gRPC and the serving API import there.
    hello = _sh(
        "chroot", str(debian_root), "sudo", "-n", "-u", "tmsadm", "--",
        "/home/tmsadm/tms/bin/python", "-c",
        "import grpc, tensorflow as tf; from tensorflow_serving.apis import model_service_pb2;"
        " print(tf.constant('Hello, TensorFlow!').numpy().decode(), tf.__version__)",
        timeout=300,
    )  # fmt: skip
    assert hello.returncode == 0, hello.stderr[-2000:]
    assert hello.stdout.startswith("Hello, TensorFlow! 2.")
    assert "TensorFlow says hello" in first.stdout
    before = _fingerprint(debian_root)

    again = _emlsetup(debian_root, state, "run", "--yes", "--from-step", "2", "--to-step", "4")
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
    assert "found done on the system" in again.stdout
    assert "$ apt-get" not in again.stdout and "$ useradd" not in again.stdout
    status = json.loads(_emlsetup(debian_root, state, "status", "--json").stdout)
    assert status["changed_actions"] == [] and status["steps_done"] == [2, 3, 4], status
    assert _fingerprint(debian_root) == before
