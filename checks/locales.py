"""Which locale the wizard's commands run in: one the target system has.

Tools' messages are parsed, so every command runs in one fixed locale. ``C.UTF-8`` exists on
Debian and Ubuntu (libc-bin ships /usr/lib/locale/C.UTF-8 or C.utf8), on RHEL 8+ (glibc's
minimal langpack, C.utf8) and SLES 15, but not on SLES 12 or RHEL 7: there every shell
warns "setlocale: LC_ALL: cannot change locale (C.UTF-8)" and programs fall back to C
anyway. ``C`` always exists, so it is the fallback.
"""

from __future__ import annotations

from pathlib import Path

UTF8 = "C.UTF-8"
PLAIN = "C"
# glibc normalises the codeset ("UTF-8" -> "utf8") and looks for either spelling here.
LOCALE_DIRS = ("usr/lib/locale", "usr/lib64/locale")
_NAMES = ("C.UTF-8", "C.utf8")


def command_locale(root: Path) -> str:
    """C.UTF-8 when the system under ``root`` has it compiled, else C."""
    for folder in LOCALE_DIRS:
        for name in _NAMES:
            if (root / folder / name / "LC_CTYPE").is_file():
                return UTF8
    return PLAIN
