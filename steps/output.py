"""What to show of a command's output when it fails (pure)."""

from __future__ import annotations

import re

_NOISE = re.compile(r"^\s*$|^\s*[-=*#.]{3,}\s*$|^\s*\[\s*[\d,]+\s*/\s*[\d,]+\s*\]")
_ERRORISH = re.compile(r"error|fatal|failed|denied|not found|cannot|could not|unable", re.I)
_SECRET = re.compile(r"(?i)(password|passwd|pwd|secret|token|apikey|api_key)(\s*[=:]\s*|\s+)(\S+)")


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


def redact(line: str) -> str:
    """Anything that looks like a credential in captured output is hidden in reports."""
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", line)


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
