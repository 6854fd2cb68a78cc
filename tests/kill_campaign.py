"""Kill the wizard anywhere, then resume: nothing is lost and nothing is done twice.

Each round starts a full headless run (steps 1 to 7, HANA being the wire-protocol test
server) in a fresh sandbox and SIGKILLs it at a kill point chosen by *event*, not by wall
time: a step starting, each call of a stand-in tool (prerequisite checks, actions, result
checks), each HANA statement, each save of the state file, the clone's middle and end, the
build's start, middle and end. A census run without a kill first counts each step's
events; every round then picks a step (cycling through 1 to 7 in a seeded order) and one of
its events at random. Stand-ins that take time (the clone writes .git first and the rest
later; the build) outlive the killed wizard, as they would on a real server.

After the kill the round checks that the state loads, that `emlsetup status` agrees with
what `emlsetup resume` then does (the same resume point, or "done" exactly when resume has
nothing to do), that resume finishes every step (step statuses, not only actions), and
reads the system and the stand-ins' call records: no non-idempotent action (useradd, the
sudoers file, the .profile line, the zypper repository, the clone, the virtualenv, the
build, the server start, the CREATE/GRANT statements) happened twice.

The CI suite runs a seeded sample (tests/test_kill_campaign.py); the full campaign is

    nice .venv/bin/python -m tests.kill_campaign --kills 200 --seed 1

It prints `kills per step: 1=a 2=b ... 7=g` and exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from steps.core.state import StateError, StateStore
from steps.core.status import where
from tests.hana_server import Catalogue, HanaTestServer
from tests.kill_events import StateSaves
from tests.sandbox import REPO, Sandbox

STEPS = range(1, 8)
CLONE_S = "0.4"  # the clone's .git exists this long before its working tree
ROUND_TIMEOUT_S = 300.0
ONCE = {  # (tool, words in its argv): must have run exactly once by the end
    "useradd": ("useradd",),
    "zypper addrepo": ("zypper", "addrepo"),
    "git clone": ("git", "clone"),
    "virtualenv": ("virtualenv",),
    "bazel build": ("bazel", "build"),
    "server start": ("tensorflow_model_server",),
}
_STEP_LINE = re.compile(r"^== Step (\d+):")


@dataclass
class Round:
    seed: int
    target: tuple[int, int] | None  # (step, n-th event of that step); None: the census
    killed: str = ""  # the event the kill came at ("" when the run ended first)
    step: int | None = None  # the step under way when the kill came
    problems: list[str] = field(default_factory=list)
    events: dict[int, list[str]] = field(default_factory=dict)
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
    if not sb.target("/home/tmsadm/serving/tools/bazel.rc").exists():  # 1.8.0's last
        problems.append("the checkout is incomplete")
    return problems


def check_hana(srv: HanaTestServer) -> list[str]:
    """Every CREATE and GRANT of step 7 reached HANA exactly as often as the tutorial says
    (two GRANTs), plus the AFLPM_CREATOR_ERASER_EXECUTE grant of SAP's ML user setup."""
    want = {"GRANT": 3, "CREATE REMOTE SOURCE": 1, "CREATE SCHEMA": 1, "CREATE TABLE": 3,
            "CREATE PROCEDURE": 1, "INSERT INTO CHECK_PARAMS": 1}  # fmt: skip
    sent = [s.sql.lstrip().upper() for s in srv.statements]
    got = {k: sum(x.startswith(k) for x in sent) for k in want}
    return [f"{k} sent {got[k]} times, expected {n}" for k, n in want.items() if got[k] != n]


def check_state(sb: Sandbox) -> list[str]:
    state = json.loads((sb.state_dir / "state.json").read_text())
    steps = [s for s in state["steps"] if s["number"] in STEPS]
    problems = [
        f"step {s['number']} is {s['status']} after resume" for s in steps if s["status"] != "done"
    ]
    unfinished = [
        f"step {s['number']} {a['id']}: {a['status']}"
        for s in steps
        for a in s["actions"]
        if a["status"] not in ("done", "already done", "skipped", "manual")
    ]
    if unfinished:
        problems.append(f"not finished after resume: {', '.join(unfinished)}")
    leftovers = sorted(p.name for p in sb.state_dir.iterdir() if p.name.startswith("."))
    if leftovers:
        problems.append(f"temporary files left in the state folder: {leftovers}")
    return problems


