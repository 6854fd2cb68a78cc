"""Reading users, passwords and sudo rules from the system's own files (pure readers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


def parse_passwd(text: str) -> dict[str, PasswdEntry]:
    users = {}
    for line in text.splitlines():
        f = line.split(":")
        if len(f) >= 7 and f[2].isdigit() and f[3].isdigit():
            users[f[0]] = PasswdEntry(f[0], int(f[2]), int(f[3]), f[5])
    return users


def read_passwd(path: Path) -> dict[str, PasswdEntry]:
    return parse_passwd(path.read_text(errors="replace")) if path.exists() else {}


def password_state(shadow: Path, user: str) -> bool | None:
    """True: a usable password is set; False: none or locked; None: cannot read the file."""
    try:
        text = shadow.read_text(errors="replace")
    except FileNotFoundError:
        return False
    except PermissionError:
        return None
    for line in text.splitlines():
        f = line.split(":")
        if f[0] == user and len(f) > 1:
            return bool(f[1]) and not f[1].startswith(("!", "*"))
    return False


def _normal(line: str) -> str:
    return re.sub(r"\s+", " ", line.split("#", 1)[0]).strip()


def sudoers_files(main: Path, drop_in: Path) -> list[Path]:
    # sudo skips drop-ins whose names end in ~ or contain a dot (editor backups, .rpmsave).
    files = [main]
    if drop_in.is_dir():
        files += sorted(
            p
            for p in drop_in.iterdir()
            if p.is_file() and "." not in p.name and not p.name.endswith("~")
        )
    return files


def find_sudoers_rule(main: Path, drop_in: Path, rule: str) -> Path | None | bool:
    """The file that holds the rule; False when none does; None when they cannot be read."""
    wanted = _normal(rule)
    try:
        for path in sudoers_files(main, drop_in):
            if path.exists() and any(_normal(x) == wanted for x in path.read_text().splitlines()):
                return path
    except PermissionError:
        return None
    return False
