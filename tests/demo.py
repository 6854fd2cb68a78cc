"""Try the wizard safely: a sandboxed SLES 12 SP2 "server" with stand-in tools, a HANA test
server, and a replayed real Bazel build, all in a temporary folder.

    .venv/bin/python -m tests.demo [--distro rhel7] [--speed 20] [--keep DIR] [--stop]
                                   [-- EMLSETUP-ARGS...]

Nothing outside the folder is touched. The demo's made-up HANA passwords are shown inside
the wizard (its validation screen and password prompt). `--speed` is how much faster than
the recorded Bazel build (55 s) the stand-in replays it: 20 by default (3 s), 0.1 takes
9 minutes, time to try Quit, Cancel and re-attaching. A build left running when you quit
keeps running and its folder is kept (`--keep DIR` re-opens it); `--stop` stops it instead,
the way the wizard's Cancel does. The commands the wizard shows to re-attach are the demo's
own (EMLSETUP_COMMAND, steps/core/invocation.py).

`--keep DIR` keeps the HANA test server's catalogue in DIR too (tests/hana_server/persist.py)
and starts step 6's TensorFlow Serving again when the demo opens DIR again
(tests/demo_serving.py), so that `model list`, `check` and `status` agree after a restart.

When a run (the wizard, `run` or `resume`) has just got step 7 done, the demo ends with the
model chain: `emlsetup model add half_plus_two` (the shipped model), `emlsetup model test
half_plus_two` (HANA asks the TF Serving stand-in, which computes the model's graph: 2.5
for 1.0), the answer read back from HANA's output table through hdbcli, and `model add`
again, which changes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType

from steps.core.follow import is_our_wrapper
from steps.core.invocation import COMMAND_VAR
from tests.demo_keep import hana_server, stop_build
from tests.hana_server import HanaTestServer
from tests.os_releases import OS_RELEASE
from tests.sandbox import REPO, Sandbox
from tui.demo_notice import DEMO_NOTICE_VAR

SYSTEM_PW, ML_PW = "Demo-System1", "Demo-MlUser1"
NOTICE = f"Demo only: the HANA passwords are SYSTEM {SYSTEM_PW} and ML_USER {ML_PW}."
MODEL = "half_plus_two"
MODEL_CHAIN = (("model", "add", MODEL), ("model", "test", MODEL), ("model", "add", MODEL))
DISTRO, SPEED = "sles12sp2", "20"
# emlsetup's global options that take a value: the word after them is no command.
VALUED = {"--root", "--state-dir", "--config", "--distro", "--set"}


def open_sandbox(path: Path, distro: str) -> Sandbox:
    """A new sandbox, or the one a `--keep` folder already holds (its work is kept)."""
    if (path / "root" / "etc" / "os-release").exists():
        return Sandbox(path, distro)
    return Sandbox.create(path, distro)


def demo_command(folder: Path, distro: str = DISTRO, speed: str = SPEED) -> str:
    """How to run this demo again on its folder, as the admin types it in the repository."""
    python = Path(sys.executable)
    shown = python.relative_to(REPO) if python.is_relative_to(REPO) else python
    words = [str(shown), "-m", "tests.demo", "--keep", str(folder.resolve())]
    words += ["--distro", distro] if distro != DISTRO else []
    words += ["--speed", speed] if speed != SPEED else []
    return shlex.join(words)


def demo_env(
    sb: Sandbox,
    hana_port: int,
    speed: str,
    environ: Mapping[str, str] = os.environ,
    command: str = "",
) -> dict[str, str]:
    """The wizard's environment: the sandbox's, the admin's NO_COLOR, the file with the
    demo's passwords that the wizard shows (tui/demo_notice.py), and ``command``: the demo's
    own command line, which the wizard's re-attach and resume commands start with."""
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
    if command:
        env[COMMAND_VAR] = f"{command} --"
    return env