def _status(sb: Sandbox, env: dict[str, str]) -> tuple[int, dict[str, object]]:
    done = sb.run_cli("status", "--json", env=env)
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        return done.returncode, {"unreadable": done.stdout + done.stderr}


def check_agreement(code: int, said: dict[str, object], resumed: str) -> list[str]:
    """`status` before resume against what resume did."""
    first = next((x for x in resumed.splitlines() if x.startswith(("Resuming", "Nothing"))), "")
    if "unreadable" in said:
        return [f"status --json is not JSON: {said['unreadable']!r:.200}"]
    if said.get("status") == "not started":
        ok = first.startswith("Nothing to resume: no run")
    elif code == 0:
        ok = first.startswith("Nothing to resume: every step is done")
    else:
        rp = said.get("resume_point")
        want = where((rp["step"], rp["action"] or "")) if isinstance(rp, dict) else "?"
        ok = code in (1, 3) and first == f"Resuming at {want}"
    if ok:
        return []
    return [f"status said {said.get('status')!r} (exit {code}, {said.get('reason')!r}) "
            f"but resume said {first!r}"]  # fmt: skip


def _watch(sb: Sandbox, srv: HanaTestServer, proc: subprocess.Popen[bytes]) -> Iterator[
    tuple[int | None, str]
]:
    """The run's events in order, each with the step under way: from the wizard's output
    (a step starts), the stand-ins' FIFO, the state folder and the HANA test server."""
    fifo = sb.path / "events"
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    keep = os.open(fifo, os.O_WRONLY)  # the FIFO never reads as closed between tools
    saves = StateSaves(sb.state_dir)
    hana = srv._conn.fileno() if srv._conn is not None else -1  # statements arrive here
    assert proc.stdout is not None
    out = proc.stdout.fileno()
    os.set_blocking(out, False)
    step: int | None = None
    buffers = {out: b"", reader: b""}
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    try:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([out, reader, saves.fd, hana], [], [], max(left, 0))
            if not ready:
                yield step, "timeout"
                return
            for fd in ready:
                if fd == saves.fd:
                    for _ in range(saves.read()):
                        yield step, "state saved"
                    continue
                if fd == hana:
                    before = len(srv._statements)
                    for s in srv.statements[before:]:
                        yield step, f"sql {s.sql.split()[0] if s.sql.split() else ''}"
                    continue
                data = os.read(fd, 65536)
                if not data and fd == out:
                    yield step, "exit"
                    return
                buffers[fd] += data
                *lines, buffers[fd] = buffers[fd].split(b"\n")
                for raw in lines:
                    line = raw.decode(errors="replace")
                    if fd == reader:
                        yield step, line
                    elif m := _STEP_LINE.match(line):
                        step = int(m.group(1))
                        yield step, "step starts"
    finally:
        for fd in (reader, keep):
            os.close(fd)
        saves.close()


def _env(sb: Sandbox, srv: HanaTestServer, **extra: str) -> dict[str, str]:
    return sb.env(
        EMLSETUP_HANA__ADDRESS="127.0.0.1",
        EMLSETUP_HANA__SQL_PORT=str(srv.port),
        EMLSETUP_SYSTEM_PASSWORD="Campaign-Sys1",
        EMLSETUP_ML_USER_PASSWORD="Campaign-Ml1",
        FAKE_CLONE_S=CLONE_S,
        **extra,
    )


