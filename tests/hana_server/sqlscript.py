"""Procedure bodies, parsed as HANA does at CREATE PROCEDURE, and run at CALL.

HANA compiles a SQLScript body when the procedure is created: a block that is not closed
(``FOR ... DO`` without ``END FOR``, ``BEGIN`` without ``END``), a statement without its
``;`` or text after the final ``END`` is error 257 "sql syntax error: incorrect syntax near
..." (SAP HANA SQLScript Reference, "Procedures" / "Cursors" / "FOR ... END FOR";
error 257 ERR_SQL_PARSE in the SAP HANA SQL Reference's "SQL Error Codes" table). This
covers the structures the product's procedures use: ``BEGIN ... END``, ``DECLARE CURSOR c
FOR SELECT ...``, ``FOR row AS c DO ... END FOR``, ``IF ... THEN ... [ELSEIF|ELSE] ... END
IF``, ``WHILE ... DO ... END WHILE``, ``EXEC`` / ``EXECUTE IMMEDIATE`` of a concatenation
of literals and ``:row.COLUMN``, and plain SQL statements. Expressions are not parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .results import HanaError

_TOKEN = re.compile(
    r"""(?P<ws>\s+|--[^\n]*|/\*.*?\*/)
      |(?P<str>'(?:[^']|'')*')
      |(?P<qid>"[^"]*")
      |(?P<word>[A-Za-z_][A-Za-z0-9_$#]*)
      |(?P<num>\d+(?:\.\d+)?)
      |(?P<op>:=|\|\||[;:.,()=<>+\-*/?{}\[\]!])""",
    re.S | re.X,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int  # offset in the whole statement

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def syntax_error_near(sql: str, pos: int, near: str) -> HanaError:
    """HANA's 257 text: ``sql syntax error: incorrect syntax near "X": line L col C (at pos P)``
    (line and column 1-based, pos the 0-based offset in the statement as sent)."""
    line = sql.count("\n", 0, pos) + 1
    col = pos - (sql.rfind("\n", 0, pos) + 1) + 1
    return HanaError(
        257,
        f'sql syntax error: incorrect syntax near "{near}": line {line} col {col} (at pos {pos})',
    )


def tokenize(sql: str, start: int = 0) -> list[Token]:
    out: list[Token] = []
    pos = start
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None:
            raise syntax_error_near(sql, pos, sql[pos])
        kind = m.lastgroup or "op"
        if kind != "ws":
            out.append(Token(kind, m.group(0), pos))
        pos = m.end()
    return out


@dataclass
class Simple:
    """A statement the body runs as it is (SQL) or evaluates (EXEC, assignment)."""

    tokens: list[Token]


@dataclass
class DeclareCursor:
    name: str
    select: list[Token]


@dataclass
class ForCursor:
    row: str
    cursor: str
    body: list[Any] = field(default_factory=list)


@dataclass
class Nested:
    """IF / WHILE / BEGIN blocks: parsed for their structure, run only as plain blocks."""

    kind: str
    body: list[Any] = field(default_factory=list)


class _Parser:
    def __init__(self, sql: str, tokens: list[Token]) -> None:
        self.sql, self.toks, self.i = sql, tokens, 0

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def error(self) -> HanaError:
        tok = self.peek() or (self.toks[-1] if self.toks else None)
        if tok is None:
            return syntax_error_near(self.sql, len(self.sql), "")
        return syntax_error_near(self.sql, tok.pos, tok.text)

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise self.error()
        self.i += 1
        return tok

    def expect(self, *words: str) -> Token:
        tok = self.peek()
        if tok is None or (tok.word or tok.text) not in words:
            raise self.error()
        self.i += 1
        return tok

    def ident(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind not in ("word", "qid"):
            raise self.error()
        self.i += 1
        return tok.text[1:-1] if tok.kind == "qid" else tok.text.upper()

    def until(self, *words: str) -> list[Token]:
        """Tokens up to (not including) one of ``words`` at nesting depth 0."""
        out: list[Token] = []
        depth = 0
        while True:
            tok = self.peek()
            if tok is None:
                raise self.error()
            if depth == 0 and (tok.word or tok.text) in words:
                return out
            if tok.text == "(" or tok.word == "CASE":
                depth += 1
            elif tok.text == ")" or (tok.word == "END" and depth > 0):
                depth -= 1
            elif depth == 0 and tok.word in ("BEGIN", "END", "DECLARE", "DO", "THEN"):
                raise self.error()  # a block keyword inside a statement: its ";" is missing
            out.append(self.take())

    def block(self, *ends: str) -> list[Any]:
        body: list[Any] = []
        while True:
            tok = self.peek()
            if tok is None:
                raise self.error()
            if tok.word in ends:
                return body
            body.append(self.statement())

    def statement(self) -> Any:
        word = (self.peek() or Token("op", "", 0)).word
        if word == "BEGIN":
            self.take()
            inner = self.block("END")
            self.expect("END")
            self.expect(";")
            return Nested("BEGIN", inner)
        if word == "DECLARE":
            self.take()
            nxt = self.peek()
            if nxt is not None and nxt.word == "CURSOR":
                self.take()
                name = self.ident()
                if (self.peek() or nxt).text == "(":
                    self.until(")")
                    self.expect(")")
                self.expect("FOR")
                select = self.until(";")
                if not select or select[0].word != "SELECT":
                    raise syntax_error_near(self.sql, (select or [nxt])[0].pos, "FOR")
                self.expect(";")
                return DeclareCursor(name, select)
            rest = self.until(";")
            self.expect(";")
            return Simple([*rest])
        if word == "FOR":
            self.take()
            row = self.ident()
            if (self.peek() or Token("op", "", 0)).word == "AS":
                self.take()
                cursor = self.ident()
                if (self.peek() or Token("op", "", 0)).text == "(":
                    self.until(")")
                    self.expect(")")
                loop: Any = ForCursor(row, cursor)
            else:
                self.expect("IN")
                self.until("DO")
                loop = Nested("FOR")
            self.expect("DO")
            loop.body = self.block("END")
            self.expect("END")
            self.expect("FOR")
            self.expect(";")
            return loop
        if word == "IF":
            self.take()
            self.until("THEN")
            self.expect("THEN")
            body = self.block("ELSEIF", "ELSE", "END")
            while (self.peek() or Token("op", "", 0)).word in ("ELSEIF", "ELSE"):
                if self.take().word == "ELSEIF":
                    self.until("THEN")
                    self.expect("THEN")
                body += self.block("ELSEIF", "ELSE", "END")
            self.expect("END")
            self.expect("IF")
            self.expect(";")
            return Nested("IF", body)
        if word == "WHILE":
            self.take()
            self.until("DO")
            self.expect("DO")
            body = self.block("END")
            self.expect("END")
            self.expect("WHILE")
            self.expect(";")
            return Nested("WHILE", body)
        if word in ("END", "ELSE", "ELSEIF", "DO", "THEN") or not word:
            raise self.error()
        tokens = self.until(";")
        self.expect(";")
        return Simple(tokens)


def parse_body(sql: str, body_start: int) -> list[Any]:
    """The statements of ``BEGIN ... END`` starting at ``sql[body_start:]``; raises 257."""
    parser = _Parser(sql, tokenize(sql, body_start))
    parser.expect("BEGIN")
    body = parser.block("END")
    parser.expect("END")
    if parser.peek() is not None and parser.peek().text == ";":  # type: ignore[union-attr]
        parser.take()
    if parser.peek() is not None:
        raise parser.error()
    return body


def concat(tokens: list[Token], variables: dict[str, dict[str, Any]], sql: str) -> str:
    """The value of ``'a' || :row.COL || 'b'`` (EXEC's argument)."""
    out: list[str] = []
    pieces: list[list[Token]] = [[]]
    for tok in tokens:
        if tok.text == "||":
            pieces.append([])
        else:
            pieces[-1].append(tok)
    for piece in pieces:
        texts = [t.text for t in piece]
        if len(piece) == 1 and piece[0].kind == "str":
            out.append(piece[0].text[1:-1].replace("''", "'"))
        elif len(piece) == 1 and piece[0].kind == "num":
            out.append(piece[0].text)
        elif len(piece) == 4 and texts[0] == ":" and texts[2] == ".":
            row = variables.get(piece[1].text.upper())
            column = piece[3].text.upper()
            if row is None or column not in row:
                raise HanaError(1299, f"no data found: {''.join(texts)}")
            out.append(str(row[column]))
        else:
            at = piece[0] if piece else tokens[0]
            raise syntax_error_near(sql, at.pos, at.text)
    return "".join(out)


@dataclass
class ProcedureHeader:
    name: list[str]  # [schema, name] or [name], catalogue spelling
    params: list[tuple[str, str]]  # (IN|OUT|INOUT, name)
    body: list[Any]


def parse_create_procedure(sql: str) -> ProcedureHeader:
    """``CREATE PROCEDURE [s.]p [(IN a T, OUT b T ...)] [LANGUAGE SQLSCRIPT] [SQL SECURITY
    DEFINER|INVOKER] [DEFAULT SCHEMA s] [READS SQL DATA] AS BEGIN ... END``."""
    p = _Parser(sql, tokenize(sql))
    p.expect("CREATE")
    p.expect("PROCEDURE")
    name = [p.ident()]
    if (p.peek() or Token("op", "", 0)).text == ".":
        p.take()
        name.append(p.ident())
    params: list[tuple[str, str]] = []
    if (p.peek() or Token("op", "", 0)).text == "(":
        p.take()
        while (p.peek() or Token("op", "", 0)).text != ")":
            mode = "IN"
            if (p.peek() or Token("op", "", 0)).word in ("IN", "OUT", "INOUT"):
                mode = p.take().word
            params.append((mode, p.ident()))
            p.until(",", ")")
            if p.peek() is not None and p.peek().text == ",":  # type: ignore[union-attr]
                p.take()
        p.expect(")")
    options = {"LANGUAGE": ("SQLSCRIPT",), "SQL": ("SECURITY",), "DEFAULT": ("SCHEMA",)}
    while (p.peek() or Token("op", "", 0)).word in (*options, "READS"):
        word = p.take().word
        if word == "READS":
            p.expect("SQL")
            p.expect("DATA")
        elif word == "SQL":
            p.expect("SECURITY")
            p.expect("DEFINER", "INVOKER")
        elif word == "LANGUAGE":
            p.expect("SQLSCRIPT")
        else:
            p.expect("SCHEMA")
            p.ident()
    p.expect("AS")
    start = p.peek()
    if start is None:
        raise p.error()
    return ProcedureHeader(name, params, parse_body(sql, start.pos))
