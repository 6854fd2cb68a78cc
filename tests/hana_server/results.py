"""What the catalogue answers a statement with, and HANA's error codes and texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .types import Column


class HanaError(Exception):
    """A SQL error as HANA reports it: code, text, SQLSTATE, level (1 = error)."""

    def __init__(self, code: int, text: str, sql_state: str = "HY000", level: int = 1) -> None:
        super().__init__(f"[{code}] {text}")
        self.code = code
        self.text = text
        self.sql_state = sql_state
        self.level = level


def authentication_failed() -> HanaError:
    """Wrong password or unknown user (HANA does not say which)."""
    return HanaError(10, "authentication failed", "28000")


def syntax_error(sql: str) -> HanaError:
    """Error 257 for any statement the catalogue does not recognise."""
    return HanaError(257, f"sql syntax error: statement not supported by the test server: {sql}")


def insufficient_privilege(detail: str = "Not authorized") -> HanaError:
    """Error 258."""
    return HanaError(258, f"insufficient privilege: {detail}")


def invalid_table_name(name: str) -> HanaError:
    """Error 259."""
    return HanaError(259, f"invalid table name:  Could not find table/view {name}")


def invalid_schema_name(name: str) -> HanaError:
    """Error 362."""
    return HanaError(362, f"invalid schema name: {name}")


def invalid_procedure_name(name: str) -> HanaError:
    """Error 328."""
    return HanaError(328, f"invalid name of function or procedure: {name}")


def duplicate_table(name: str) -> HanaError:
    """Error 288: a table (or view) of that name exists."""
    return HanaError(288, f"cannot use duplicate table name: {name}")


def duplicate_name(kind: str, name: str, code: int = 386) -> HanaError:
    """Duplicate schema (386), procedure (329), or remote source (471-style) name."""
    return HanaError(code, f"cannot use duplicate {kind} name: {name}")


@dataclass
class ResultSet:
    """Rows with their columns (function code SELECT)."""

    columns: Sequence[Column]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class RowCount:
    """Rows affected by DDL (0) or DML, with the reply's function code."""

    count: int
    function_code: int = 1  # DDL


@dataclass
class CallResult:
    """A procedure call: each output table becomes one result set."""

    tables: list[ResultSet] = field(default_factory=list)


Outcome = ResultSet | RowCount | CallResult
