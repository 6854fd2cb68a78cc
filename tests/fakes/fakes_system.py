"""Stand-ins for the system tools: sudo, env, useradd, visudo, cp, hxe_gc.sh, systemctl
(rm, rmdir, chmod and userdel: fakes_files.py)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fakelib import err, local, say

_RULE = re.compile(r"^\s*(#.*)?$|^\S+\s+\S+\s*=\s*\([^)]*\)\s*(NOPASSWD:\s*)?\S.*$|^Defaults")


def _home_of(name: str) -> str:
    for line in local("/etc/passwd").read_text().splitlines():
        f = line.split(":")
        if f[0] == name and len(f) >= 6:
            return f[5]
    return "/root" if name == "root" else f"/home/{name}"


def _exec(argv: list[str], env: dict[str, str]) -> int:
    """Runs argv as sudo would after its own options: `env` handled here, absolute paths
    looked up under the sandbox root, everything else on PATH."""
    while argv and argv[0] == "env":
        argv = argv[1:]
        while argv and "=" in argv[0] and not argv[0].startswith("-"):
            key, _, value = argv.pop(0).partition("=")
            env[key] = value
    if not argv:
        return 0
    prog = argv[0]
    if prog.startswith("/"):
        prog = str(local(prog))
    else:
        found = shutil.which(prog, path=env.get("PATH", ""))
        if found is None:
            err(f"sudo: {prog}: command not found")
            return 1
        prog = found
    try:
        os.execve(prog, [argv[0], *argv[1:]], env)
    except OSError as exc:
        err(f"sudo: unable to execute {prog}: {exc.strerror}")
        return 1


def _passwd_field(name: str, index: int, default: str) -> str:
    for line in local("/etc/passwd").read_text().splitlines():
        f = line.split(":")
        if f[0] == name and len(f) > index:
            return f[index]
    return default


def _login_env(target: str) -> dict[str, str]:
    """`sudo -i` (sudo(8), -i/--login): the target user's login shell runs the command, with
    an environment "similar to the one a user would receive at log in" (env_reset: only
    TERM and sudo's own variables survive; the shell's profile sets the rest) and in the
    user's home. The fakes' own variables are kept so the stand-ins still find the sandbox;
    FAKE_LOGIN tells them a login profile was read (for <sid>adm it puts HANA's tools,
    hdbsql among them, on PATH)."""
    kept = ("PATH", "TERM", "EMLSETUP_ROOT", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k in kept or k.startswith("FAKE_")}
    env.update(
        HOME=str(local(_home_of(target))),
        SHELL=_passwd_field(target, 6, "/bin/sh"),
        FAKE_LOGIN="1",
    )
    return env


def sudo(argv: list[str]) -> int:
    target, login_home, login, i = "root", False, False, 0
    while i < len(argv) and argv[i].startswith("-"):
        opt = argv[i]
        if opt == "--":
            i += 1
            break
        if opt == "-u":
            target = argv[i + 1]
            i += 1
        elif opt == "-H":
            login_home = True
        elif opt == "-i":
            login = True
        i += 1
    env = _login_env(target) if login else dict(os.environ)  # env_keep for the fakes' own
    if not login:
        env.pop("FAKE_LOGIN", None)  # a plain sudo reads no login profile
    env["FAKE_USER"] = target
    env["USER"] = env["LOGNAME"] = target
    if login_home or target == "root":
        env["HOME"] = str(local(_home_of(target)))
    if login:
        os.chdir(env["HOME"])
    return _exec(argv[i:], env)


def env_tool(argv: list[str]) -> int:
    return _exec(["env", *argv], dict(os.environ))


def _login_defs() -> dict[str, int]:
    """The numeric settings of the target's /etc/login.defs (KEY VALUE lines, # comments)."""
    path = local("/etc/login.defs")
    values: dict[str, int] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) == 2 and words[1].isdigit():
                values[words[0]] = int(words[1])
    return values


def new_uid(used: set[int], system: bool) -> int | None:
    """The uid useradd hands out, as shadow-utils' find_new_uid() chooses it
    (github.com/shadow-maint/shadow, libmisc/find_new_uid.c): a user gets one more than the
    highest uid in use within [UID_MIN, UID_MAX] (login.defs; defaults 1000 and 60000), or
    UID_MIN when none is, and the lowest free one in the range when that is past UID_MAX; a
    system user (-r) gets the highest free uid in [SYS_UID_MIN, SYS_UID_MAX] (defaults 101 and
    UID_MIN - 1), counting down. None: no uid left ("Can't get unique UID"). uid 0 is never
    in either range: useradd never makes a second root account."""
    defs = _login_defs()
    uid_min = defs.get("UID_MIN", 1000)
    if system:
        low, high = defs.get("SYS_UID_MIN", 101), defs.get("SYS_UID_MAX", uid_min - 1)
        return next((u for u in range(high, low - 1, -1) if u not in used), None)
    low, high = uid_min, defs.get("UID_MAX", 60000)
    above = [u for u in used if low <= u <= high]
    candidate = max(above) + 1 if above else low
    if candidate <= high:
        return candidate
    return next((u for u in range(low, high + 1) if u not in used), None)


