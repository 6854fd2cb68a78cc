"""A kept demo's TensorFlow Serving, started again when the demo opens the folder again.

Each demo run ends its stand-in processes; the model server that step 6 started ends with
them. A real server keeps it only as long as it runs: step 6's nohup-style server (this
sandbox has no systemd, /run/systemd/system is absent) does not survive a reboot, while
the systemd unit step 6 writes where systemd runs (`WantedBy=multi-user.target`, enabled)
is started at every boot and reads config.cnf again (systemd.unit(5), [Install]
WantedBy; systemctl(1), enable; TF Serving reads --model_config_file at start-up,
tensorflow_serving/model_servers/main.cc). The demo plays that unit: when step 6 started
the server and nothing answers on its port, the same command is started again, the way
step 6 started it (steps/core/runner.py start_detached: as the admin, in its own session,
its output to the same log), so the stand-in serves what config.cnf lists. Nothing is
written to the run state, as nothing is when a unit starts a server at boot.

Runs in the sandbox's environment (its PATH and stand-ins), so that the demo's clean-up
finds and ends the server like every other stand-in:

    python -m tests.demo_serving --root ROOT --state-dir STATE
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from checks.tf_serving import Verdict, ask
from steps.core.follow import alive
from steps.core.model import StartDaemon
from steps.core.runner import Identity, Runner
from steps.core.session import Options, Session
from steps.core.state import ActionStatus

ANSWERS = (Verdict.SERVING, Verdict.MODELS_NOT_READY)


def start_again(root: Path, state_dir: Path) -> str:
    """Starts step 6's server again when step 6 started it and it is not running; says what
    it did ("" when there was nothing to do)."""
    session = Session.open(Options(root=root, state_dir=state_dir))
    state = session.store.load()
    if state is None or not any(s.number == 6 for s in state.steps):
        return ""
    step = next(s for s in session.plan().steps if s.number == 6)
    action = next(a for a in step.actions if isinstance(a, StartDaemon))
    done = state.step(6).action(action.id)
    if done.status not in (ActionStatus.DONE, ActionStatus.ALREADY_DONE) or not done.commands:
        return ""
    serving = session.settings.serving
    if ask(serving.host, serving.port, [], timeout=1.0).verdict in ANSWERS:
        return ""
    identity = Identity(admin=session.settings.admin.user, sid_adm=session.settings.hana.sid_adm)
    runner = Runner(session.host, identity, session.store.folder / "logs")
    pid = runner.start_detached(
        action.argv, action.run_as, session.host.path(action.log_file), step.path_extra
    )
    deadline = time.monotonic() + action.ready_timeout_s
    while time.monotonic() < deadline and alive(pid):
        answer = ask(serving.host, serving.port, [], timeout=1.0)
        if answer.verdict in ANSWERS:
            return (
                f"TensorFlow Serving started again as step 6 started it (pid {pid}), as the "
                "systemd unit step 6 writes does at boot (without systemd, a real server's "
                "stays down after a reboot until it is started again)."
            )
        time.sleep(0.2)  # the product's own readiness poll (steps/models/restart.py)
    return (
        f"TensorFlow Serving did not come back (see {action.log_file}); "
        "`check --step 6` says how to start it"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--state-dir", type=Path, required=True)
    opts = ap.parse_args()
    said = start_again(opts.root, opts.state_dir)
    if said:
        print(said, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
