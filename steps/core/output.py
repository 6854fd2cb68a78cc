"""What to show of a command's output when it fails (pure)."""

from __future__ import annotations

import re

from steps.core.buildenv import strip_url_credentials

_NOISE = re.compile(r"^\s*$|^\s*[-=*#.]{3,}\s*$|^\s*\[\s*[\d,]+\s*/\s*[\d,]+\s*\]")
_ERRORISH = re.compile(r"error|fatal|failed|denied|not found|cannot|could not|unable", re.I)
# A credential is a keyword then "=" or ":" and its value (password=x, DB_PASSWORD: x), or an
# option and its value (--password x). A keyword inside a word or followed by a plain space
# is not one: sudoers' `NOPASSWD: ALL` and `sudo passwd tmsadm` are the admin's rules and
# user names, and reports keep them.
_KEYWORD = r"(?:password|passwd|pwd|secret|token|apikey|api_key)"
_SECRET = re.compile(rf"(?i)(?<![A-Za-z0-9])({_KEYWORD})(\s*[=:]\s*)(\S+)")
_OPTION = re.compile(rf"(?i)(?<!\S)(--?{_KEYWORD})(\s+)(\S+)")


def meaningful_tail(lines: list[str], limit: int = 8) -> list[str]:
    """The last lines that say something: blank lines and progress counters dropped, and an
    error line from further up kept when the very end is only a summary."""
    kept = [redact(x) for x in lines if not _NOISE.match(x)]
    tail = kept[-limit:]
    if not any(_ERRORISH.search(x) for x in tail):
        earlier = [x for x in kept[:-limit] if _ERRORISH.search(x)]
        if earlier:
            tail = [earlier[-1], *tail[-(limit - 1) :]]
    return tail


def error_line(lines: list[str]) -> str:
    """The one line a failure is quoted by: the last that says what went wrong, not the
    last printed (Bazel's installer ends "unzip not found, ..." with "dependencies of Bazel.")."""
    kept = [x.strip() for x in lines if not _NOISE.match(x)][-8:]
    errorish = [x for x in kept if _ERRORISH.search(x)]
    return (errorish or kept or [""])[-1]


def redact(line: str) -> str:
    """Anything that looks like a credential in captured output is hidden in reports."""

    def hide(m: re.Match[str]) -> str:
        return f"{m.group(1)}{m.group(2)}[redacted]"

    line = strip_url_credentials(line)
    return _OPTION.sub(hide, _SECRET.sub(hide, line))


class Tail:
    """The end of a stream of output blocks, kept undecoded: hours of build log cost
    ``size`` bytes, and only what is shown is ever decoded and split into lines."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data = b""
        self.cut = False  # older output was dropped: the first line kept may be partial

    def add(self, data: bytes) -> None:
        self.cut = self.cut or len(self.data) + len(data) > self.size
        kept = data if len(data) >= self.size else self.data + data
        self.data = kept[-self.size :]

    def lines(self, limit: int | None = None) -> list[str]:
        lines = self.data.decode(errors="replace").splitlines()
        if self.cut:
            lines = lines[1:]
        return lines[-limit:] if limit else lines
