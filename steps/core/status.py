"""`emlsetup status --json`: the state of the run in a state folder, for a machine to poll.

Exit 0 when every requested step is done, 1 when a step failed or the run stopped, 3 while a
run is under way, 4 when every requested step finished but some are "done, unverified" (a
check could not run, e.g. no HANA connection: not done until `emlsetup check` can read it).
A run is under way when an emlsetup holds the folder's lock, or a detached build is alive. Ansible
polls it in short connections instead of holding SSH open for the 2-4 hour build. Nothing is
written and no lock is taken: polling never gets in the way of the run it watches.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from steps.bazel.log import BuildTracker
from steps.core import preflight_record
from steps.core.follow import alive, is_our_wrapper, read_exit
from steps.core.invocation import resume_command
from steps.core.lock import LOCK_FILE, WIZARD, holder_pid, holder_role
from steps.core.output import redact
from steps.core.state import ActionStatus, RunState, StateStore, StepStatus

EXIT_DONE, EXIT_FAILED, EXIT_RUNNING, EXIT_UNVERIFIED = 0, 1, 3, 4
STOPPED_BY_PREFLIGHT = "stopped by preflight"
TAIL_BYTES = 64 * 1024


def lock_holder(folder: Path) -> int | None:
    """The pid holding the folder's flock, read from /proc/locks (taking the lock to test it
    would make a `run` starting at that moment fail); None when nobody holds it."""
    path = folder / LOCK_FILE
    if not path.exists():
        return None
    if Path("/proc/locks").exists():
        return holder_pid(path)
    return _pid_in_file(path)


def _pid_in_file(path: Path) -> int | None:
    try:
        words = path.read_text().split()
        pid = int(words[0]) if words else 0
    except (OSError, ValueError):
        return None
    return pid if pid and alive(pid) else None


def running_build(state: RunState) -> dict[str, Any] | None:
    """The detached build still alive, with its progress read from its log."""
    for step in state.steps:
        for action in step.actions:
            last = action.commands[-1] if action.commands else None
            if not (last and last.exit_file and last.exit_code is None and last.pid):
                continue
            exit_file = Path(last.exit_file)
            if read_exit(exit_file) is not None or not is_our_wrapper(last.pid, exit_file):
                continue
            return {
                "step": step.number,
                "action": action.id,
                "pid": last.pid,
                "started": last.started.isoformat(),
                "log": last.log_file,
                **progress(Path(last.log_file or "")),
            }
    return None


def progress(log: Path) -> dict[str, Any]:
    """Bazel's "[done / total]" and its last line, from the end of the log."""
    try:
        with log.open("rb") as fh:
            fh.seek(max(log.stat().st_size - TAIL_BYTES, 0))
            text = fh.read().decode(errors="replace")
    except OSError:
        return {"done": None, "total": None, "percent": None, "last_line": ""}
    tracker = BuildTracker()
    lines = [x for x in text.splitlines() if x.strip()]
    for line in lines:
        tracker.feed(line, 0.0)
    done, total = tracker.done, tracker.total
    percent = round(100 * done / total, 1) if done is not None and total else None
    last = redact(lines[-1].split("\r")[-1].strip()) if lines else ""
    return {"done": done, "total": total, "percent": percent, "last_line": last[:200]}


def status_data(store: StateStore) -> dict[str, Any]:
    """Everything `status --json` prints; ``exit`` is the exit status it ends with."""
    holder = lock_holder(store.folder) if store.folder.is_dir() else None
    if holder == os.getpid():
        holder = None
    # A wizard that is only open (no step running) holds the folder too: the run is what
    # the state says, and the wizard is named beside it.
    wizard = holder if holder and holder_role(store.folder / LOCK_FILE, holder) == WIZARD else None
    return {**_status_data(store, None if wizard else holder), "wizard_open": wizard}


def _status_data(store: StateStore, holder: int | None) -> dict[str, Any]:
    state = store.load()
    stopped = preflight_record.load(store.folder)
    if stopped is not None and not holder and _later(stopped, state):
        # The last attempt ended in the preflight, before it changed anything.
        base = _state_data(store, state, None) if state is not None else _no_run(store, None)
        return _stopped_by_preflight(base, stopped)
    if state is None:
        return _no_run(store, holder)
    return _state_data(store, state, holder)


def _later(record: dict[str, Any], state: RunState | None) -> bool:
    if state is None:
        return True
    try:
        return datetime.fromisoformat(str(record.get("stopped"))) >= state.updated
    except ValueError:
        return False


def _no_run(store: StateStore, holder: int | None) -> dict[str, Any]:
    return {
        "state_dir": str(store.folder),
        "status": "in progress" if holder else "not started",
        "exit": EXIT_RUNNING if holder else EXIT_FAILED,
        "reason": f"no run in {store.folder} yet" if not holder else "a run is starting",
        "running": {"pid": holder, "build": None},
        "steps_done": [],
        "failed_step": None,
        "changed": False,
        "changed_actions": [],
        "rechecked_actions": [],
        "steps": [],
    }


