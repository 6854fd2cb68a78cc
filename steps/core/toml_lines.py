"""Where each key of a TOML file is: the line numbers tomllib does not give.

A small scanner that reads a file the way TOML 1.0 lays it out (toml.io/en/v1.0.0): table
headers (``[a.b]``, ``[[a]]``), keys (bare, "basic", 'literal', dotted), and values, which
it skips: strings of the four kinds (multi-line ones across lines), arrays across lines,
inline tables, whose keys it records too. It never raises: it is run on text tomllib has
already accepted, and on anything else it returns what it found so far.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}\n#]")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1
        self.found: dict[str, int] = {}

    # -- characters ---------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def advance(self, n: int = 1) -> None:
        self.line += self.text.count("\n", self.pos, self.pos + n)
        self.pos += n

    def blanks(self, newlines: bool = False) -> None:
        """Spaces, tabs and comments; line ends too when ``newlines``."""
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in " \t\r" or (newlines and c == "\n"):
                self.advance()
            elif c == "#":
                end = self.text.find("\n", self.pos)
                self.advance((len(self.text) if end < 0 else end) - self.pos)
            else:
                return

    # -- keys ---------------------------------------------------------------------------
    def key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.blanks()
            c = self.peek()
            if c in ('"', "'"):
                parts.append(self.string())
            else:
                m = _BARE.match(self.text, self.pos)
                if m is None:
                    return parts
                parts.append(m.group())
                self.advance(m.end() - self.pos)
            self.blanks()
            if self.peek() != ".":
                return parts
            self.advance()

    def string(self) -> str:
        """A string at pos, consumed; its text (escapes kept as written)."""
        quote = self.peek()
        if self.peek(3) == quote * 3:
            end = self.text.find(quote * 3, self.pos + 3)
            while end >= 0 and quote == '"' and _escaped(self.text, end):
                end = self.text.find(quote * 3, end + 1)
            end = len(self.text) if end < 0 else end
            while self.text[end + 3 : end + 4] == quote:  # up to two quotes may end it
                end += 1
            body = self.text[self.pos + 3 : end]
            self.advance(min(end + 3, len(self.text)) - self.pos)
            return body
        i = self.pos + 1
        while i < len(self.text) and self.text[i] not in (quote, "\n"):
            i += 2 if quote == '"' and self.text[i] == "\\" else 1
        body = self.text[self.pos + 1 : i]
        self.advance(min(i + 1, len(self.text)) - self.pos)
        return body

    # -- values -------------------------------------------------------------------------
    def value(self, prefix: list[str]) -> None:
        """Skips one value; records the keys of inline tables in it. Iterative: nesting
        depth costs no recursion."""
        stack: list[tuple[str, list[str]]] = []  # ("[", prefix) or ("{", prefix)
        while self.pos < len(self.text):
            self.blanks(newlines=bool(stack) and stack[-1][0] == "[")
            c = self.peek()
            if c in ('"', "'"):
                self.string()
            elif c == "[":
                self.advance()
                stack.append(("[", prefix))
                continue
            elif c == "{":
                self.advance()
                stack.append(("{", prefix))
                self.blanks()
                if self.peek() != "}":
                    prefix = self.inline_key(prefix)
                    continue
            elif c in "]}" and stack:
                self.advance()
                prefix = stack.pop()[1]
            elif c == "":
                return
            else:
                m = _SCALAR_END.search(self.text, self.pos)
                self.advance((len(self.text) if m is None else m.start()) - self.pos)
            if not stack:
                return
            self.blanks(newlines=stack[-1][0] == "[")
            if self.peek() == ",":
                self.advance()
                if stack[-1][0] == "{":
                    prefix = self.inline_key(stack[-1][1])
            elif self.peek() in ("]", "}"):
                continue
            elif self.peek() == "" or (self.peek() == "\n" and stack[-1][0] == "{"):
                return  # not TOML: stop here

    def inline_key(self, outer: list[str]) -> list[str]:
        """``key =`` inside an inline table: recorded, and the prefix of its value."""
        self.blanks()
        parts = self.key()
        self.blanks()
        if self.peek() == "=":
            self.advance()
        full = [*outer, *parts]
        self.found.setdefault(".".join(full), self.line)
        return full

    # -- the file -----------------------------------------------------------------------
    def scan(self) -> dict[str, int]:
        table: list[str] = []
        while self.pos < len(self.text):
            self.blanks(newlines=True)
            if self.pos >= len(self.text):
                break
            if self.peek() == "[":
                double = self.peek(2) == "[["
                self.advance(2 if double else 1)
                table = self.key()
                self.found.setdefault(".".join(table), self.line)
                self.advance(2 if double else 1)
                continue
            start = self.pos
            line, parts = self.line, self.key()
            self.blanks()
            if not parts or self.peek() != "=":
                end = self.text.find("\n", max(self.pos, start + 1))
                self.advance((len(self.text) if end < 0 else end) - self.pos)
                continue
            self.advance()
            full = [*table, *parts]
            for n in range(len(table) + 1, len(full) + 1):  # a.b.c = 1 defines a.b too
                self.found.setdefault(".".join(full[:n]), line)
            self.blanks()
            self.value(full)
        return self.found


def _escaped(text: str, at: int) -> bool:
    slashes = 0
    while at - 1 - slashes >= 0 and text[at - 1 - slashes] == "\\":
        slashes += 1
    return slashes % 2 == 1


def key_lines(text: str) -> dict[str, int]:
    """Every key and table of a TOML text, dotted ("serving.port", "serving"), with the
    1-based line where it is first defined."""
    scanner = _Scanner(text)
    try:
        return scanner.scan()
    except (IndexError, ValueError):  # not TOML after all: what was found so far
        return scanner.found
