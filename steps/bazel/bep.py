"""Per-target results from a Build Event Protocol JSON file (``--build_event_json_file``).

The console output says "Build did NOT complete successfully" but not cleanly which of the
requested targets were built; the BEP file does. It is written while the build runs, so a
reader may meet a half-written last line, and a killed build leaves one behind for good:
undecodable lines are skipped, never fatal.

Field names (id.targetCompleted.label, completed.success, aborted, testResult.status,
buildFinished.exitCode / overallSuccess) are those of build_event_stream.proto in JSON form.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def events(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete, decodable event object in the file, in order."""
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line being written, or cut short by a kill
            if isinstance(event, dict) and isinstance(event.get("id"), dict):
                yield event


def target_results(path: Path) -> dict[str, bool]:
    """label -> built successfully, for every target that completed or was aborted. A target
    built in several configurations counts as built only if all of them succeeded."""
    results: dict[str, bool] = {}
    for event in events(path):
        ident = event["id"].get("targetCompleted")
        if not isinstance(ident, dict) or "label" not in ident:
            continue
        if "aborted" in event:
            ok = False
        else:
            completed = event.get("completed")
            # proto3 JSON omits false booleans: a failed target has no "success" key.
            ok = isinstance(completed, dict) and completed.get("success") is True
        label = str(ident["label"])
        results[label] = results.get(label, True) and ok
    return results


def per_test_status(path: Path) -> dict[str, str]:
    """label -> last test status ('PASSED', 'FAILED', 'TIMEOUT', ...) of ``bazel test``."""
    results: dict[str, str] = {}
    for event in events(path):
        ident = event["id"].get("testResult")
        if isinstance(ident, dict) and "label" in ident:
            status = (event.get("testResult") or {}).get("status", "NO_STATUS")
            results[str(ident["label"])] = str(status)
    return results


def build_exit_code(path: Path) -> int | None:
    """Bazel's exit code from the buildFinished event; None if the build never finished
    (killed client, or file still being written)."""
    for event in events(path):
        if "buildFinished" not in event["id"]:
            continue
        finished = event.get("finished") or {}
        code = finished.get("exitCode")
        if isinstance(code, dict):
            return int(code.get("code", 0))  # proto3 omits a zero code
        # Old BEP (Bazel 0.x) has only overallSuccess.
        return 0 if finished.get("overallSuccess") else 1
    return None
