"""The demo (tests/demo.py) tells the wizard its made-up HANA passwords through a file it
names in EMLSETUP_DEMO_NOTICE_FILE, so they are on screen where they are typed. The product
never has such a file: real passwords are never shown, stored or passed around."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

DEMO_NOTICE_VAR = "EMLSETUP_DEMO_NOTICE_FILE"


def demo_notice(environ: Mapping[str, str]) -> str:
    """The demo's one-line notice, or "" outside the demo (or when it cannot be read)."""
    name = environ.get(DEMO_NOTICE_VAR)
    if not name:
        return ""
    try:
        return Path(name).read_text(encoding="utf-8").strip().splitlines()[0][:200]
    except (OSError, IndexError, UnicodeDecodeError):
        return ""
