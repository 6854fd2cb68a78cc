"""The test server's catalogue kept in a file, so that a server started again holds what the
last one held: the demo's `--keep DIR` stands for a HANA that was stopped and started.

Real behaviour followed: HANA writes a transaction's redo log to disk before it confirms its
COMMIT, and a restarted database reads its last savepoint and replays the redo log written
since, which brings it back to its last committed state (SAP Learning, "SAP HANA
Installation and Administration": "Starting and Stopping SAP HANA", "Checking the SAP HANA
Persistent Storage"; SAP Community, "SAP HANA Savepoint Mechanism: Internal Stages",
2017). hdbcli connections commit every statement (autocommit is on by default), so the
file is written after every statement, before its reply: once a client has its answer,
a server started again has the change. What a restart itself resets in a real HANA (the
sessions; whether EML reads its model configuration again at start-up, which no public
source says) is not modelled: the catalogue comes back as it was.

Only the catalogue's state is saved (users, roles, grants, schemas, tables with their rows,
procedures, remote sources, table types, EML's loaded models), never the passwords, which
the server is given each time it starts.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

from .state import State

FORMAT = 1


@dataclass
class Saved:
    """What a catalogue file holds: the state and the SQL port it was served on."""

    state: State
    port: int


class CatalogueFileError(Exception):
    """The file is there but cannot be read back (one sentence)."""


def dump(state: State, port: int) -> bytes:
    """The file's bytes for ``state`` served on ``port``."""
    return pickle.dumps({"format": FORMAT, "port": port, "state": state.__dict__})


def save(path: Path, data: bytes) -> None:
    """Write ``data`` (from :func:`dump`) to ``path`` atomically: a server killed mid-write
    leaves the previous file, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load(path: Path) -> Saved | None:
    """The saved catalogue, None when there is no file. A field the state has gained since
    the file was written gets its default, so a kept demo outlives changes to the server."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CatalogueFileError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        data = pickle.loads(raw)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        state = State()
        known = {f.name for f in fields(State)}
        state.__dict__.update({k: v for k, v in data["state"].items() if k in known})
        return Saved(state, int(data["port"]))
    except Exception as exc:  # any damage to the file: one sentence, the demo starts afresh
        raise CatalogueFileError(f"{path}: not a saved catalogue ({exc})") from None
