"""Text that fits an 80-column screen without breaking what the admin reads or copies.

Prose wraps at spaces, its continuation lines indented under the line they continue (a
help row under its description, a preflight row under its check). A `command` (in
backticks, as the steps write them) is never broken inside a word: it stays whole on a
line, or, wider than the screen, goes on lines of its own broken at unquoted spaces, each
line but the last ending in ` \\`, so that copying the lines pastes one shell command
(bash joins a line ending in a backslash with the next). Only a single word wider than the
whole screen is folded; a screen that narrow cannot show it on one line at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text

BREAK = " \\"  # at the end of a command's line: the command goes on
COMMAND_INDENT = "    "  # a command's continuation lines
COMMAND_STYLE = "bold"
Piece = tuple[str, bool, int]  # (text, is a command, offset in the source line)
_TOKENS = re.compile(r"`[^`\n]+`|\s+|[^\s`]+|`")
_COLUMN_GAP = re.compile(r"\S( {2,})(?=\S)")


def shell_words(command: str) -> list[str]:
    """The command split at spaces outside quotes (a break inside quotes would change it)."""
    words, word, quote = [], "", ""
    for ch in command:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == " ":
            if word:
                words.append(word)
            word = ""
            continue
        word += ch
    return [*words, word] if word else words


def command_lines(command: str, width: int) -> list[str]:
    """The command as it fits ``width`` columns: one line if it can, else broken at
    unquoted spaces with ` \\` ending every line but the last."""
    if len(command) <= width:
        return [command]
    lines: list[str] = []
    line = ""
    for word in shell_words(command):
        room = width - len(BREAK) - (len(COMMAND_INDENT) if lines else 0)
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    last = len(lines) - 1
    return [
        (COMMAND_INDENT if i else "") + text + (BREAK if i < last else "")
        for i, text in enumerate(lines)
    ]


def _units(line: str, commands: bool = True) -> Iterator[tuple[Piece, list[Piece]]]:
    """(the spaces before it, pieces) of each run of text with no space inside it but in
    commands: a command and the punctuation glued to it move together."""
    gap: Piece = ("", False, -1)
    pieces: list[Piece] = []
    for m in _TOKENS.finditer(line):
        token = m.group()
        if token.isspace():
            if pieces:
                yield gap, pieces
            gap, pieces = (token, False, m.start()), []
        elif commands and len(token) > 2 and token[0] == token[-1] == "`":
            pieces.append((token[1:-1], True, m.start() + 1))
        else:
            pieces.append((token, False, m.start()))
    if pieces:
        yield gap, pieces


def hang_of(line: str) -> str:
    """Continuation indent of a line: under its second column when it is laid out in
    columns (`  keys    what they do`), else two spaces deeper than the line itself."""
    lead = len(line) - len(line.lstrip(" "))
    gaps = [m.end() for m in _COLUMN_GAP.finditer(line, lead, lead + 30)]
    return " " * (gaps[-1] if gaps else lead + 2)


def lay_out(
    line: str, width: int, hang: str | None = None, commands: bool = True
) -> list[list[Piece]]:
    """One line of text as screen lines of at most ``width`` columns (see the module).
    Each piece keeps the offset in ``line`` it came from (-1: an indent or a space)."""
    hang = hang_of(line) if hang is None else hang
    hang = hang[: width // 2]
    pad = " " * len(hang)
    rows: list[list[Piece]] = [[]]
    col, filled = 0, False  # columns used on the last row; has it text yet

    def new_row(prefix: str) -> None:
        nonlocal col, filled
        rows.append([(prefix, False, -1)] if prefix else [])
        col, filled = len(prefix), False

    def put(piece: Piece) -> None:
        nonlocal col, filled
        rows[-1].append(piece)
        col, filled = col + len(piece[0]), True

    def fold(piece: Piece, prefix: str) -> None:
        """The piece on this row, or the next; only a word wider than a row is cut."""
        text, command, at = piece
        if len(text) > width - col and col > len(prefix):
            new_row(prefix)
        while len(text) > width - col:
            room = max(1, width - col)
            put((text[:room], command, at))
            text, at = text[room:], at + room
            new_row(prefix)
        put((text, command, at))

    for gap, pieces in _units(line, commands):
        size = sum(len(t) for t, _, _ in pieces)
        sep = gap if filled or len(rows) == 1 else ("", False, -1)  # spacing, or the indent
        if col + len(sep[0]) + size <= width:
            if sep[0]:
                put(sep)
            for piece in pieces:
                put(piece)
            continue
        if any(command for _, command, _ in pieces) and size > width - len(pad):
            # Wider than a row: lines of its own (or from here, when its first word fits
            # after a prompt), broken at spaces with ` \` at the end of each but the last.
            room = width - col - len(sep[0])
            if filled and room < (width - len(pad)) // 2:
                new_row(pad)
            elif filled and sep[0]:
                put(sep)
            for text, command, at in pieces:
                parts = command_lines(text, width - col) if command else [text]
                for i, part in enumerate(parts):
                    if i:
                        new_row(pad)
                    fold((part, command, at), pad)
            col = width  # what follows starts a row of its own
            continue
        if filled:  # a command to copy starts its row without the continuation mark
            new_row(pad if any(command for _, command, _ in pieces) else hang)
        for piece in pieces:
            fold(piece, hang)
    return [row for row in rows if row] or [[]]


def wrap_words(line: str, width: int, hang: str) -> list[str]:
    """Prose with no command in it, broken at spaces: the log box's fast path (a build
    floods it with thousands of lines a second)."""
    out, start, prefix = [], 0, ""
    while len(line) - start > width - len(prefix):
        room = width - len(prefix)
        cut = line.rfind(" ", start + 1, start + room + 1)
        if cut <= start:  # a word wider than the row: folded
            out.append(prefix + line[start : start + room])
            start += room
        else:
            out.append(prefix + line[start:cut])
            start = cut + 1
        prefix = hang[: width // 2]
    out.append(prefix + line[start:])
    return out


def plain_lines(text: str, width: int, hang: str | None = None, commands: bool = True) -> list[str]:
    """The text's screen lines as plain strings (a log box, a table cell)."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
        elif hang is not None and not (commands and "`" in line):
            out += wrap_words(line, width, hang)
        else:
            out += ["".join(t for t, _, _ in row) for row in lay_out(line, width, hang, commands)]
    return out


