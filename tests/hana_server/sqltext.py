"""Small helpers to pattern-match SQL text: identifiers, literals, placeholders, WHERE.

This is not a SQL parser: it recognises the shapes of statement the product sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .results import syntax_error

#: One identifier, quoted (case kept) or plain (upper-cased by :func:`ident`).
IDENT = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$#]*)'
#: An optionally schema-qualified name.
QNAME = rf"(?:{IDENT}\s*\.\s*)?{IDENT}"
#: A literal or a placeholder; a BLOB value as TO_BLOB(TO_BINARY('text')) (SAP HANA SQL
#: Reference, TO_BLOB: "SELECT TO_BLOB (TO_BINARY('abcde')) ... FROM DUMMY" gives abcde).
BLOB_VALUE = r"TO_BLOB ?\( ?TO_BINARY ?\( ?'(?:[^']|'')*' ?\) ?\)"
VALUE = rf"(?:\?|'(?:[^']|'')*'|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|NULL|{BLOB_VALUE})"


def normalise(sql: str) -> str:
    """Strip, drop trailing semicolons, collapse whitespace outside string literals."""
    text = sql.strip().rstrip(";").strip()
    out: list[str] = []
    for i, chunk in enumerate(re.split(r"('(?:[^']|'')*')", text)):
        out.append(chunk if i % 2 else re.sub(r"\s+", " ", chunk))
    return "".join(out)


def ident(token: str) -> str:
    """An identifier's catalogue spelling: quoted keeps case, plain is upper-cased."""
    token = token.strip()
    if token.startswith('"') and token.endswith('"'):
        return token[1:-1]
    return token.upper()


def qname(token: str, default_schema: str) -> tuple[str, str]:
    """(schema, name) of a possibly qualified name."""
    parts = re.findall(IDENT, token)
    if len(parts) == 2:
        return ident(parts[0]), ident(parts[1])
    return default_schema, ident(parts[0])


def count_placeholders(sql: str) -> int:
    """Number of ``?`` outside string literals and quoted identifiers."""
    return len(re.findall(r"\?", re.sub(r"'(?:[^']|'')*'|\"[^\"]*\"", "", sql)))


class Params:
    """Bound parameter values consumed in placeholder order."""

    def __init__(self, values: tuple[Any, ...]) -> None:
        self._it: Iterator[Any] = iter(values)

    def value(self, token: str) -> Any:
        """A literal's value, or the next parameter for ``?``."""
        token = token.strip()
        if token == "?":
            try:
                return next(self._it)
            except StopIteration:
                raise syntax_error("not enough parameters bound") from None
        if token.upper() == "NULL":
            return None
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if re.fullmatch(BLOB_VALUE, token, re.I):
            text = token[token.index("'") + 1 : token.rindex("'")]
            return text.replace("''", "'").encode("utf-8")
        return float(token) if any(c in token for c in ".eE") else int(token)


def split_values(text: str) -> list[str]:
    """Split a comma-separated list of literals/placeholders."""
    return [m.group(0) for m in re.finditer(VALUE, text, re.IGNORECASE)]


@dataclass
class Condition:
    """``column = value`` or ``column IN (values)``."""

    column: str
    values: list[Any]

    def matches(self, row: dict[str, Any]) -> bool:
        """Does the row's value equal one of ``values``?"""
        return row.get(self.column) in self.values


_COND = re.compile(rf"^({IDENT})\s*(?:=\s*({VALUE})|IN\s*\(([^)]*)\))$", re.IGNORECASE)


def parse_where(text: str, params: Params) -> list[Condition]:
    """Conjunctions of ``col = v`` / ``col IN (v, ...)``; anything else is error 257."""
    conds: list[Condition] = []
    if not text:
        return conds
    for piece in re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE):
        m = _COND.match(piece.strip())
        if not m:
            raise syntax_error(f"unsupported condition {piece!r}")
        col = ident(m.group(1))
        if m.group(2) is not None:
            conds.append(Condition(col, [params.value(m.group(2))]))
        else:
            conds.append(Condition(col, [params.value(v) for v in split_values(m.group(3))]))
    return conds
