"""The rows a PREDICT call gets: ``--input COL=VALUE`` (a column given N times is N rows), or
one smoke row (1 for numbers, 'a' for strings). Every value becomes a SQL literal of its
column's type here, or a sentence saying what the column takes."""

from __future__ import annotations

import math
from typing import Any

from steps.models import hana_sql as hs
from steps.models.errors import ModelError

Table = list[tuple[str, str]]  # (column, catalogue type) of one input table
NUMBERS = {"DOUBLE", "REAL", "FLOAT", "DECIMAL", "SMALLDECIMAL"}
INTEGERS = {"INTEGER", "BIGINT", "SMALLINT", "TINYINT"}


def parse(pairs: list[str]) -> list[tuple[str, str]]:
    out = []
    for pair in pairs:
        column, eq, value = pair.partition("=")
        if not eq or not column:
            raise ModelError(f"--input {pair!r}: write COLUMN=VALUE, e.g. --input x=1.5")
        out.append((column.strip(), value))
    return out


def literal(column: str, sql_type: str, value: str) -> str:
    kind = sql_type.upper()
    try:
        if kind in NUMBERS:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return repr(number)
        if kind in INTEGERS:
            return str(int(value))
    except ValueError:
        what = "a number" if kind in NUMBERS else "a whole number"
        raise ModelError(f"--input {column}={value}: {column} is {kind}: give {what}") from None
    try:
        quoted = hs.string(value)
    except ValueError:
        raise ModelError(f"--input {column}: a control character cannot go into SQL") from None
    return f"TO_BLOB(TO_BINARY({quoted}))" if kind == "BLOB" else quoted


def smoke(sql_type: str) -> str:
    kind = sql_type.upper()
    return "1" if kind in NUMBERS | INTEGERS else "a"


def rows(
    tables: list[Table], given: list[tuple[str, str]]
) -> tuple[list[list[list[str]]], list[str]]:
    """(per input table, its rows of SQL literals; each row as the admin reads it)."""
    columns = [c for t in tables for c, _ in t]
    values: dict[str, list[str]] = {c: [] for c in columns}
    for column, value in given:
        match = column if column in values else _unique(column, columns)
        values[match].append(value)
    counts = {len(v) for v in values.values()}
    if not given:
        values = {c: [smoke(t)] for table in tables for c, t in table}
    elif len(counts) != 1:
        shown = ", ".join(f"{c} {len(v)}" for c, v in values.items())
        raise ModelError(
            f"--input gives the input columns different numbers of values ({shown}): give "
            "each column once a row"
        )
    n = len(next(iter(values.values()))) if values else 0
    literal_rows = [
        [[literal(c, t, values[c][i]) for c, t in table] for i in range(n)] for table in tables
    ]
    shown_rows = [_row([(c, values[c][i]) for c in columns]) for i in range(n)]
    return literal_rows, shown_rows


def _unique(column: str, columns: list[str]) -> str:
    found = [c for c in columns if c.upper() == column.upper()]
    if len(found) == 1:
        return found[0]
    raise ModelError(
        f"--input {column}: the model's input columns are {', '.join(columns)}"
        + (" (they differ in case: write it exactly)" if found else "")
    )


def show(value: Any) -> str:
    text = str(value).strip("'")
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def _row(pairs: list[tuple[str, Any]]) -> str:
    if len(pairs) == 1:
        return show(pairs[0][1])
    return ", ".join(f"{c}={show(v)}" for c, v in pairs)


def answer(out_columns: list[str], result: list[tuple[Any, ...]], asked: list[str]) -> str:
    """The sentence of a PREDICT: what HANA got for what it gave."""
    got = [_row(list(zip(out_columns, r, strict=False))) for r in result]
    return f"HANA asked TensorFlow and got {'; '.join(got)} for {'; '.join(asked)}"