def _state_data(store: StateStore, state: RunState, holder: int | None) -> dict[str, Any]:
    requested = state.requested or [s.number for s in state.steps]
    steps = [_step(state, n) for n in requested if any(s.number == n for s in state.steps)]
    build = running_build(state)
    failed = next((s for s in steps if s["status"] == StepStatus.FAILED.value), None)
    # One function decides for both: `status` says "done" exactly when `resume` would have
    # nothing to do, and names the point resume continues at.
    point = state.resume_target()
    done = point is None
    unread = [s for s in steps if s["status"] == StepStatus.UNVERIFIED.value]
    ended = all(  # every step finished, some of them without their checks read
        s["status"] in (StepStatus.DONE.value, StepStatus.SKIPPED.value) or s in unread
        for s in steps
    )
    if holder or build:
        status, code = "in progress", EXIT_RUNNING
        reason = _progress_reason(build) if build else f"emlsetup is running (pid {holder})"
    elif state.undo is not None and state.undo.finished is None:  # cut short: not "done"
        status, code, reason = "stopped", EXIT_FAILED, _undo_said(state)[1]  # type: ignore[index]
    elif done:
        status, code, reason = "done", EXIT_DONE, "all requested steps are done"
    elif unread and ended:
        status, code = StepStatus.UNVERIFIED.value, EXIT_UNVERIFIED
        reason = "; ".join(f"step {s['number']}: {s['reason']}" for s in unread)
    elif failed:
        status, code = "failed", EXIT_FAILED
        reason = f"step {failed['number']}: {failed['reason']}"
    elif (undo := _undo_said(state)) is not None:
        status, code, reason = undo[0], EXIT_FAILED, undo[1]
    else:
        status, code = "stopped", EXIT_FAILED
        reason = f"the run stopped at {where(point)}; `{resume_command()}` continues"
    return {
        "state_dir": str(store.folder),
        "run_id": state.run_id,
        "distro": state.distro,
        "family": state.family,
        "updated": state.updated.isoformat(),
        "last_run": state.last_run.isoformat() if state.last_run else None,
        "status": status,
        "exit": code,
        "reason": redact(reason),
        "requested": requested,
        "steps_done": [s["number"] for s in steps if s["status"] == StepStatus.DONE.value],
        "failed_step": failed["number"] if failed else None,
        "unverified_steps": [s["number"] for s in unread],
        "resume_point": {"step": point[0], "action": point[1] or None} if point else None,
        "running": {"pid": holder, "build": build},
        "changed": bool(state.changed),
        "changed_actions": list(state.changed),
        "rechecked_actions": list(state.rechecked),
        "steps": steps,
    }


def _stopped_by_preflight(data: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The last run stopped in its preflight: the system it met and the lines that failed;
    what an earlier run did (if any) is kept as it was."""
    return {
        **data,
        "distro": record.get("distro"),
        "family": record.get("family"),
        "status": STOPPED_BY_PREFLIGHT,
        "exit": EXIT_FAILED,
        "reason": redact(preflight_record.reason(record)),
        "preflight": [str(f.get("line")) for f in record["failures"]],
    }


def _undo_said(state: RunState) -> tuple[str, str] | None:
    """After `emlsetup undo`: which steps it left pending, or that it was cut short."""
    undo = state.undo
    if undo is None:
        return None
    if undo.finished is None:
        steps = ", ".join(map(str, sorted(undo.steps)))
        return "stopped", (
            f"`emlsetup undo` of step {steps} stopped before its end; the same undo again goes on"
        )
    wanted = state.requested or [s.number for s in state.steps]
    open_ = [s for s in state.steps if s.number in wanted and s.status == StepStatus.PENDING]
    undone = [s for s in state.steps if s.reason.startswith("undone by `emlsetup undo`")]
    if not open_ or not all(s in undone for s in open_):
        return None
    shown = ", ".join(str(s.number) for s in undone)
    return "undone", f"step {shown} undone by `emlsetup undo`: `emlsetup run` does them again"


def where(point: tuple[int, str] | None) -> str:
    """A resume point in words, the same for `status` and `resume`."""
    if point is None:
        return "nowhere"
    step, action = point
    return f"step {step}, action {action}" if action else f"step {step}, its result checks"


def _step(state: RunState, number: int) -> dict[str, Any]:
    st = state.step(number)
    counts: dict[str, int] = {}
    for a in st.actions:
        counts[a.status.value] = counts.get(a.status.value, 0) + 1
    failed = next((a.id for a in st.actions if a.status == ActionStatus.FAILED), None)
    return {
        "number": st.number,
        "title": st.title,
        "status": st.status.value,
        "reason": redact(st.reason.splitlines()[0]) if st.reason else "",
        "actions": counts,
        "failed_action": failed,
    }


def _progress_reason(build: dict[str, Any]) -> str:
    pct = f"{build['percent']}%" if build.get("percent") is not None else "progress unknown"
    return f"step {build['step']} build running (pid {build['pid']}), {pct}"


def render_text(data: dict[str, Any]) -> str:
    out = [f"{data['status']}: {data['reason']}"]
    for s in data["steps"]:
        why = f" ({s['reason']})" if s["reason"] else ""
        out.append(f"  step {s['number']}: {s['status']}{why}")
    build = (data.get("running") or {}).get("build")
    if build:
        out.append(f"  build log: {build['log']}; last line: {build['last_line']}")
    if data.get("resume_point") and data["status"] != "done":
        rp = data["resume_point"]
        out.append(f"  resume point: {where((rp['step'], rp['action'] or ''))}")
    if data.get("wizard_open"):
        out.append(f"  open in the wizard (pid {data['wizard_open']}): no step is running")
    out.append(f"  changed by the last run: {'yes' if data.get('changed') else 'no'}")
    return "\n".join(out) + "\n"


def cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    """`emlsetup status [--json]`: no session (no distro detection, no lock)."""
    import platformdirs

    folder = args.state_dir or Path(platformdirs.user_state_dir("emlsetup"))
    data = status_data(StateStore(folder))
    if args.json:
        json.dump(data, out, indent=2)
        out.write("\n")
    else:
        out.write(render_text(data))
    return int(data["exit"])
