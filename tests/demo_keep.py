"""What the demo (tests/demo.py) keeps between its runs and how it ends a build: the HANA
test server's catalogue, saved in the demo's folder and loaded again, and `--stop`, which
stops a build left running the way the wizard's Cancel does."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.hana_server import Catalogue, HanaTestServer
from tests.hana_server.persist import CatalogueFileError, load
from tests.sandbox import REPO, Sandbox

CATALOGUE_FILE = "hana-catalogue.pickle"
# What `resume` prints once it follows the build again (steps/core/actions.py _long).
REATTACHED = "[emlsetup] re-attaching to the build"


def port_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:``port`` (connections of the last server still in
    TIME_WAIT do not count: the server binds with SO_REUSEADDR too)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def hana_server(folder: Path, users: dict[str, str]) -> tuple[HanaTestServer, str]:
    """The demo's HANA test server, with the catalogue a run on ``folder`` saved there (on
    the same SQL port when it is free, as a restarted HANA keeps its port), saving every
    change to it again. Returns the server (not started) and what to tell the admin."""
    path = folder / CATALOGUE_FILE
    catalogue = Catalogue(users=users)
    port, said = 0, ""
    try:
        saved = load(path)
    except CatalogueFileError as exc:
        saved, said = None, f"{exc}; the HANA test server starts with a new catalogue."
    if saved is not None:
        catalogue.state = saved.state
        port = saved.port if port_free(saved.port) else 0
        said = f"The HANA test server holds what it held when the demo last ended ({path})."
    return HanaTestServer(catalogue, port=port, save_to=path), said


def _build_record(sb: Sandbox) -> dict[str, object]:
    try:
        state = json.loads((sb.state_dir / "state.json").read_text())
        step = next(s for s in state["steps"] if s["number"] == 5)
        build = next(a for a in step["actions"] if a["id"] == "build")
        record: dict[str, object] = build["commands"][-1]
        return record
    except (OSError, ValueError, KeyError, IndexError, StopIteration):
        return {}


def stop_build(sb: Sandbox, env: Mapping[str, str], pid: int) -> str:
    """`--stop`: the build left running (``pid``) stopped as Cancel stops it, by the product
    itself: `emlsetup resume` re-attaches to it, then gets one SIGINT, the CLI's Cancel
    (steps/core/console.py interrupt_handler, the same as the wizard's Driver.cancel). The
    engine interrupts the build's process group once, waits for it to end, and records
    the action "interrupted; resume runs it again". Returns what happened, in words."""
    proc = subprocess.Popen(
        sb.cli_argv("resume"),
        cwd=REPO,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line.rstrip("\n"))
        if REATTACHED in line:
            proc.send_signal(signal.SIGINT)
            break
    seen += proc.stdout.read().splitlines()
    code = proc.wait()
    said = [x.strip() for x in seen if x.strip()]
    if code != 130:  # it never re-attached: the build goes on, untouched
        last = said[-1] if said else f"exit {code}"
        return f"--stop: the build (pid {pid}) was not stopped: `emlsetup resume` said: {last}"
    exit_code = _build_record(sb).get("exit_code")
    return (
        f"--stop: the build (pid {pid}) is stopped as Cancel stops it: `emlsetup resume` "
        f"re-attached to it and interrupted it once; Bazel ended with exit {exit_code} "
        f"(its finished actions are kept). {said[-1]}"
    )
