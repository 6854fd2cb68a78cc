"""What every stand-in executable shares: recording its call, finding the target's files
under the sandbox root, injected failures, and writing more stand-ins (a package "installs"
gcc by putting a fake gcc into the sandbox's /usr/bin).

Environment contract (set by tests/sandbox.py; the engine passes EMLSETUP_ROOT itself):
- EMLSETUP_ROOT: the sandbox's filesystem root; absolute target paths live under it.
- FAKE_CALLS: a JSON-lines file; every call appends {tool, argv, user, cwd, pid}.
- FAKE_USER: who the command runs as (set by the fake sudo; default: the login).
- FAKE_FAIL: comma-separated "tool" or "tool:word"; that call fails with exit 1.
- FAKE_OFFLINE: "1" makes network tools fail as without a network.
- FAKE_PIDS: a folder where long-lived fakes (the model server) leave their pid.
- FAKE_PROC_SCAN: a file of strings, one a line (the test's passwords); at every call the
  stand-in reads /proc/*/cmdline and /proc/*/environ of every process of the machine and
  records where one of them appears (pid, program, which file; never the string).
- FAKE_HOST_ADDRESS: the sandboxed host's own address for servers it starts (several hosts
  on one machine each get a loopback address, as separate machines have their own).
- FAKE_EVENTS: a FIFO; every call, and the middle and end of long ones, write a line to it
  (the kill campaign kills the wizard at such an event instead of at a random time).
- FAKE_CLONE_S: how long a `git clone` takes (default 0): .git first, the rest later.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import sys
from pathlib import Path

FAKES_DIR = Path(__file__).resolve().parent


def root() -> Path:
    return Path(os.environ.get("EMLSETUP_ROOT", "/"))


def local(target: str) -> Path:
    """A target path's place in the sandbox (relative paths stay relative)."""
    p = Path(target)
    if not p.is_absolute():
        return p
    r = root()
    try:
        p.relative_to(r)
        return p  # already local
    except ValueError:
        return r / p.relative_to("/")


def user() -> str:
    return os.environ.get("FAKE_USER") or getpass.getuser()


def event(text: str) -> None:
    """One line to the FAKE_EVENTS FIFO, never blocking: no reader, or a full pipe, and the
    event is dropped (the campaign reads it only while it waits for a kill point)."""
    fifo = os.environ.get("FAKE_EVENTS")
    if not fifo:
        return
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        os.write(fd, (text.replace("\n", " ")[:200] + "\n").encode())  # atomic: < PIPE_BUF
    except OSError:
        pass
    finally:
        os.close(fd)


def record(tool: str, argv: list[str]) -> None:
    event(f"tool {tool} {' '.join(argv[:3])}")
    calls = os.environ.get("FAKE_CALLS")
    if not calls:
        return
    entry = {
        "tool": tool,
        "argv": argv,
        "user": user(),
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "path": os.environ.get("PATH", ""),
        "lc_all": os.environ.get("LC_ALL"),  # the locale the wizard chose for the system
        # Names only: a test proves no password variable reached a tool.
        "secret_env": sorted(k for k in os.environ if "PASSWORD" in k.upper()),
    }
    if os.environ.get("FAKE_PROC_SCAN"):
        entry["proc_scan"] = proc_scan(Path(os.environ["FAKE_PROC_SCAN"]))
    with open(calls, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # concurrent checks record at the same time
        fh.write(json.dumps(entry) + "\n")


def proc_scan(strings_file: Path) -> dict[str, list[str]]:
    """Where the strings are on the machine's process list right now, and which emlsetup
    commands were running (so a test knows what each scan saw)."""
    wanted = [x.encode() for x in strings_file.read_text().splitlines() if x]
    found: list[str] = []
    emlsetup: list[str] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:  # gone, or a kernel thread
            continue
        words = cmdline.split(b"\0")
        if any(w.endswith(b"/emlsetup") for w in words[:2]):
            emlsetup.append(" ".join(w.decode(errors="replace") for w in words[2:] if w))
        for name, data in (("cmdline", cmdline), ("environ", environ)):
            if any(w in data for w in wanted):
                found.append(f"{proc.name} {words[0].decode(errors='replace')} {name}")
    return {"found": found, "emlsetup": emlsetup}


def failing(tool: str, argv: list[str]) -> bool:
    for rule in filter(None, os.environ.get("FAKE_FAIL", "").split(",")):
        name, _, word = rule.partition(":")
        if name == tool and (not word or word in argv):
            return True
    return False


def offline() -> bool:
    return os.environ.get("FAKE_OFFLINE") == "1"


def say(text: str) -> None:
    print(text, flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def wrapper_text(tool: str, env: dict[str, str] | None = None) -> str:
    """A tiny executable that runs the stand-in ``tool`` with this Python."""
    preset = "".join(f"os.environ.setdefault({k!r}, {v!r})\n" for k, v in (env or {}).items())
    return (
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"{preset}"
        f"sys.path.insert(0, {str(FAKES_DIR)!r})\n"
        "from fakelib import main\n"
        f"main({tool!r})\n"
    )


def install_tool(
    folder: Path, tool: str, env: dict[str, str] | None = None, filename: str | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or tool)
    path.write_text(wrapper_text(tool, env))
    path.chmod(0o755)
    return path


def packages_file() -> Path:
    return local("/var/lib/fake-packages")


def installed_packages() -> set[str]:
    f = packages_file()
    return set(f.read_text().split()) if f.exists() else set()


def install_packages(names: list[str]) -> None:
    from fakes_packages import commands_of  # the package -> commands table

    have = installed_packages()
    f = packages_file()
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text("".join(f"{n}\n" for n in sorted(have | set(names))))
    for name in names:
        for cmd in commands_of(name):
            install_tool(local("/usr/bin"), cmd)


def main(tool: str) -> None:
    sys.path.insert(0, str(FAKES_DIR))
    from fakes_build import TOOLS as build_tools
    from fakes_files import TOOLS as file_tools
    from fakes_packages import TOOLS as package_tools
    from fakes_system import TOOLS as system_tools

    argv = sys.argv[1:]
    record(tool, argv)
    tools = {**system_tools, **file_tools, **package_tools, **build_tools}
    if failing(tool, argv):
        if tool == "visudo":
            err(f"{argv[-1] if argv else 'sudoers'}:1:5: syntax error")
            err("tmsadm ALL=(ALL NOPASSWD: ALL")
            sys.exit(1)
        err(f"{tool}: error: simulated failure of '{' '.join([tool, *argv])}'")
        sys.exit(1)
    try:
        code = tools[tool](argv)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
