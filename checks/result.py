"""The one shape every check answers in: what was measured against what was expected."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel


class Status(str, Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"

    @property
    def symbol(self) -> str:
        # Status is never shown by colour alone: a word or symbol always stands beside it.
        return {"ok": "✔ ok", "warn": "! warn", "fail": "✘ fail", "skip": "- skip"}[self.value]


class CheckResult(BaseModel):
    """A prerequisite or result check, as shown in tables and reports."""

    name: str
    status: Status
    measured: str = ""
    expected: str = ""
    fix: str = ""

    @property
    def passed(self) -> bool:
        return self.status in (Status.OK, Status.WARN)
