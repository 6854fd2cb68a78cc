"""Every syntax mistake of an answers file, not only tomllib's first, and the rest of it read.

tomllib stops at the first line it cannot read. An admin fixing a hand-written file should
see every mistake in one run, so the line tomllib names is set aside (a key line emptied, a
section header replaced by a placeholder section so its keys are not read as the section
above's) and the file is read again, until it parses. Line numbers stay those of the file.
What is read of the rest then goes through the same checks as a file without syntax
mistakes; the placeholder sections are never reported.
"""

from __future__ import annotations

import re
from typing import Any

from steps.core.answers_check import Mistake
from steps.core.settings import shorten, tomllib

_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
_TWICE = re.compile(r"Cannot declare \(([^)]*)\) twice")
PLACEHOLDER = "emlsetup_unreadable_"
MAX_SYNTAX = 20  # past that, the file is not an answers file with typos


def parse_reporting(text: str) -> tuple[dict[str, Any], str, list[Mistake]]:
    """(what tomllib reads, the text it read, the syntax mistakes), each at its line.
    RecursionError (arrays nested thousands deep) is the caller's to say."""
    lines = text.splitlines(keepends=True)
    found: list[Mistake] = []
    current, set_aside = text, set()
    while len(found) < MAX_SYNTAX:
        try:
            return tomllib.loads(current), current, found
        except tomllib.TOMLDecodeError as exc:
            at = _AT.search(str(exc))
            what = _AT.sub("", str(exc))
            if at is None or at.group(1) is None:  # runs to the end: say where it starts
                found.append(_unfinished(lines, what))
                break
            line = int(at.group(1))
            if not 1 <= line <= len(lines) or line in set_aside:
                found.append(Mistake(line, "", f"not valid TOML ({what}); fix that line"))
                break
            found.append(_mistake(lines, line, what, int(at.group(2))))
            header = lines[line - 1].lstrip().startswith("[")
            lines[line - 1] = f"[{PLACEHOLDER}{line}]\n" if header else "\n"
            set_aside.add(line)
            current = "".join(lines)
    return {}, current, found


def _section_and_key(lines: list[str], line: int) -> tuple[str, str]:
    """The section the line is in and its key, read loosely (the line is not TOML)."""
    section = ""
    for above in reversed(lines[: line - 1]):
        head = above.strip()
        if head.startswith("[") and "]" in head:
            section = head.strip("[]").split("]")[0].strip()
            break
    own = lines[line - 1].strip()
    key = own.partition("=")[0].strip().strip("\"'") if "=" in own else ""
    return section, key


def _first_line_of(lines: list[str], line: int, section: str, key: str) -> int:
    """The earlier line of a key (or section header) given twice."""
    current = ""
    for number, text in enumerate(lines[: line - 1], start=1):
        head = text.strip()
        if head.startswith("["):
            current = head.strip("[]").strip()
            if not key and current == section:
                return number
        elif key and current == section and head.partition("=")[0].strip().strip("\"'") == key:
            return number
    return 0


def _mistake(lines: list[str], line: int, what: str, column: int) -> Mistake:
    section, key = _section_and_key(lines, line)
    own = lines[line - 1].strip()
    dotted = f"{section}.{key}" if section and key else key
    twice = _TWICE.search(what)
    if what == "Cannot overwrite a value" and key:
        first = _first_line_of(lines, line, section, key)
        where = f" (first on line {first})" if first else ""
        return Mistake(line, dotted, f"set twice{where}; keep one of the lines")
    if twice and own.startswith("["):
        name = own.strip("[]").strip()
        first = _first_line_of(lines, line, name, "")
        where = f" (first on line {first})" if first else ""
        return Mistake(line, f"[{name}]", f"given twice{where}; keep one, with all its keys")
    hint = ""
    if what == "Illegal character '\\n'":
        return Mistake(line, dotted, "a quote left open: close the string on this line")
    if key and what in ("Invalid value", "Expected newline or end of document after a statement"):
        hint = ': text needs quotes (key = "text"), a number only digits'
    said = shorten(what)
    return Mistake(line, dotted, f"not valid TOML ({said}, column {column}){hint}; fix that line")


def _unfinished(lines: list[str], what: str) -> Mistake:
    """A string or array left open: tomllib says "end of document"; name the line it opens."""
    for number, text in enumerate(lines, start=1):
        value = text.partition("=")[2].strip()
        if value.count('"') % 2 or value.count("'") % 2 or value.count("[") > value.count("]"):
            section, key = _section_and_key(lines, number)
            dotted = f"{section}.{key}" if section and key else key
            return Mistake(number, dotted, f"not valid TOML ({what}): close it on this line")
    return Mistake(len(lines), "", f"not valid TOML ({what} at the end); fix the last lines")


def readable_mistakes(found: list[Mistake]) -> list[Mistake]:
    """The checks' mistakes without those of the placeholder sections."""
    return [m for m in found if not m.key.startswith(PLACEHOLDER)]
