"""Version text from tools' output, compared the way the tutorial means it (pure)."""

from __future__ import annotations

import re


def version_tuple(text: str) -> tuple[int, ...]:
    """'9.0.1' -> (9, 0, 1); trailing non-numeric parts ('0.11.1rc2') are ignored."""
    parts = []
    for piece in text.strip().split("."):
        m = re.match(r"\d+", piece)
        if not m:
            break
        parts.append(int(m.group()))
    return tuple(parts)


def extract_version(output: str, pattern: str) -> str | None:
    m = re.search(pattern, output, re.MULTILINE)
    return m.group("v") if m else None


def satisfies(measured: str, op: str, expected: str) -> bool:
    if op == "==":
        # Exactly: "0.11.1" is not "0.11.10" and not "0.11.1rc1".
        return measured.strip() == expected.strip()
    have, want = version_tuple(measured), version_tuple(expected)
    if not have:
        return False
    width = max(len(have), len(want))
    return have + (0,) * (width - len(have)) >= want + (0,) * (width - len(want))
