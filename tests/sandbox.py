"""A whole target system in a temporary folder: a filesystem root with the distro's files,
stand-in executables first (and only) on PATH, and a record of every call they received.

The wizard runs against it for real (`--root`, `--state-dir`, PATH); nothing outside the
folder is touched. Long-lived stand-ins (model servers, replayed builds) are killed by
``Sandbox.cleanup``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.fakelib import install_tool
from tests.loopback import Listener
from tests.os_releases import FAMILY_TOOLS, OS_RELEASE, OTHER_FILES, family_of

REPO = Path(__file__).resolve().parent.parent
BASE_TOOLS = ["sudo", "env", "useradd", "userdel", "visudo", "chmod", "rm", "rmdir", "cp", "curl"]
CPU_FLAGS = "fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma"
PASSWD = """\
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65533:nobody:/var/lib/nobody:/bin/bash
hxeadm:x:1001:79:SAP HANA(R) hxe Administrator:/usr/sap/HXE/home:/bin/sh
"""
SHADOW = "root:$6$abc$def:17000::::::\nhxeadm:$6$x$y:17000::::::\n"
SUDOERS = "Defaults always_set_home\nroot ALL=(ALL) ALL\n#includedir /etc/sudoers.d\n"
SKEL_PROFILE = "# Sample .profile for SuSE Linux\ntest -z \"$PROFILEREAD\" && . /etc/profile\n"


# The stand-in build writes kilobytes: the preflight's disk needs are the sandbox's, not a
# real TensorFlow build's (tests that check the real needs set them back).
SMALL_DISK_NEEDS = {
    f"EMLSETUP_PREFLIGHT__{n}_GB": "0.01"
    for n in ("CHECKOUT", "BAZEL_OUTPUT", "VENV", "PACKAGES")
}


@dataclass
class Sandbox:
    path: Path
    distro: str
    # Where the preflight's download hosts are knocked on: never the internet.
    hosts: Listener | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        return self.path / "root"

    @property
    def state_dir(self) -> Path:
        return self.path / "state"

    @property
    def fakebin(self) -> Path:
        return self.path / "fakebin"

    @property
    def family(self) -> str:
        return family_of(self.distro)

    @classmethod
    def create(
        cls,
        folder: Path,
        distro: str = "sles12sp2",
        *,
        cpu_flags: str = CPU_FLAGS,
        cpus: int = 2,
        mem_kb: int = 24 * 1024 * 1024,
        hxe: bool = True,
        omit: tuple[str, ...] = (),
        packages: tuple[str, ...] = (),
    ) -> Sandbox:
        sb = cls(folder, distro)
        r = sb.root
        for d in ("etc/sudoers.d", "etc/skel", "etc/zypp/repos.d", "home", "root", "usr/bin",
                  "var/lib", "proc", "tmp"):
            (r / d).mkdir(parents=True, exist_ok=True)
        if OS_RELEASE[distro]:
            (r / "etc/os-release").write_text(OS_RELEASE[distro])
        for rel, text in OTHER_FILES.get(distro, {}).items():
            (r / rel).write_text(text)
        (r / "etc/passwd").write_text(PASSWD)
        (r / "etc/shadow").write_text(SHADOW)
        (r / "etc/sudoers").write_text(SUDOERS)
        (r / "etc/skel/.profile").write_text(SKEL_PROFILE)
        (r / "proc/cpuinfo").write_text(
            "".join(f"processor\t: {n}\nflags\t\t: {cpu_flags}\n\n" for n in range(cpus))
        )
        (r / "proc/meminfo").write_text(f"MemTotal:       {mem_kb} kB\n")
        if sb.family == "debian":
            (r / "etc/apt/sources.list.d").mkdir(parents=True)
            (r / "usr/share/keyrings").mkdir(parents=True)  # debian-archive-keyring's folder
        if hxe:
            install_tool(r / "usr/sap/HXE/home/bin", "hxe_gc.sh")
        for tool in BASE_TOOLS + FAMILY_TOOLS[sb.family]:
            if tool not in omit:
                install_tool(sb.fakebin, tool)
        if packages:
            (r / "var/lib/fake-packages").write_text("".join(f"{p}\n" for p in packages))
        (sb.path / "pids").mkdir(exist_ok=True)
        (sb.path / "home-tester").mkdir(exist_ok=True)
        return sb

    def target(self, path: str) -> Path:
        """A path on the sandboxed system."""
        return self.root / path.lstrip("/")

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("EMLSETUP_", "FAKE_")) and k not in ("NO_COLOR",)
        }
        env.update(
            PATH=os.pathsep.join([str(self.fakebin), str(self.root / "usr/bin")]),
            HOME=str(self.path / "home-tester"),
            FAKE_CALLS=str(self.path / "calls.jsonl"),
            FAKE_PIDS=str(self.path / "pids"),
            FAKE_BAZEL_SPEED="200",
            # Each sandbox's model server gets a port of its own.
            EMLSETUP_SERVING__PORT=str(self.port),
            PYTHONDONTWRITEBYTECODE="1",
            # The build's environment is an allow-list: the stand-ins' own variables are added.
            EMLSETUP_BUILD_ENV="FAKE_*,PYTHONDONTWRITEBYTECODE",
            **SMALL_DISK_NEEDS,
        )
        if self.hosts is None:
            self.hosts = Listener()
        env["EMLSETUP_PREFLIGHT__HOSTS"] = f'{{ "*" = "{self.hosts.address}" }}'
        env.update(extra)
        return env

    @property
    def port(self) -> int:
        marker = self.path / "port"
        if not marker.exists():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                marker.write_text(str(s.getsockname()[1]))
        return int(marker.read_text())

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        f = self.path / "calls.jsonl"
        if not f.exists():
            return []
        entries = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
        return [e for e in entries if tool is None or e["tool"] == tool]

    def cli_argv(self, *args: str) -> list[str]:
        return [
            sys.executable, "-m", "tui", "--root", str(self.root),
            "--state-dir", str(self.state_dir), *args,
        ]  # fmt: skip

    def run_cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 180, input: str = ""
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.cli_argv(*args),
            cwd=REPO,
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )

    def cleanup(self) -> None:
        """Kills what the stand-ins left running: servers and builds started in the sandbox."""
        if self.hosts is not None:
            self.hosts.close()
            self.hosts = None
        marker = f"FAKE_CALLS={self.path / 'calls.jsonl'}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ValueError):
                continue
