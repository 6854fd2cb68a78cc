"""The machine the wizard configures, as the engine sees it.

Everything that touches the system goes through a Host so that tests can point it at a
sandbox: the filesystem root, the PATH used to find and run tools, and whether we are root.
Paths in the plan are the target system's paths (``/home/tmsadm``); ``Host.path`` maps them
under the root.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from checks.locales import command_locale

_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL", re.I)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Host:
    root: Path = Path("/")
    search_path: str = field(default_factory=lambda: os.environ.get("PATH", DEFAULT_PATH))
    euid: int = field(default_factory=os.geteuid)
    login: str = field(default_factory=lambda: _current_login())
    # A real system's root (one made by debootstrap): commands run inside it with chroot(8),
    # as on that system, and find its own tools on its own PATH.
    chroot: bool = False

    @property
    def sandboxed(self) -> bool:
        return self.root != Path("/")

    def path(self, target_path: str | Path) -> Path:
        """The local path of a path on the target system."""
        p = Path(target_path)
        if not p.is_absolute() or not self.sandboxed:
            return p
        return self.root / str(p).lstrip("/")  # "//x" is absolute too (POSIX leaves it open)

    def unmap(self, local: Path) -> str:
        """The target system's name for a local path under the root."""
        if not self.sandboxed:
            return str(local)
        try:
            return "/" + str(Path(local).relative_to(self.root))
        except ValueError:
            return str(local)

    def which(self, name: str, extra_dirs: tuple[str, ...] = ()) -> str | None:
        own = self.search_path.split(os.pathsep)
        mapped = [*extra_dirs, *own] if self.chroot else list(extra_dirs)  # chroot: all inside
        dirs = [str(self.path(d)) for d in mapped] + ([] if self.chroot else own)
        return shutil.which(name, path=os.pathsep.join(dirs))

    @property
    def locale(self) -> str:
        """The locale commands run in: C.UTF-8 where the system has it, else C."""
        return command_locale(self.root)

    def child_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for commands: ours, minus anything secret, with our PATH."""
        env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
        env["PATH"] = self.search_path
        # Tools' messages are parsed, so keep them in one language the system has.
        env["LC_ALL"] = self.locale
        if self.sandboxed:
            # Stand-in tools in a sandbox need to know where the target's files are.
            env["EMLSETUP_ROOT"] = str(self.root)
        if extra:
            env.update(extra)
        return env


def _current_login() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())