def one_round(folder: Path, seed: int, target: tuple[int, int] | None) -> Round:
    """Runs steps 1-7 and kills the wizard at the ``target`` (step, n-th event of the step),
    then resumes and checks; without a target, the run is a census of its events."""
    sb = Sandbox.create(folder)
    sb.state_dir.mkdir(parents=True)
    os.mkfifo(sb.path / "events")
    cat = Catalogue(users={"SYSTEM": "Campaign-Sys1", "ML_USER": "Campaign-Ml1"})
    rnd = Round(seed, target)
    try:
        with HanaTestServer(cat) as srv:
            env = _env(sb, srv)
            proc = subprocess.Popen(
                sb.cli_argv("run", "--yes"),
                cwd=REPO,
                env={**env, "FAKE_EVENTS": str(sb.path / "events")},
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            try:
                for step, what in _watch(sb, srv, proc):
                    if what in ("exit", "timeout"):
                        if what == "timeout":
                            rnd.problems.append("the run neither ended nor reached the kill point")
                        break
                    seen = rnd.events.setdefault(step or 0, [])
                    seen.append(what)
                    if target is not None and (step, len(seen) - 1) == target:
                        proc.kill()
                        rnd.killed, rnd.step = what, step
                        break
            finally:
                proc.kill()
                proc.wait()
            if not rnd.problems:
                rnd.problems += _resume_and_check(sb, srv, env, rnd)
    finally:
        sb.cleanup()
    return rnd


def _resume_and_check(
    sb: Sandbox, srv: HanaTestServer, env: dict[str, str], rnd: Round
) -> list[str]:
    try:
        StateStore(sb.state_dir).load()
    except StateError as exc:
        return [f"state does not load after the kill: {exc}"]
    code, said = _status(sb, env)
    again = sb.run_cli("resume", "--yes", env=env)
    problems = check_agreement(code, said, again.stdout)
    if "Nothing to resume: no run" in again.stdout:
        again = sb.run_cli("run", "--yes", env=env)
    rnd.resumed_at = next((x for x in again.stdout.splitlines() if x.startswith("Resuming")), "")
    if again.returncode != 0:  # check_state then says which steps are not finished
        tail = " / ".join(again.stdout.strip().splitlines()[-3:] + again.stderr.splitlines())
        problems.append(f"resume did not finish: {tail}")
    code, said = _status(sb, env)
    if code != 0:
        problems.append(f"status after resume: exit {code}, {said.get('reason')!r}")
    return problems + check_state(sb) + check_system(sb) + check_hana(srv)


def targets(census: Round, kills: int, seed: int) -> list[tuple[int, int]]:
    """A step per round (every step in turn, in a seeded order) and one of its events."""
    rng = random.Random(seed)
    order: list[int] = []
    while len(order) < kills:
        block = list(STEPS)
        rng.shuffle(block)
        order += block
    return [(s, rng.randrange(len(census.events.get(s, [""])))) for s in order[:kills]]


def census(folder: Path, seed: int) -> Round:
    rnd = one_round(folder, seed, None)
    missing = [s for s in STEPS if not rnd.events.get(s)]
    if missing:
        rnd.problems.append(f"the census run saw no events in step(s) {missing}")
    return rnd


def campaign(kills: int, seed: int, folder: Path) -> tuple[Round, list[Round]]:
    base = census(folder / "census", seed)
    if base.problems:
        return base, []
    plan = targets(base, kills, seed)
    rounds = [
        one_round(folder / f"round{i}", seed * 100_003 + i, target)
        for i, target in enumerate(plan)
    ]
    return base, rounds


def summary(base: Round, rounds: list[Round]) -> tuple[list[str], bool]:
    lines = [f"census: {sum(map(len, base.events.values()))} events, per step "
             + " ".join(f"{s}={len(base.events.get(s, []))}" for s in STEPS)]  # fmt: skip
    bad = [r for r in [base, *rounds] if r.problems]
    for r in bad:
        lines.append(f"seed {r.seed} target {r.target} killed at {r.killed!r} in step {r.step}: "
                     + "; ".join(r.problems))  # fmt: skip
    per_step = Counter(r.step for r in rounds if r.killed)
    kinds = Counter(r.killed.split()[0] + (" " + r.killed.split()[1] if r.killed.startswith(
        ("tool", "sql")) else "") for r in rounds if r.killed)  # fmt: skip
    lines.append("kills per step: " + " ".join(f"{s}={per_step.get(s, 0)}" for s in STEPS))
    lines.append(f"kills per event: {dict(kinds.most_common())}")
    lines.append(f"{len(rounds)} rounds: {sum(bool(r.killed) for r in rounds)} killed mid-run, "
                 f"{len(bad)} with problems")  # fmt: skip
    ok = not bad and all(per_step.get(s, 0) > 0 for s in STEPS) if rounds else not bad
    return lines, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        base, rounds = campaign(args.kills, args.seed, Path(tmp))
    lines, ok = summary(base, rounds)
    print("\n".join(lines))
    print(f"seed {args.seed}, {time.monotonic() - started:.0f} s")
    return 0 if ok and len(rounds) == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
