"""Restart the model server step 6 started, for a TF Serving without
HandleReloadConfigRequest: it reads config.cnf only at start-up.

A kill can cut a restart anywhere: after the old server stopped (nothing answers; the next
run starts it), or after the new one started but before its pid was saved (the next run
finds it as the process listening on the port, /proc/net/tcp{,6} and /proc/PID/fd, see
proc(5), and restarts that one).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import time
from pathlib import Path

from steps.core.follow import alive
from steps.core.model import StartDaemon
from steps.core.session import Session
from steps.core.state import CommandRecord, RunState
from steps.models.checkpoints import reached
from steps.models.errors import ModelError
from steps.step6_start_serving import STEP as STEP6

STOP_TIMEOUT_S = 20.0
DAEMON = next(a for a in STEP6.actions if isinstance(a, StartDaemon))
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's st column


class RestartError(Exception):
    pass


def listening_pid(port: int, proc: Path = Path("/proc")) -> int | None:
    """The process with a socket listening on TCP ``port``, when this user may see it."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(entry.name)
    return None


def runs(pid: int, program: str, proc: Path = Path("/proc")) -> bool:
    """``pid`` is a live process whose command line names ``program``: pids are recycled
    (pid_max is often 32768), so a recorded pid alone may be another process by now."""
    try:
        cmdline = (proc / str(pid) / "cmdline").read_bytes()
        zombie = "State:\tZ" in (proc / str(pid) / "status").read_text()
    except OSError:
        return False
    return not zombie and os.path.basename(program).encode() in cmdline


def _running(pid: int) -> bool:
    """Alive and not a zombie (a server whose parent has not reaped it has stopped)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return alive(pid)


def _stop(pid: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(pid, signal.SIGTERM)  # its own session: sudo and the server go together
        else:
            os.kill(pid, signal.SIGTERM)
    reached("restart: SIGTERM sent to the old server")
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _running(pid):
        raise ModelError(
            f"tensorflow_model_server (pid {pid}) did not stop within {STOP_TIMEOUT_S:.0f}s; "
            "stop it yourself, then run the command again"
        )


def _started(session: Session) -> tuple[RunState, list[CommandRecord], list[str], Path]:
    """Step 6's server as the run state recorded it: (state, its command records, argv,
    log). The recorded command line is the route's (built binary, apt or container), so
    the restart needs no plan."""
    state = session.store.load()
    records: list[CommandRecord] = []
    if state is not None:
        with contextlib.suppress(StopIteration):
            records = state.step(6).action(DAEMON.id).commands
    if state is None or not records:
        raise ModelError(
            "this TensorFlow Serving has no HandleReloadConfigRequest and emlsetup did not "
            "start it: restart tensorflow_model_server yourself, then run the command again"
        )
    last = records[-1]
    export = session.settings.expand(session.settings.serving.export_dir)
    log = Path(last.log_file or session.host.path(f"{export}/tensorflow_model_server.log"))
    return state, records, shlex.split(last.display), log


def restart_server(session: Session) -> str:
    """Stop the server step 6 started (its pid in the run state, or the one on the port
    when that pid is gone), start it again the same way, record the new pid; says what it
    did. A server emlsetup never started is a sentence."""
    state, records, argv, log = _started(session)
    settings = session.settings
    serving = settings.serving
    pid = next((r.pid for r in reversed(records) if r.pid), None)
    said = "restarted TensorFlow Serving (it has no HandleReloadConfigRequest)"
    other = listening_pid(int(serving.port))
    if pid is not None and runs(pid, argv[0]):
        _stop(pid, group=True)
    elif other is not None and runs(other, argv[0]):
        _stop(other, group=False)  # started by a restart that was cut short
    else:
        said = "started TensorFlow Serving again (it was not running)"
    reached("restart: no server runs")
    runner = session.runner(state.run_id)
    places = {
        "{venv}": settings.expand(serving.venv),
        "{checkout}": settings.expand(serving.checkout),
    }
    path_extra = [_fill(p, places) for p in STEP6.path_extra]
    new = runner.start_detached(argv, DAEMON.run_as, log, path_extra)
    reached("restart: the new server started, its pid not saved")
    records.append(
        CommandRecord(
            display=shlex.join(argv),
            user=runner.identity.name(DAEMON.run_as),
            pid=new,
            log_file=str(log),
        )
    )
    session.store.save(state)
    reached("restart: the new server's pid saved")
    from checks.tf_serving import Verdict, ask

    deadline = time.monotonic() + DAEMON.ready_timeout_s
    answer = None
    while time.monotonic() < deadline and alive(new):
        answer = ask(serving.host, serving.port, [], timeout=1.0)
        if answer.verdict in (Verdict.SERVING, Verdict.MODELS_NOT_READY):
            # one point, not one per poll: how many polls it takes is the machine's speed
            reached("restart: the new server answers")
            return said
        time.sleep(0.2)
    said = answer.measured if answer else "it stopped at once"
    raise ModelError(
        f"tensorflow_model_server did not come back after the restart ({said}); see "
        f"{session.host.unmap(log)}"
    )


def _fill(text: str, places: dict[str, str]) -> str:
    for key, value in places.items():
        text = text.replace(key, value)
    return text
