"""Try the wizard safely: a sandboxed SLES 12 SP2 "server" with stand-in tools, a HANA test
server, and a replayed real Bazel build, all in a temporary folder.

    .venv/bin/python -m tests.demo [--distro rhel7] [--speed 20] [--keep DIR] [--stop]
                                   [-- EMLSETUP-ARGS...]

Nothing outside the folder is touched. The demo's made-up HANA passwords are shown inside
the wizard (its validation screen and password prompt). A build left running when you quit
keeps running and its folder is kept (`--keep DIR` re-opens it); `--stop` stops it instead.

Once steps 1-7 are done, the demo ends with the model chain: `emlsetup model add
half_plus_two` (the shipped model), `emlsetup model test half_plus_two` (HANA asks the
TF Serving stand-in, which computes the model's graph: 2.5 for 1.0), the answer read back
from HANA's output table through hdbcli, and `model add` again, which changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from steps.core.follow import is_our_wrapper
from tests.hana_server import Catalogue, HanaTestServer
from tests.os_releases import OS_RELEASE
from tests.sandbox import REPO, Sandbox
from tui.demo_notice import DEMO_NOTICE_VAR

SYSTEM_PW, ML_PW = "Demo-System1", "Demo-MlUser1"
NOTICE = f"Demo only: the HANA passwords are SYSTEM {SYSTEM_PW} and ML_USER {ML_PW}."
MODEL = "half_plus_two"
MODEL_CHAIN = (("model", "add", MODEL), ("model", "test", MODEL), ("model", "add", MODEL))


def open_sandbox(path: Path, distro: str) -> Sandbox:
    """A new sandbox, or the one a `--keep` folder already holds (its work is kept)."""
    if (path / "root" / "etc" / "os-release").exists():
        return Sandbox(path, distro)
    return Sandbox.create(path, distro)


def demo_env(
    sb: Sandbox, hana_port: int, speed: str, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The wizard's environment: the sandbox's, the admin's NO_COLOR, and the file with the
    demo's passwords that the wizard shows (tui/demo_notice.py)."""
    notice = sb.path / "demo-notice.txt"
    notice.write_text(NOTICE + "\n")
    env = sb.env(
        FAKE_BAZEL_SPEED=speed,
        EMLSETUP_HANA__ADDRESS="127.0.0.1",
        EMLSETUP_HANA__SQL_PORT=str(hana_port),
        **{DEMO_NOTICE_VAR: str(notice)},
    )
    if "NO_COLOR" in environ:  # the sandbox leaves it out for tests; the admin asked for it
        env["NO_COLOR"] = environ["NO_COLOR"]
    env.update(passed_through(environ))
    return env


def build_left_running(sb: Sandbox) -> int | None:
    """The pid of a build the wizard left running in this sandbox, read from /proc."""
    try:
        state = json.loads((sb.state_dir / "state.json").read_text())
    except (OSError, ValueError):
        return None
    for step in state.get("steps", []):
        for action in step.get("actions", []) if step.get("number") == 5 else []:
            rec = (action.get("commands") or [{}])[-1]
            pending = rec.get("pid") and rec.get("exit_file") and rec.get("exit_code") is None
            if pending and is_our_wrapper(rec["pid"], Path(rec["exit_file"])):
                return int(rec["pid"])
    return None


def finish(sb: Sandbox, folder: Path, *, kept: bool, stop: bool) -> str:
    """After the wizard: stop and remove what the demo made, unless a build was left running
    (it goes on, in a kept folder) or the admin gave --keep. Returns what to tell them."""
    pid = None if stop else build_left_running(sb)
    if pid is None:
        sb.cleanup()
    if pid is not None:
        return (
            f"The build goes on (pid {pid}) in {folder}. Follow it with "
            f"`python -m tests.demo --keep {folder}`; to stop it: "
            f"`python -m tests.demo --keep {folder} --stop -- status`."
        )
    if not kept:
        shutil.rmtree(folder, ignore_errors=True)
        return ""
    return f"The sandbox is kept in {folder}."


def passed_through(environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's EMLSETUP_* variables (passwords, settings) reach the wizard, so
    `EMLSETUP_SYSTEM_PASSWORD=... python -m tests.demo run --yes` gets to step 7."""
    return {k: v for k, v in environ.items() if k.startswith("EMLSETUP_")}


def model_chain(sb: Sandbox, env: Mapping[str, str], srv: HanaTestServer) -> int:
    """The shipped model served and asked from SQL, when step 7's checks pass (read from
    the sandbox and this demo's HANA test server); else one line on how to get there."""
    # The demo's own made-up passwords (printed above), for the commands it runs itself.
    chain_env = {"EMLSETUP_SYSTEM_PASSWORD": SYSTEM_PW, "EMLSETUP_ML_USER_PASSWORD": ML_PW}
    chain_env.update(env)
    check = sb.cli_argv("check", "--step", "7")
    if subprocess.run(check, cwd=REPO, env=chain_env, capture_output=True).returncode != 0:
        print(
            f"The model chain (emlsetup model add / test {MODEL}) runs at the end of the demo "
            "once step 7's checks pass (emlsetup check --step 7)."
        )
        return 0
    for args in MODEL_CHAIN:
        print(f"\n$ emlsetup {' '.join(args)}", flush=True)
        code = subprocess.call(sb.cli_argv(*args), cwd=REPO, env=chain_env)
        if code != 0:
            return code
        if args[1] == "test":
            table = f"EML_DATA.{MODEL.upper()}_OUTPUT"
            print(f"Read back through hdbcli: {table} holds {read_back(srv, table)}", flush=True)
    return 0


def read_back(srv: HanaTestServer, table: str) -> str:
    rows = srv.query(f"SELECT * FROM {table}", "ML_USER", ML_PW)
    return ", ".join(f"y = {float(v):g}" for row in rows for v in row) or "no rows"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distro", default="sles12sp2", choices=sorted(OS_RELEASE))
    ap.add_argument("--speed", default="20", help="how much faster than real Bazel (default 20)")
    ap.add_argument("--keep", type=Path, help="use this folder and keep it afterwards")
    ap.add_argument(
        "--stop", action="store_true", help="on exit, stop a build left running (default: keep)"
    )
    ap.add_argument("args", nargs="*", help="emlsetup arguments after `--` (default: the wizard)")
    opts = ap.parse_args()
    folder = opts.keep or Path(tempfile.mkdtemp(prefix="emlsetup-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    sb = open_sandbox(folder / "sandbox", opts.distro)
    cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    code = 0
    try:
        with HanaTestServer(cat) as srv:
            env = demo_env(sb, srv.port, opts.speed)
            print(f"Sandbox in {sb.path}. {NOTICE}")
            code = subprocess.call(sb.cli_argv(*opts.args), cwd=REPO, env=env)
            if code == 0:
                code = model_chain(sb, env, srv)
    finally:
        said = finish(sb, folder, kept=opts.keep is not None, stop=opts.stop)
        if said:
            print(said)
    return code


if __name__ == "__main__":
    sys.exit(main())
