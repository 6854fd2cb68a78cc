"""Named points inside the model commands, where a test can stop the wizard for good.

A kill "at any point" of ``emlsetup model add`` must resume to the same end. The points
between phases are journal saves; these are the points *inside* phases: each file of the
copy half and wholly written, the temporary config.cnf before its rename, each HANA
statement done and the next not sent, the reload, every GetModelStatus answer.

Off unless ``EMLSETUP_MODEL_EVENTS`` names a folder holding two FIFOs (only tests set it):
at each point the wizard writes the point's name as one line to ``events`` and waits for
one byte on ``go``. The test answers the byte, or SIGKILLs the wizard there: the kill
lands exactly at the point, without the test sleeping or timing anything
(tests/model_kill_sweep.py). A test that goes away (EOF on ``go``) lets the wizard run on.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "EMLSETUP_MODEL_EVENTS"
_fds: tuple[int, int] | None = None
_gone = False


def reached(point: str) -> None:
    global _fds, _gone
    folder = os.environ.get(ENV)
    if not folder or _gone:
        return
    if _fds is None:
        events = os.open(Path(folder) / "events", os.O_WRONLY | os.O_CLOEXEC)
        go = os.open(Path(folder) / "go", os.O_RDONLY | os.O_CLOEXEC)
        _fds = (events, go)
    line = point.replace("\n", " ")[:200] + "\n"  # < PIPE_BUF: one write, one line
    try:
        os.write(_fds[0], line.encode())
        answered = os.read(_fds[1], 1)
    except OSError:
        answered = b""
    if not answered:
        _gone = True
