"""Restart the model server step 6 started, for a TF Serving without
HandleReloadConfigRequest: it reads config.cnf only at start-up."""

from __future__ import annotations

import contextlib
import os
import signal
import time

from steps.core.follow import alive
from steps.core.model import StartDaemon
from steps.core.session import Session
from steps.core.state import CommandRecord

STOP_TIMEOUT_S = 20.0


class RestartError(Exception):
    pass


def restart_server(session: Session) -> int:
    """Stop the server step 6 started (its pid in the run state), start it again the same
    way, record the new pid; returns it. A server emlsetup did not start is a sentence."""
    from steps.models.commands import ModelError

    state = session.store.load()
    plan = session.plan()
    step = next(s for s in plan.steps if s.number == 6)
    action = next(a for a in step.actions if isinstance(a, StartDaemon))
    records = state.step(6).action(action.id).commands if state is not None else []
    pid = next((r.pid for r in reversed(records) if r.pid), None)
    if state is None or pid is None or not alive(pid):
        raise ModelError(
            "this TensorFlow Serving has no HandleReloadConfigRequest and emlsetup did not "
            "start it: restart tensorflow_model_server yourself, then run the command again"
        )
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)  # its own session: sudo and the server go together
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        raise ModelError(
            f"tensorflow_model_server (pid {pid}) did not stop within {STOP_TIMEOUT_S:.0f}s; "
            "stop it yourself, then run the command again"
        )
    runner = session.runner(state.run_id)
    host = session.host
    log = host.path(action.log_file)
    new = runner.start_detached(action.argv, action.run_as, log, step.path_extra)
    records.append(
        CommandRecord(
            display=" ".join(action.argv),
            user=runner.identity.name(action.run_as),
            pid=new,
            log_file=str(log),
        )
    )
    session.store.save(state)
    from checks.tf_serving import Verdict, ask

    serving = session.settings.serving
    deadline = time.monotonic() + action.ready_timeout_s
    answer = None
    while time.monotonic() < deadline and alive(new):
        answer = ask(serving.host, serving.port, [], timeout=1.0)
        if answer.verdict in (Verdict.SERVING, Verdict.MODELS_NOT_READY):
            return new
        time.sleep(0.2)
    said = answer.measured if answer else "it stopped at once"
    raise ModelError(
        f"tensorflow_model_server did not come back after the restart ({said}); see "
        f"{action.log_file}"
    )
