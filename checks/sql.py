"""SQL count checks: a query's row count, or its single COUNT(*) value, against the spec.

The query runs through a plain callable, ``(role, query, params) -> rows``, that the engine
builds from its HANA access (``steps.hana``); None means there is no HANA connection at
all, and the check is skipped with the way to give the wizard one.

A failure of the query itself arrives as a :class:`SqlFailure` (the HANA layer's errors
derive from it): its sentence becomes the measured value and its fix the row's fix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from checks.result import CheckResult, Status
from checks.spec import SqlCount

SqlRunner = Callable[[str, str, list[str]], Sequence[Sequence[Any]]]

NO_HANA_FIX = (
    "give the wizard a HANA connection: set EMLSETUP_SYSTEM_PASSWORD and "
    "EMLSETUP_ML_USER_PASSWORD (or type them when asked), or name hdbuserstore keys in "
    "hana.system_key / hana.ml_user_key"
)


class SqlFailure(Exception):
    """A query that could not run: what happened, in one sentence, and what to do."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}; {self.fix}" if self.fix else self.message


def rows_text(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def expected_text(spec: SqlCount) -> str:
    return ("at least " if spec.op == ">=" else "") + rows_text(spec.expect)


def evaluate_sql_count(spec: SqlCount, sql: SqlRunner | None) -> CheckResult:
    expected = expected_text(spec)
    if sql is None:
        return _result(spec, Status.SKIP, "no HANA connection", expected, NO_HANA_FIX)
    try:
        rows = sql(spec.role, spec.query, list(spec.params))
    except SqlFailure as exc:
        return _result(spec, Status.FAIL, exc.message, expected, exc.fix or spec.fix)
    count = _count(rows) if spec.count_column else len(rows)
    if count is None:
        shown = "no count returned" if not rows else f"not a count: {rows[0][0]!r}"[:80]
        return _result(spec, Status.FAIL, shown, expected, spec.fix)
    ok = count >= spec.expect if spec.op == ">=" else count == spec.expect
    return _result(spec, Status.OK if ok else Status.FAIL, rows_text(count), expected, spec.fix)


def _count(rows: Sequence[Sequence[Any]]) -> int | None:
    if not rows or not rows[0]:
        return None
    try:
        return int(rows[0][0])
    except (TypeError, ValueError):
        return None


def _result(spec: SqlCount, status: Status, measured: str, expected: str, fix: str) -> CheckResult:
    return CheckResult(
        name=spec.name,
        status=status,
        measured=measured,
        expected=expected,
        fix="" if status == Status.OK else fix,
    )
