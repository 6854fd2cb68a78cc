"""Kill the wizard anywhere, then resume: nothing is lost and nothing is done twice.

Each round starts a full headless run (steps 2 to 7, HANA being the wire-protocol test
server) in a fresh sandbox, SIGKILLs it at a
random moment, checks that the state file still loads, runs `emlsetup resume`, and then
reads the system and the stand-ins' call records: every step finished, and no
non-idempotent action (useradd, the sudoers file, the .profile line, adding the zypper
repository, the clone, the virtualenv, the server start, the CREATE statements) happened twice.

The CI suite runs a seeded sample (tests/test_kill_campaign.py); the full campaign is

    .venv/bin/python -m tests.kill_campaign --kills 200 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from steps.state import StateError, StateStore
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import REPO, Sandbox

FULL_RUN_S = 7.0  # a whole run (steps 2-7) in the sandbox takes about this long (measured: 6.5 s)
SPEED = "50"
ONCE = {  # (tool, words in its argv): must have run exactly once by the end
    "useradd": ("useradd",),
    "zypper addrepo": ("zypper", "addrepo"),
    "git clone": ("git", "clone"),
    "virtualenv": ("virtualenv",),
    "server start": ("tensorflow_model_server",),
}


@dataclass
class Round:
    seed: int
    killed_at: float | None  # None: the run ended before the kill came
    problems: list[str] = field(default_factory=list)
    bazel_builds: int = 0
    resumed_at: str = ""


def _count(sb: Sandbox, tool: str, *words: str) -> int:
    return sum(1 for c in sb.calls(tool) if all(w in c["argv"] for w in words))


def check_system(sb: Sandbox) -> list[str]:
    """What a careful admin would look at after the run."""
    problems = []
    for name, (tool, *words) in ONCE.items():
        n = _count(sb, tool, *words)
        if n != 1:
            problems.append(f"{name} ran {n} times")
    passwd = sb.target("/etc/passwd").read_text()
    if passwd.count("\ntmsadm:") != 1:
        problems.append("tmsadm is in /etc/passwd more or less than once")
    sudoers = sb.target("/etc/sudoers.d/tmsadm")
    if not sudoers.exists() or sudoers.read_text() != "tmsadm ALL=(ALL) NOPASSWD: ALL\n":
        problems.append("the sudoers drop-in is missing or wrong")
    leftovers = [p.name for p in sb.target("/etc/sudoers.d").iterdir() if p.name != "tmsadm"]
    if leftovers:
        problems.append(f"temporary files left in /etc/sudoers.d: {leftovers}")
    profile = sb.target("/home/tmsadm/.profile")
    lines = profile.read_text().count("export PATH=") if profile.exists() else 0
    if lines != 1:
        problems.append(f".profile has {lines} PATH lines")
    return problems


def check_hana(srv: HanaTestServer) -> list[str]:
    """Every CREATE and GRANT of step 7 reached HANA exactly as often as the tutorial says."""
    want = {"GRANT": 2, "CREATE REMOTE SOURCE": 1, "CREATE SCHEMA": 1, "CREATE TABLE": 3,
            "CREATE PROCEDURE": 1, "INSERT INTO CHECK_PARAMS": 1}  # fmt: skip
    sent = [s.sql.lstrip().upper() for s in srv.statements]
    got = {k: sum(x.startswith(k) for x in sent) for k in want}
    return [f"{k} sent {got[k]} times, expected {n}" for k, n in want.items() if got[k] != n]


def check_state(sb: Sandbox) -> list[str]:
    state = json.loads((sb.state_dir / "state.json").read_text())
    unfinished = [
        f"step {s['number']} {a['id']}: {a['status']}"
        for s in state["steps"]
        if 2 <= s["number"] <= 7
        for a in s["actions"]
        if a["status"] not in ("done", "already done", "skipped", "manual")
    ]
    problems = [f"not finished after resume: {', '.join(unfinished)}"] if unfinished else []
    leftovers = sorted(p.name for p in sb.state_dir.iterdir() if p.name.startswith("."))
    if leftovers:
        problems.append(f"temporary files left in the state folder: {leftovers}")
    return problems


def one_round(folder: Path, seed: int) -> Round:
    rng = random.Random(seed)
    sb = Sandbox.create(folder)
    cat = Catalogue(users={"SYSTEM": "Campaign-Sys1", "ML_USER": "Campaign-Ml1"})
    with HanaTestServer(cat) as srv:
        env = sb.env(
            FAKE_BAZEL_SPEED=SPEED,
            EMLSETUP_HANA__ADDRESS="127.0.0.1",
            EMLSETUP_HANA__SQL_PORT=str(srv.port),
            EMLSETUP_SYSTEM_PASSWORD="Campaign-Sys1",
            EMLSETUP_ML_USER_PASSWORD="Campaign-Ml1",
        )
        try:
            return _kill_and_resume(sb, srv, env, rng.uniform(0.0, FULL_RUN_S), seed)
        finally:
            sb.cleanup()


def _kill_and_resume(
    sb: Sandbox, srv: HanaTestServer, env: dict[str, str], delay: float, seed: int
) -> Round:
    proc = subprocess.Popen(
        sb.cli_argv("run", "--yes", "--from-step", "2"),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rnd = Round(seed, delay)
    try:
        proc.wait(timeout=delay)
        rnd.killed_at = None
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    try:
        StateStore(sb.state_dir).load()
    except StateError as exc:
        rnd.problems.append(f"state does not load after the kill: {exc}")
        return rnd
    again = sb.run_cli("resume", "--yes", env=env)
    if "no run in" in again.stdout:
        again = sb.run_cli("run", "--yes", "--from-step", "2", env=env)
    rnd.resumed_at = next((x for x in again.stdout.splitlines() if x.startswith("Resuming")), "")
    if again.returncode != 0:  # check_state then says which actions are not finished
        tail = " / ".join(again.stdout.strip().splitlines()[-3:] + again.stderr.splitlines())
        rnd.problems.append(f"resume did not finish: {tail}")
    rnd.problems += check_state(sb) + check_system(sb) + check_hana(srv)
    rnd.bazel_builds = _count(sb, "bazel", "build")
    return rnd


def campaign(kills: int, seed: int, folder: Path) -> list[Round]:
    return [one_round(folder / f"round{i}", seed * 100_003 + i) for i in range(kills)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        rounds = campaign(args.kills, args.seed, Path(tmp))
    bad = [r for r in rounds if r.problems]
    for r in bad:
        print(f"seed {r.seed} killed at {r.killed_at}: {'; '.join(r.problems)}")
    where = Counter(r.resumed_at.split(",")[0] if r.resumed_at else "-" for r in rounds)
    print(
        f"{len(rounds)} rounds in {time.monotonic() - started:.0f} s: "
        f"{sum(r.killed_at is not None for r in rounds)} killed mid-run, {len(bad)} with problems; "
        f"bazel builds per round: {dict(Counter(r.bazel_builds for r in rounds))}; "
        f"resumed at: {dict(where)}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
