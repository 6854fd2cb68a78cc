"""Stand-ins for the tools undo runs: rm, rmdir, chmod and userdel, as GNU coreutils and
shadow's userdel answer.

- rm (coreutils rm(1)): -r removes folders, -f ignores missing ones; a folder without -r is
  "rm: cannot remove 'X': Is a directory", a missing one without -f "... No such file or
  directory", exit 1. As a user other than root, an entry in a folder without write
  permission is "Permission denied": Bazel leaves such read-only folders in its output base
  (bazelbuild/bazel#15616, #17468: `rm -rf ~/.cache/bazel` "Permission denied").
- rmdir (rmdir(1)): "rmdir: failed to remove 'X': Directory not empty" / "No such file or
  directory", exit 1.
- chmod (chmod(1)): MODE then files; +x, u+w, -R.
- userdel (shadow-utils userdel(8)): exit 6 "user 'X' does not exist"; 8 while a process of
  the user runs ("user X is currently used by process N"); -r removes the home and the mail
  spool, "X mail spool (/var/mail/X) not found" being a warning only.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from fakelib import err, local, user


def _writable_by_user(folder: Path) -> bool:
    return user() == "root" or bool(folder.stat().st_mode & stat.S_IWUSR)


def _rmtree(path: Path, target: str) -> int:
    for dirpath, dirnames, filenames in os.walk(path, topdown=False):
        here = Path(dirpath)
        for name in [*filenames, *dirnames]:
            if not _writable_by_user(here):
                shown = f"{target}/{(here / name).relative_to(path)}"
                err(f"rm: cannot remove '{shown}': Permission denied")
                return 1
            entry = here / name
            if entry.is_dir() and not entry.is_symlink():
                entry.rmdir()
            else:
                entry.unlink()
    path.rmdir()
    return 0


def rm(argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv if a.startswith("-") and a != "--")
    recursive, force = "r" in flags or "R" in flags, "f" in flags
    code = 0
    for target in (a for a in argv if not a.startswith("-")):
        p = local(target)
        if p.is_dir() and not p.is_symlink():
            if not recursive:
                err(f"rm: cannot remove '{target}': Is a directory")
                code = 1
            elif _rmtree(p, target):
                code = 1
        elif p.exists() or p.is_symlink():
            p.unlink()
        elif not force:
            err(f"rm: cannot remove '{target}': No such file or directory")
            code = 1
    return code


def rmdir(argv: list[str]) -> int:
    code = 0
    for target in (a for a in argv if not a.startswith("-")):
        p = local(target)
        if not p.is_dir():
            err(f"rmdir: failed to remove '{target}': No such file or directory")
            code = 1
        elif any(p.iterdir()):
            err(f"rmdir: failed to remove '{target}': Directory not empty")
            code = 1
        else:
            p.rmdir()
    return code


def chmod(argv: list[str]) -> int:
    recursive = "-R" in argv
    words = [a for a in argv if a != "-R"]
    mode, targets = words[0], words[1:]
    bits = {"+x": 0o111, "u+w": 0o200, "+w": 0o200}.get(mode, 0)
    for target in targets:
        p = local(target)
        if not p.exists():
            err(f"chmod: cannot access '{target}': No such file or directory")
            return 1
        paths = [p]
        if recursive and p.is_dir():
            paths += [Path(d) / n for d, dirs, files in os.walk(p) for n in [*dirs, *files]]
        for each in paths:
            if not each.is_symlink():
                each.chmod(each.stat().st_mode | bits)
    return 0


def _uses(name: str) -> int | None:
    """A process of the sandbox running as ``name`` (the fake sudo marks them FAKE_USER)."""
    calls = os.environ.get("FAKE_CALLS", "")
    marks = (f"FAKE_USER={name}".encode(), f"FAKE_CALLS={calls}".encode())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(m in env for m in marks):
            return int(proc.name)
    return None


def userdel(argv: list[str]) -> int:
    name = argv[-1]
    passwd = local("/etc/passwd")
    lines = passwd.read_text().splitlines(keepends=True)
    entry = next((x.split(":") for x in lines if x.split(":")[0] == name), None)
    if entry is None:
        err(f"userdel: user '{name}' does not exist")
        return 6
    pid = _uses(name)
    if pid is not None:
        err(f"userdel: user {name} is currently used by process {pid}")
        return 8
    passwd.write_text("".join(x for x in lines if x.split(":")[0] != name))
    shadow = local("/etc/shadow")
    if shadow.exists():
        kept = [x for x in shadow.read_text().splitlines(keepends=True) if x.split(":")[0] != name]
        shadow.write_text("".join(kept))
    if "-r" in argv:
        spool = local(f"/var/mail/{name}")
        if spool.exists():
            spool.unlink()
        else:
            err(f"userdel: {name} mail spool (/var/mail/{name}) not found")
        home = local(entry[5])
        if home.is_dir():
            shutil.rmtree(home)
    return 0


TOOLS: dict[str, Callable[[list[str]], int]] = {
    "rm": rm,
    "rmdir": rmdir,
    "chmod": chmod,
    "userdel": userdel,
}
