"""What the preflight left in the state folder when it stopped a run: the system and the
lines that failed (``preflight.json``).

A run the preflight stops changes nothing, so it saves no run state; without this record
`emlsetup status --json` (what a fleet controller polls) could only say "not started", and
the fleet summary would show the host as distro "?" with "fix what the table shows" while
the table is on the host. A run whose preflight passes removes the record.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from checks.preflight import Row

FILE = "preflight.json"


def line(row: Row) -> str:
    """A failed preflight line in a few words: "HANA answers at 127.0.0.1:39013: Connection
    refused"."""
    return f"{row.check}: {row.measured}"


def save(folder: Path, distro: str, family: str, failed: list[Row]) -> None:
    """Atomically, like the run state; a folder that cannot take it loses only the record
    (the run has already said why it stopped, on its output)."""
    record = {
        "stopped": datetime.now(timezone.utc).isoformat(),
        "distro": distro,
        "family": family,
        "failures": [
            {"name": r.name, "line": line(r), "needed": r.needed, "fix": r.fix, "steps": r.steps}
            for r in failed
        ],
    }
    tmp = folder / f".{FILE}.new"
    try:
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, folder / FILE)
    except OSError:
        tmp.unlink(missing_ok=True)


def clear(folder: Path) -> None:
    with contextlib.suppress(OSError):
        (folder / FILE).unlink(missing_ok=True)


def load(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("failures"), list):
        return None
    return data


def reason(record: dict[str, Any]) -> str:
    lines = "; ".join(str(f.get("line", "")) for f in record["failures"])
    names = " ".join(
        f"--skip-preflight {n}" for n in dict.fromkeys(f.get("name") for f in record["failures"])
    )
    # The failed lines first: a summary table keeps the start of a reason.
    return f"{lines}; nothing was changed: fix it, or accept it with {names}"