def read_state(sb: Sandbox) -> dict[str, object]:
    try:
        data = json.loads((sb.state_dir / "state.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def step_done(sb: Sandbox, number: int) -> bool:
    steps = read_state(sb).get("steps") or []
    assert isinstance(steps, list)
    return any(s.get("number") == number and s.get("status") == "done" for s in steps)


def build_left_running(sb: Sandbox) -> int | None:
    """The pid of a build the wizard left running in this sandbox, read from /proc."""
    steps = read_state(sb).get("steps") or []
    assert isinstance(steps, list)
    for step in steps:
        for action in step.get("actions", []) if step.get("number") == 5 else []:
            rec = (action.get("commands") or [{}])[-1]
            pending = rec.get("pid") and rec.get("exit_file") and rec.get("exit_code") is None
            if pending and is_our_wrapper(rec["pid"], Path(rec["exit_file"])):
                return int(rec["pid"])
    return None


def finish(sb: Sandbox, folder: Path, *, kept: bool, command: str = "") -> str:
    """After the wizard: stop and remove what the demo made, unless a build was left running
    (it goes on, in a kept folder) or the admin gave --keep. Returns what to tell them."""
    pid = build_left_running(sb)
    if pid is None:
        sb.cleanup()
    if pid is not None:
        command = command or demo_command(folder)
        return (
            f"The build goes on (pid {pid}) in {folder}. Follow it with `{command}`; "
            f"to stop it: `{command} --stop -- status`."
        )
    if not kept:
        shutil.rmtree(folder, ignore_errors=True)
        return ""
    return f"The sandbox is kept in {folder}."


def passed_through(environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's EMLSETUP_* variables (passwords, settings) reach the wizard, so
    `EMLSETUP_SYSTEM_PASSWORD=... python -m tests.demo run --yes` gets to step 7."""
    return {k: v for k, v in environ.items() if k.startswith("EMLSETUP_")}


def runs_steps(args: list[str]) -> bool:
    """The wizard (no command) or `run` / `resume`: the commands that can get step 7 done."""
    after = ["", *args]  # the word before each argument
    words = [w for w, b in zip(args, after, strict=False) if w[:1] != "-" and b not in VALUED]
    return not words or words[0] in ("run", "resume")


def hana_env(env: Mapping[str, str]) -> dict[str, str]:
    """For the commands the demo runs itself: its own made-up passwords (printed above)."""
    chain_env = {"EMLSETUP_SYSTEM_PASSWORD": SYSTEM_PW, "EMLSETUP_ML_USER_PASSWORD": ML_PW}
    chain_env.update(env)
    return chain_env


def model_chain(sb: Sandbox, env: Mapping[str, str], srv: HanaTestServer) -> int:
    """The shipped model served and asked from SQL, when step 7's checks pass (read from
    the sandbox and this demo's HANA test server); else one line on how to get there."""
    chain_env = hana_env(env)
    check = sb.cli_argv("check", "--step", "7")
    if subprocess.run(check, cwd=REPO, env=chain_env, capture_output=True).returncode != 0:
        print(
            f"The model chain (emlsetup model add / test {MODEL}) did not run: step 7 is "
            "done, but its checks do not pass now (emlsetup check --step 7 says which)."
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


def bring_back_serving(sb: Sandbox, env: Mapping[str, str]) -> None:
    """A kept sandbox's model server, started again as its systemd unit would at boot."""
    argv = [sys.executable, "-m", "tests.demo_serving", "--root", str(sb.root),
            "--state-dir", str(sb.state_dir)]  # fmt: skip
    said = subprocess.run(argv, cwd=REPO, env=dict(env), capture_output=True, text=True)
    lines = (said.stdout or said.stderr).strip().splitlines()
    if lines:
        print(lines[-1], flush=True)


def _pass(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C reached the demo too: its command has it and says how it ends."""


@contextlib.contextmanager
def ctrl_c_to_the_command() -> Iterator[None]:
    """As a shell does while a command runs: Ctrl-C (SIGINT to the terminal's process group)
    is the command's, and emlsetup stops cleanly ("Nothing done is lost", exit 130); the
    demo waits for it, then cleans up. Without this, subprocess.call kills the command
    0.25 s after the demo's own KeyboardInterrupt, in the middle of its interrupt. A
    handler, not SIG_IGN: an ignored signal would stay ignored in the commands (execve(2))."""
    previous = signal.signal(signal.SIGINT, _pass)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def speed(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a number above 0, e.g. 0.1 or 20")
    return text


def demo(opts: argparse.Namespace) -> int:
    folder = (opts.keep or Path(tempfile.mkdtemp(prefix="emlsetup-demo-"))).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    reopened = (folder / "sandbox" / "root" / "etc" / "os-release").exists()
    sb = open_sandbox(folder / "sandbox", opts.distro)
    command = demo_command(folder, opts.distro, opts.speed)
    server, loaded = hana_server(folder, {"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    code = 0
    try:
        with server as srv, ctrl_c_to_the_command():
            env = demo_env(sb, srv.port, opts.speed, command=command)
            print(f"Sandbox in {sb.path}. {NOTICE}", flush=True)
            if loaded:
                print(loaded, flush=True)
            if reopened:
                bring_back_serving(sb, env)
            before = step_done(sb, 7)
            code = subprocess.call(sb.cli_argv(*opts.args), cwd=REPO, env=env)
            if code == 0 and runs_steps(opts.args) and not before and step_done(sb, 7):
                code = model_chain(sb, env, srv)
            pid = build_left_running(sb) if opts.stop else None
            if pid is not None:
                print(stop_build(sb, hana_env(env), pid), flush=True)
    finally:
        said = finish(sb, folder, kept=opts.keep is not None, command=command)
        if said:
            print(said, flush=True)
    return code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distro", default=DISTRO, choices=sorted(OS_RELEASE))
    ap.add_argument(
        "--speed",
        default=SPEED,
        type=speed,
        help="how much faster than the recorded Bazel build (55 s) it is replayed: "
        "20 (default) takes 3 s, 0.1 about 9 minutes, to try Quit, Cancel and re-attach",
    )
    ap.add_argument("--keep", type=Path, help="use this folder and keep it afterwards")
    ap.add_argument(
        "--stop",
        action="store_true",
        help="on exit, stop a build left running the way Cancel does (default: keep it)",
    )
    ap.add_argument("args", nargs="*", help="emlsetup arguments after `--` (default: the wizard)")
    opts = ap.parse_args()
    try:
        return demo(opts)
    except BrokenPipeError:
        # `... | head`: the reader has what it wanted. Quiet, as emlsetup itself is
        # (steps/cli/main.py); the clean-up above has run. Python's own advice: point
        # stdout at devnull so the flush at exit does not fail again
        # (docs.python.org/3/library/signal.html, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
