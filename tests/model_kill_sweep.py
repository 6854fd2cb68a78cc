"""Kill `emlsetup model add` at every point inside it, run it again: the same end.

The points are the wizard's own (steps/models/checkpoints.py): each phase's start and end,
each file of the SavedModel half and wholly copied, the temporary config.cnf before its
rename, each HANA statement done (the model row, the EML reload, the wrapper's types,
tables, signature rows and the AFLLANG call), the reload's answer, each GetModelStatus
answer, and on a TF Serving without HandleReloadConfigRequest each moment of its restart.
At each point the wizard waits for this harness, which answers or SIGKILLs it right there:
no sleeping, no wall-clock kill times.

A census run (never killed) lists the points and gives the end every round must reach.
Each round kills `model add half_plus_two` at one point, runs the same command again and
compares: the exported model tree and config.cnf byte for byte (and owners, modes), no
partial copy or temporary file left, the HANA rows read through hdbcli (model
configuration, the EML_DATA objects, the signature and parameter tables), one model
server running, each non-idempotent statement sent as often as in the census run; then
`model test` must answer 2.5 for 1.0, read back through hdbcli. `model remove` and
deleting the files it moved aside make the start of the next round.

    nice .venv/bin/python -m tests.model_kill_sweep [--route reload|restart|both]
                                                    [--sample N --seed S]

"reload": TF Serving with HandleReloadConfigRequest; "restart": without it (the wizard
restarts step 6's server). The full sweep (default) kills at every point of both routes;
it prints each round and `kills: N, problems: M` and exits 1 on any problem. CI runs a
seeded sample (tests/test_model_kill_points.py).
"""

from __future__ import annotations

import argparse
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdbcli import dbapi

from steps.models.checkpoints import ENV
from tests.fakes.fakelib import install_tool
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import REPO, Sandbox

SYSTEM_PW, ML_PW = "Sweep-System1", "Sweep-MlUser1"
EXPORT = "/home/tmsadm/export"
MODEL = "half_plus_two"
ROUND_TIMEOUT_S = 120.0
# Statements that change HANA: each must reach it as often as in the census run.
ONCE = ("INSERT INTO _SYS_AFL", "CREATE TYPE", "CREATE COLUMN TABLE", "CALL SYS.AFLLANG")
HANA_READS = {
    "config": 'SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION ORDER BY "Model"',
    "procedures": "SELECT PROCEDURE_NAME FROM SYS.PROCEDURES WHERE SCHEMA_NAME = 'EML_DATA' "
    "ORDER BY PROCEDURE_NAME",
    "tables": "SELECT TABLE_NAME, IS_USER_DEFINED_TYPE FROM SYS.TABLES WHERE SCHEMA_NAME = "
    "'EML_DATA' ORDER BY TABLE_NAME",
    "signature": "SELECT * FROM EML_DATA.HALF_PLUS_TWO_SIGNATURE ORDER BY POSITION",
    "params": 'SELECT * FROM EML_DATA.HALF_PLUS_TWO_PARAMS ORDER BY "Parameter"',
}


class SweepError(Exception):
    pass


@dataclass
class Added:
    points: list[str] = field(default_factory=list)
    output: str = ""
    killed_at: str = ""  # the point the kill came at; "" when it ran to the end
    code: int | None = None