def useradd(argv: list[str]) -> int:
    home, make_home, system, i = None, False, False, 0
    while i < len(argv) - 1:
        if argv[i] == "-d":
            home = argv[i + 1]
            i += 1
        elif argv[i] == "-m":
            make_home = True
        elif argv[i] in ("-r", "--system"):
            system = True
        elif argv[i] == "-c":
            i += 1
        i += 1
    name = argv[-1]
    passwd = local("/etc/passwd")
    entries = [line.split(":") for line in passwd.read_text().splitlines() if line.strip()]
    if any(f[0] == name for f in entries):
        err(f"useradd: user '{name}' already exists")
        return 9
    home = home or f"/home/{name}"
    if os.geteuid() == 0:
        used = {int(f[2]) for f in entries if len(f) > 2 and f[2].isdigit()}
        uid = new_uid(used, system)
        if uid is None:
            err("useradd: can't get unique UID (no more available UIDs)")
            return 4
        gid = uid  # USERGROUPS_ENAB: a group of the user's own, with the same number
    else:
        # A tester who is not root cannot give files away: the new user gets the tester's
        # uid (never 0 here), so "owned by the user" is still checkable.
        uid, gid = os.getuid(), os.getgid()
    with passwd.open("a") as fh:
        fh.write(f"{name}:x:{uid}:{gid}:TensorFlow Administrator:{home}:/bin/bash\n")
    with local("/etc/shadow").open("a") as fh:
        fh.write(f"{name}:!:19000:0:99999:7:::\n")
    if make_home:
        skel, dest = local("/etc/skel"), local(home)
        if skel.is_dir():
            shutil.copytree(skel, dest, dirs_exist_ok=True)
        dest.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # useradd -m gives the new home and its files to the user
            for path in [dest, *dest.rglob("*")]:
                os.lchown(path, uid, gid)
    return 0


def visudo(argv: list[str]) -> int:
    path = argv[-1]
    text = Path(path).read_text() if os.path.exists(path) else ""
    for n, line in enumerate(text.splitlines(), 1):
        if not _RULE.match(line):
            err(f"{path}:{n}:1: syntax error")
            err(line)
            return 1
    say(f"{path}: parsed OK")
    return 0


def cp(argv: list[str]) -> int:
    src, dest = (a for a in argv if not a.startswith("-"))
    try:
        shutil.copy(local(src), local(dest))
    except OSError as exc:
        err(f"cp: cannot stat '{src}': {exc.strerror}")
        return 1
    return 0


PROMPT = "System database user (SYSTEM) password: "
# The sandbox may hold the SHA-256 of the SYSTEM password here (never the password itself).
PASSWORD_HASH = "/usr/sap/HXE/home/bin/.system-password.sha256"


def hxe_gc(argv: list[str]) -> int:
    """HXE's memory management script, as SAP documents it: run by hxeadm from its login
    shell (`sudo su -l hxeadm`, `cd /usr/sap/HXE/home/bin`, `./hxe_gc.sh`), it prompts
    "System database user (SYSTEM) password" and runs its clean-up as SYSTEM; the command
    prompt returns when the clean-up is finished.
    Sources: sap-tutorials/Tutorials tutorials/hxe-ua-eml-vm/hxe-ua-eml-vm.md ("When
    prompted for System database user (SYSTEM) password, enter the ... master password"),
    tutorials/hxe-rhel-server-core-local/hxe-rhel-server-core-local.md (Best Practice: Run
    the Memory Management Script, `sudo su -l hxeadm`), and SAP's EML TensorFlow tutorial
    (step 1). Its SQL goes through hdbsql, which only hxeadm's login profile puts on PATH.

    The answer is read from standard input; at end of input (no answer: the wizard ran it
    with stdin closed) it fails, as does a wrong password (hdbsql's error 10)."""
    import hashlib

    if os.environ.get("FAKE_LOGIN") != "1":
        err("hxe_gc.sh: line 12: hdbsql: command not found")
        return 127
    sys.stderr.write(PROMPT)
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer:
        err("")
        err("hxe_gc.sh: no password given (end of input)")
        return 1
    password = answer.rstrip("\n")
    expected = local(PASSWORD_HASH)
    wrong = not password or (
        expected.exists()
        and hashlib.sha256(password.encode()).hexdigest() != expected.read_text().strip()
    )
    err("")
    if wrong:
        err("* 10: authentication failed SQLSTATE: 28000")
        return 1
    say("Cleaning up SAP HANA, express edition memory ...")
    say("Done: 1.2 GB of memory released")
    return 0