class Wrapped:
    """A Rich renderable of ``(text, style)`` parts laid out as the module says, at the
    width it is drawn at (a Static re-lays it out on every resize)."""

    def __init__(
        self, *parts: Text | tuple[str, str], hang: str | None = None, commands: bool = True
    ) -> None:
        """``commands=False``: backticks are text (a file's content, shown verbatim)."""
        self.text = Text()
        for part in parts:
            self.text.append_text(part if isinstance(part, Text) else Text(part[0], part[1]))
        self.hang, self.commands = hang, commands

    @property
    def plain(self) -> str:
        return self.text.plain

    def __str__(self) -> str:
        return self.plain

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        width = max(20, options.max_width)
        lines = list(self.text.split("\n", allow_blank=True))
        if len(lines) > 1 and not lines[-1].plain:
            lines = lines[:-1]  # the text's last newline ends its last line
        for styled in lines:
            for row in lay_out(styled.plain, width, self.hang, self.commands):
                yield _row_text(row, styled, console)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


def _row_text(row: list[Piece], source: Text, console: Console) -> Text:
    """A screen line, styled as its words were in the source (commands in bold)."""
    out = Text(no_wrap=True, overflow="fold", end="\n")
    for text, is_command, at in row:
        if at < 0:
            out.append(text)
        elif is_command:  # its lines carry ` \` and indents: the style of its start
            style = source.get_style_at_offset(console, at)
            out.append(text, style=style + Style.parse(COMMAND_STYLE))
        else:
            out.append_text(source[at : at + len(text)])
    return out