@dataclass
class Bench:
    """A sandboxed server with the tutorial's steps 2, 6 and 7 done, and a HANA test server."""

    sb: Sandbox
    srv: HanaTestServer
    env: dict[str, str]
    route: str
    rounds: int = 0

    @classmethod
    def open(cls, folder: Path, srv: HanaTestServer, route: str) -> Bench:
        sb = Sandbox.create(folder)
        install_tool(sb.fakebin, "tensorflow_model_server")
        env = sb.env(
            EMLSETUP_HANA__ADDRESS="127.0.0.1",
            EMLSETUP_HANA__SQL_PORT=str(srv.port),
            EMLSETUP_HANA__CONNECT_TIMEOUT_S="3",
            EMLSETUP_SYSTEM_PASSWORD=SYSTEM_PW,
            EMLSETUP_ML_USER_PASSWORD=ML_PW,
        )
        if route == "restart":
            env["FAKE_TF_NO_RELOAD"] = "1"
        bench = cls(sb, srv, env, route)
        for args in (["--only-step", "2"], ["--from-step", "6"]):
            bench.cli("run", "--yes", *args)
        return bench

    def cli(self, *args: str, ok: bool = True) -> str:
        done = self.sb.run_cli(*args, env=self.env)
        if ok and done.returncode != 0:
            raise SweepError(f"emlsetup {' '.join(args)}: exit {done.returncode}: "
                             f"{(done.stdout + done.stderr)[-1500:]}")  # fmt: skip
        return done.stdout

    def add(self, kill_at: int | None = None) -> Added:
        """`model add` with its points answered; killed at point number ``kill_at``."""
        self.rounds += 1
        fifos = self.sb.path / f"points{self.rounds}"
        fifos.mkdir()
        os.mkfifo(fifos / "events")
        os.mkfifo(fifos / "go")
        events = os.open(fifos / "events", os.O_RDONLY | os.O_NONBLOCK)
        keep = os.open(fifos / "events", os.O_WRONLY)  # never EOF between two points
        go = os.open(fifos / "go", os.O_RDWR)
        proc = subprocess.Popen(
            self.sb.cli_argv("model", "add", MODEL), cwd=REPO, env={**self.env, ENV: str(fifos)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert proc.stdout is not None
        out = proc.stdout.fileno()
        added, pending, said = Added(), b"", b""
        deadline = time.monotonic() + ROUND_TIMEOUT_S
        try:
            while True:
                left = deadline - time.monotonic()
                ready, _, _ = select.select([events, out], [], [], max(left, 0))
                if not ready:
                    raise SweepError(f"model add neither ended nor reached a point: {said!r}")
                if events in ready:
                    pending += os.read(events, 4096)
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        added.points.append(line.decode())
                        if kill_at is not None and len(added.points) - 1 == kill_at:
                            proc.kill()
                            added.killed_at = added.points[-1]
                            return added
                        os.write(go, b"g")
                if out in ready:
                    data = os.read(out, 65536)
                    if not data:
                        break
                    said += data
        finally:
            proc.kill()
            added.code = proc.wait()
            added.output = (said + proc.stdout.read()).decode(errors="replace")
            proc.stdout.close()
            for fd in (events, keep, go):
                os.close(fd)
        return added

    def hana(self) -> dict[str, list[tuple[Any, ...]]]:
        conn = dbapi.connect(address="127.0.0.1", port=self.srv.port, user="ML_USER",
                             password=ML_PW, databaseName="HXE")  # fmt: skip
        try:
            cur = conn.cursor()
            got = {}
            for key, sql in HANA_READS.items():
                try:
                    cur.execute(sql)
                    got[key] = [tuple(r) for r in cur.fetchall()]
                except dbapi.Error as exc:
                    got[key] = [("error", str(exc.errortext)[:80])]
            return got
        finally:
            conn.close()

    def end(self) -> dict[str, Any]:
        """What a careful admin compares: files, HANA rows, servers running."""
        export = self.sb.target(EXPORT)
        tree = {}
        for path in sorted((export / MODEL).rglob("*")):
            st = path.lstat()
            body = path.read_bytes() if path.is_file() else b""
            tree[str(path.relative_to(export))] = (st.st_mode, st.st_uid, body)
        leftovers = sorted(
            str(p.relative_to(self.sb.path))
            for where in (export, self.sb.state_dir)
            for p in where.rglob(".*")
            if p.name.endswith((".emlsetup-new", ".new"))
        )
        return {
            "tree": tree,
            "config.cnf": (export / "config.cnf").read_bytes(),
            "leftovers": leftovers,
            "hana": self.hana(),
            "servers running": len(self.servers()),
        }

    def servers(self) -> list[int]:
        """The stand-in model servers of this sandbox that run (their pid files stay after
        they end, and pids are recycled: the command line must be the stand-in's)."""
        program = str(self.sb.fakebin / "tensorflow_model_server").encode()
        pids = []
        for f in (self.sb.path / "pids").glob("server-*"):
            pid = int(f.read_text())
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if program in cmdline and "State:\tZ" not in status:
                pids.append(pid)
        return pids

    def sent(self, since: int) -> dict[str, int]:
        sql = [s.sql.lstrip().upper() for s in self.srv.statements[since:]]
        return {k: sum(x.startswith(k) for x in sql) for k in ONCE}

    def smoke(self) -> list[str]:
        said = self.cli("model", "test", MODEL, ok=False)
        problems = [] if "HANA asked TensorFlow and got 2.5 for 1" in said else [
            f"model test: {said.strip()[-300:]!r}"]  # fmt: skip
        rows = self.hana_rows("SELECT * FROM EML_DATA.HALF_PLUS_TWO_OUTPUT")
        if rows != [(2.5,)]:
            problems.append(f"the output table read through hdbcli holds {rows}, not [(2.5,)]")
        return problems

    def hana_rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.srv.query(sql, "ML_USER", ML_PW)

    def reset(self) -> None:
        """Back to before `model add`: remove it (its files go to .removed/), and delete
        them as the admin would."""
        self.cli("model", "remove", MODEL)
        shutil.rmtree(self.sb.target(f"{EXPORT}/.removed"))


@dataclass
class Census:
    points: list[str]
    end: dict[str, Any]
    sent: dict[str, int]


def census(bench: Bench) -> Census:
    before = bench.sb.target(f"{EXPORT}/config.cnf").read_bytes()
    since = len(bench.srv.statements)
    added = bench.add()
    if added.code != 0:
        raise SweepError(f"the census run failed: {added.output[-1500:]}")
    result = Census(added.points, bench.end(), bench.sent(since))
    bench.reset()
    if bench.sb.target(f"{EXPORT}/config.cnf").read_bytes() != before:
        raise SweepError("model remove did not give config.cnf back as it was")
    return result


def one_round(bench: Bench, base: Census, kill_at: int) -> list[str]:
    """Kill at point ``kill_at``, run `model add` again, compare with the census' end."""
    since = len(bench.srv.statements)
    killed = bench.add(kill_at)
    if not killed.killed_at:
        return [f"the run ended before point {kill_at} ({base.points[kill_at]})"]
    problems = []
    if killed.killed_at != base.points[kill_at]:
        problems.append(f"point {kill_at} was {killed.killed_at!r}, not {base.points[kill_at]!r}")
    again = bench.sb.run_cli("model", "add", MODEL, env=bench.env)
    if again.returncode != 0:
        return [*problems, f"model add after the kill: exit {again.returncode}: "
                f"{again.stdout.strip()[-600:]!r}"]  # fmt: skip
    if "Resuming the interrupted `model add half_plus_two`" not in again.stdout:
        problems.append("the second model add did not say that it resumes")
    end = bench.end()
    for key, want in base.end.items():
        if end[key] != want:
            problems.append(f"{key} differs: {_diff(end[key], want)}")
    if bench.sent(since) != base.sent:
        problems.append(f"HANA got {bench.sent(since)}, an unkilled run {base.sent}")
    problems += bench.smoke()
    bench.reset()
    return problems


def _diff(got: Any, want: Any) -> str:
    if isinstance(got, dict) and isinstance(want, dict):
        keys = sorted(k for k in {*got, *want} if got.get(k) != want.get(k))
        return "; ".join(f"{k}: {str(got.get(k))[:120]} != {str(want.get(k))[:120]}" for k in keys)
    return f"{str(got)[:200]} != {str(want)[:200]}"


@dataclass
class Sweep:
    points: list[str]  # every point of an unkilled `model add`, in order
    killed: list[int]  # the points killed at
    problems: list[str]


def sweep(
    folder: Path,
    route: str,
    sample: int | None,
    seed: int,
    out: Any = sys.stdout,
    must: tuple[str, ...] = (),
) -> Sweep:
    """Kills at every point of one route, or at a seeded sample of them plus the points
    named in ``must``."""
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        bench = Bench.open(folder, srv, route)
        try:
            base = census(bench)
            chosen = list(range(len(base.points)))
            if sample is not None:
                named = {base.points.index(p) for p in must if p in base.points}
                rest = [i for i in chosen if i not in named]
                picked = random.Random(seed).sample(rest, min(sample, len(rest)))
                chosen = sorted(named | set(picked))
            print(f"{route}: {len(base.points)} points, killing at {len(chosen)}", file=out)
            result = Sweep(base.points, chosen, [])
            for i in chosen:
                found = one_round(bench, base, i)
                print(f"  {i:3} {base.points[i]}: {'; '.join(found) or 'same end'}", file=out,
                      flush=True)  # fmt: skip
                result.problems += [f"{route} point {i} ({base.points[i]}): {p}" for p in found]
            return result
        finally:
            bench.sb.cleanup()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--route", choices=["reload", "restart", "both"], default="both")
    ap.add_argument("--sample", type=int, help="kill at this many points per route (seeded)")
    ap.add_argument("--seed", type=int, default=1)
    opts = ap.parse_args()
    routes = ["reload", "restart"] if opts.route == "both" else [opts.route]
    kills, problems = 0, list[str]()
    with tempfile.TemporaryDirectory(prefix="model-kill-sweep-") as tmp:
        for route in routes:
            done = sweep(Path(tmp) / route, route, opts.sample, opts.seed)
            kills, problems = kills + len(done.killed), problems + done.problems
    print(f"kills: {kills}, problems: {len(problems)}")
    for p in problems:
        print(f"  {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