def _units() -> Path:
    return local("/var/lib/fake-systemd")


def _unit_state(unit: str) -> dict[str, object]:
    f = _units() / f"{unit}.json"
    return json.loads(f.read_text()) if f.exists() else {}


def _save_state(unit: str, state: dict[str, object]) -> None:
    _units().mkdir(parents=True, exist_ok=True)
    (_units() / f"{unit}.json").write_text(json.dumps(state))


def _alive(pid: object) -> bool:
    try:
        os.kill(int(pid), 0)  # type: ignore[call-overload]
    except (OSError, TypeError, ValueError):
        return False
    return True


def systemctl(argv: list[str]) -> int:
    """systemctl as the wizard uses it (systemctl(1)): daemon-reload; enable / is-enabled
    (a symlink in multi-user.target.wants, "Created symlink ..."); restart (stops the unit's
    process and starts ExecStart as User=); show -p KEY... printing KEY=VALUE lines, with
    NeedDaemonReload=yes while a unit file changed since the last daemon-reload and
    ActiveEnterTimestamp like "Sun 2026-11-29 13:44:23 UTC"; disable [--now] removes the
    symlink ('Removed "..."'), --now also stops it, and a unit without its file is "Failed to
    disable unit: Unit file X does not exist." (exit 1)."""
    words = [a for a in argv if not a.startswith("-")]
    cmd, unit = (words[0] if words else ""), (words[-1] if len(words) > 1 else "")
    path = local(f"/etc/systemd/system/{unit}")
    wants = local("/etc/systemd/system/multi-user.target.wants") / unit
    state = _unit_state(unit) if unit else {}
    if cmd == "daemon-reload":
        _units().mkdir(parents=True, exist_ok=True)
        (_units() / "reloaded").write_text(str(time.time()))
        return 0
    if cmd in ("enable", "restart") and not path.exists():
        err(f"Failed to {cmd} unit: Unit {unit} not found.")
        return 5 if cmd == "restart" else 1
    if cmd == "enable":
        wants.parent.mkdir(parents=True, exist_ok=True)
        if not wants.exists():
            wants.symlink_to(f"/etc/systemd/system/{unit}")
            say(f"Created symlink {wants} -> /etc/systemd/system/{unit}.")
        return 0
    if cmd == "disable":
        if not path.exists():
            err(f"Failed to disable unit: Unit file {unit} does not exist.")
            return 1
        if wants.is_symlink():
            wants.unlink()
            say(f'Removed "{wants}".')
        if "--now" in argv and _alive(state.get("pid")):
            os.kill(int(state["pid"]), signal.SIGTERM)  # type: ignore[call-overload]
            _save_state(unit, {})
        return 0
    if cmd == "is-enabled":
        say("enabled" if wants.is_symlink() else "disabled")
        return 0 if wants.is_symlink() else 1
    if cmd == "restart":
        if _alive(state.get("pid")):
            os.kill(int(state["pid"]), signal.SIGTERM)  # type: ignore[call-overload]
        text = path.read_text()
        exec_start = shlex.split(re.search(r"^ExecStart=(.*)$", text, re.M).group(1))  # type: ignore[union-attr]
        user = re.search(r"^User=(\S+)", text, re.M)
        env = dict(os.environ, FAKE_USER=user.group(1) if user else "root")
        exec_start[0] = str(local(exec_start[0]))
        proc = subprocess.Popen(
            exec_start, env=env, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _save_state(unit, {"pid": proc.pid, "started": time.time()})
        return 0
    if cmd == "show":
        props = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-p"]
        reloaded = _units() / "reloaded"
        stale = path.exists() and (
            not reloaded.exists() or path.stat().st_mtime > float(reloaded.read_text())
        )
        active = _alive(state.get("pid"))
        started = float(state.get("started", 0))  # type: ignore[arg-type]
        values = {
            "NeedDaemonReload": "yes" if stale else "no",
            "ActiveState": "active" if active else "inactive",
            "ActiveEnterTimestamp": time.strftime("%a %Y-%m-%d %H:%M:%S UTC", time.gmtime(started))
            if active
            else "",
        }
        for prop in props:
            say(f"{prop}={values.get(prop, '')}")
        return 0
    return 0


TOOLS: dict[str, Callable[[list[str]], int]] = {
    "sudo": sudo,
    "env": env_tool,
    "useradd": useradd,
    "visudo": visudo,
    "cp": cp,
    "hxe_gc.sh": hxe_gc,
    "systemctl": systemctl,
}

if __name__ == "__main__":
    sys.exit(TOOLS[sys.argv[1]](sys.argv[2:]))
