"""What the model commands did, in the state folder next to the run state (models.json).

Written atomically before and after every phase, like the run state: after a kill the
next ``emlsetup model add`` finds the interrupted phase, says so, and runs the phases
again; each phase reads the system first, so what was done is not done twice. The run
report lists these records.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

FILE = "models.json"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Phase(BaseModel):
    name: str
    status: str = "running"  # running, done, failed
    said: str = ""
    changed: bool = False  # the phase changed the system (a copy, an edit, a reload, a row)


class ModelRecord(BaseModel):
    command: str  # add, remove, test
    model: str
    version: int | None = None
    source: str = ""
    signature: str = ""  # the one --signature chose ("" when the model's default)
    # What this command changed, recorded before each change: a failed add undoes them
    # (steps/models/rollback.py); "copy:PATH", "config", "row", "wrapper".
    undo: list[str] = Field(default_factory=list)
    started: datetime = Field(default_factory=_now)
    finished: datetime | None = None
    status: str = "running"  # running, done, failed, abandoned, rolled back
    phases: list[Phase] = Field(default_factory=list)
    result: str = ""

    def phase(self, name: str) -> Phase:
        found = next((p for p in self.phases if p.name == name), None)
        if found is None:
            found = Phase(name=name)
            self.phases.append(found)
        else:
            found.status, found.said, found.changed = "running", "", False
        return found


class Journal(BaseModel):
    records: list[ModelRecord] = Field(default_factory=list)

    def interrupted(self, command: str, model: str) -> ModelRecord | None:
        return next(
            (
                r
                for r in reversed(self.records)
                if r.command == command and r.model == model and r.status == "running"
            ),
            None,
        )


def load(folder: Path) -> Journal:
    path = folder / FILE
    try:
        return Journal.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        return Journal()
    except (OSError, ValueError, ValidationError):
        # A damaged journal loses history, never the models: they are read from the system.
        return Journal()


def save(folder: Path, journal: Journal) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = folder / f".{FILE}.new"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(journal.model_dump_json(indent=1))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / FILE)


def markdown(journal: Journal) -> list[str]:
    """The report's section on models."""
    if not journal.records:
        return []
    out = ["## Models", ""]
    for r in journal.records:
        version = f" version {r.version}" if r.version is not None else ""
        out.append(f"- **model {r.command} {r.model}{version}**: {r.status}")
        out += [f"  - {p.name}: {p.status}{f' — {p.said}' if p.said else ''}" for p in r.phases]
        if r.result:
            out.append(f"  - result: {r.result}")
    out.append("")
    return out


def smoke_prediction(folder: Path) -> str:
    """The validation screen's line: the last `model test` answer, or how to get one."""
    records = load(folder).records
    tests = [
        r
        for i, r in enumerate(records)
        if r.command == "test"
        and not any(  # a test of a model removed since is no smoke prediction of today's
            x.command == "remove" and x.model == r.model and x.status == "done"
            for x in records[i + 1 :]
        )
    ]
    if not tests:
        return (
            "Smoke prediction: none yet (emlsetup model add half_plus_two, then "
            "emlsetup model test half_plus_two)."
        )
    last = tests[-1]
    when = f"{(last.finished or last.started):%Y-%m-%d %H:%M} UTC"
    if last.status == "done":
        return f"Smoke prediction ({last.model}, {when}): {last.result}."
    failed = next((p.said for p in last.phases if p.status == "failed"), last.status)
    return f"Smoke prediction ({last.model}, {when}) failed: {failed}"
