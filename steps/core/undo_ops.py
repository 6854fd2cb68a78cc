"""What `emlsetup undo` does with its own code rather than a command: stop the model server
step 6 started, take a model out of config.cnf, drop a model's HANA objects. Each reads the
system first, so running it again after a kill does what is left and nothing twice."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable

from steps.core.actions import NO_HANA, describe
from steps.core.engine import Engine
from steps.core.model import DropModelObjects, RemoveModelEntry, StopDaemon
from steps.core.state import ActionState, CommandRecord


def stop_daemon(
    engine: Engine, op: StopDaemon, ast: ActionState, records: list[CommandRecord]
) -> str | None:
    """The server the reversed StartDaemon started (its pid, or the one on its port whose
    command line names the same program): SIGTERM, then waited for."""
    from steps.models.restart import _running, listening_pid, runs

    program = op.argv[0]
    pid = next((r.pid for r in reversed(records) if r.pid), None)
    rec = CommandRecord(display=describe(op), user=engine.runner.identity.name(op.run_as))
    ast.commands.append(rec)
    target, group = (pid, True) if pid and runs(pid, program) else (None, False)
    if target is None:
        other = listening_pid(int(op.port))
        target = other if other is not None and runs(other, program) else None
    if target is None:
        rec.exit_code, rec.tail = 0, ["not running"]
        return None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(target, signal.SIGTERM) if group else os.kill(target, signal.SIGTERM)
    deadline = time.monotonic() + op.timeout_s
    while _running(target) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _running(target):
        rec.exit_code = 1
        return f"{program} (pid {target}) did not stop within {op.timeout_s:.0f}s; stop it"
    rec.exit_code, rec.tail, rec.pid = 0, [f"stopped pid {target}"], target
    return None


def remove_model_entry(engine: Engine, op: RemoveModelEntry, ast: ActionState) -> str | None:
    from steps.models import config_text

    path = engine.runner.host.path(op.path)
    rec = CommandRecord(display=describe(op), user=engine.runner.identity.name("admin"))
    ast.commands.append(rec)
    if not path.exists():
        rec.exit_code, rec.tail = 0, ["config.cnf is not there"]
        return None
    text = path.read_text()
    try:
        new = config_text.remove_model(text, op.model)
    except config_text.ConfigError as exc:
        rec.exit_code = 1
        return str(exc)
    if new != text:
        tmp = path.with_name(f".{path.name}.emlsetup-new")
        tmp.write_text(new)
        st = path.stat()
        os.chmod(tmp, st.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    rec.exit_code, rec.tail = 0, ["removed" if new != text else "not listed"]
    return None


def drop_model_objects(
    engine: Engine, op: DropModelObjects, ast: ActionState, emit: Callable[[str, str], None]
) -> str | None:
    """The wrapper, then the tables, then the types the catalogue names as the model's:
    one statement at a time, each read from the catalogue first (a kill between two
    leaves the rest for the next undo)."""
    from steps.models import hana_sql as hs

    sql = engine.sql
    if sql is None:
        return NO_HANA
    obj = hs.Objects(op.model)
    rec = CommandRecord(display=describe(op), user=engine.settings.hana.ml_user)
    ast.commands.append(rec)
    rows = sql.query("ml_user", hs.SCHEMA_OBJECTS, (hs.SCHEMA,))
    owned = {str(n): str(t).upper() == "TRUE" for n, t in rows if obj.owns(str(n))}
    there = sql.query("ml_user", hs.COUNT_PROCEDURE, (hs.SCHEMA, obj.procedure))
    statements = [obj.drop_wrapper()] if there and int(there[0][0]) else []
    statements += [
        f"DROP {'TYPE' if is_type else 'TABLE'} {hs.SCHEMA}.{name}"
        for name, is_type in sorted(owned.items(), key=lambda kv: kv[1])  # tables first
    ]
    try:
        for statement in statements:
            sql.execute_all("ml_user", [statement])
            rec.tail.append(statement)
            emit("line", statement)
    except Exception as exc:  # the HANA layer's one sentence
        rec.exit_code = 1
        return str(exc)
    rec.exit_code = 0
    return None
