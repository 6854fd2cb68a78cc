"""The offline install that the HXE VM needs: every runtime dependency is a pure-Python or
manylinux2014 x86_64 wheel for CPython 3.10 to 3.13, and a wheelhouse installs with no index.

Needs the package index (as CI has) to build the wheelhouse; the install itself is offline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# manylinux2014 is glibc 2.17 (RHEL 7, SLES 12); newer manylinux tags would break those hosts.
ALLOWED = re.compile(r"-(py3-none-any|cp3\d+-(abi3|cp3\d+)-manylinux(2014|_2_(1[0-7]|[5-9]))"
                     r"_x86_64(\.manylinux\S*)?)\.whl$")


def pip(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def own_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = pip("wheel", "--no-deps", "-q", str(REPO), "-w", str(out))
    assert done.returncode == 0, done.stderr
    return next(out.glob("emlsetup-*.whl"))


def wheelhouse(own_wheel: Path, dest: Path, python: str) -> list[str]:
    done = pip("download", "-q", "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
               "--implementation", "cp", "--python-version", python, "-d", str(dest),
               str(own_wheel))
    assert done.returncode == 0, f"no binary-only resolution for CPython {python}: {done.stderr}"
    return sorted(p.name for p in dest.glob("*.whl"))


@pytest.mark.parametrize("python", ["3.10", "3.11", "3.12", "3.13"])
def test_every_dependency_is_a_wheel_the_hxe_vm_can_use(own_wheel: Path, tmp_path: Path,
                                                        python: str) -> None:
    names = wheelhouse(own_wheel, tmp_path, python)
    wrong = [n for n in names if not ALLOWED.search(n)]
    assert not wrong, f"needs a newer glibc or a build from source on CPython {python}: {wrong}"
    for needed in ("hdbcli", "textual", "pydantic_core", "sh", "distro", "tomli", "grpcio",
                   "protobuf", "markdown_it_py"):
        assert any(n.startswith(needed) for n in names), needed


def test_the_wheelhouse_installs_and_starts_with_no_index(own_wheel: Path, tmp_path: Path) -> None:
    house = tmp_path / "wheelhouse"
    wheelhouse(own_wheel, house, f"{sys.version_info.major}.{sys.version_info.minor}")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-index",
                           "--find-links", str(house), "emlsetup"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    helped = subprocess.run([str(venv / "bin" / "emlsetup"), "--help"], capture_output=True,
                            text=True, cwd=tmp_path)
    assert helped.returncode == 0 and "plan" in helped.stdout
    planned = subprocess.run([str(venv / "bin" / "emlsetup"), "plan", "--distro", "sles",
                              "--state-dir", str(tmp_path / "state")], capture_output=True,
                             text=True, cwd=tmp_path)
    assert planned.returncode == 0 and "bazel build -c opt" in planned.stdout, planned.stderr
