"""Issue 26, item 2: `emlsetup undo` reverses what emlsetup recorded doing, last step first,
read from the sandboxed system and the HANA test server (through hdbcli): every route,
a full demo-like run with a model, what an admin made by hand, a kill in the middle.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from steps.core.plan import Hardware, build_plan
from steps.core.settings import Settings
from steps.tutorial import STEPS
from tests.fakes.fakelib import install_tool
from tests.hana_server import Catalogue, HanaTestServer
from tests.kill_events import StateSaves
from tests.loopback import Listener
from tests.os_releases import OS_RELEASE
from tests.property_seed import REPLAY, SEED
from tests.sandbox import REPO, Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env

# What a run leaves that undo lists instead of removing: the packages step 3 installed (the
# stand-in package manager's database and the commands the packages put in /usr/bin), the
# stand-ins' own bookkeeping, the container image, and the folder `systemctl enable` made.
LISTED = ("usr/bin/", "var/lib/fake-packages", "var/lib/fake-images", "var/lib/fake-systemd",
          "etc/systemd/system/multi-user.target.wants")  # fmt: skip


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() and not p.is_symlink() else b""
        for p in root.rglob("*")
    }


def left_behind(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """What differs from the system before the run, but for what undo lists on purpose."""
    added = set(after) - set(before)
    changed = {k for k in set(before) & set(after) if before[k] != after[k]}
    gone = set(before) - set(after)
    return sorted(k for k in added | changed | gone if not k.startswith(LISTED))


FAST = {"FAKE_BAZEL_SPEED": "20000"}  # the replayed build in seconds, not minutes


def status(sb: Sandbox) -> dict[str, object]:
    return dict(json.loads(sb.run_cli("status", "--json").stdout))


def steps_status(data: dict[str, object]) -> dict[int, str]:
    return {int(s["number"]): str(s["status"]) for s in data["steps"]}  # type: ignore[attr-defined,index]


ROUTES = {
    "sles12sp2": {},  # the tutorial: the source build, the server by nohup
    "ubuntu1604": {},  # apt-key and TF Serving's apt repository
    "debian12-systemd": {"systemd": True},  # signed-by keyring, the systemd unit
    "debian12-container": {"set": 'serving.route="container"'},  # podman and its image
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_every_step_of_each_route_is_undone_after_a_run(
    make_sandbox: Callable[..., Sandbox], route: str
) -> None:
    how = ROUTES[route]
    sb = make_sandbox(route.split("-")[0])
    if how.get("systemd"):
        for folder in ("run/systemd/system", "etc/systemd/system"):  # booted by systemd
            (sb.root / folder).mkdir(parents=True)
        install_tool(sb.fakebin, "systemctl")
    sets = ["--set", str(how["set"])] if "set" in how else []
    before = tree(sb.root)
    for step in "23456":
        done = sb.run_cli(*sets, "run", "--yes", "--only-step", step, env=sb.env(**FAST))
        assert done.returncode == 0, done.stdout[-2000:]
    assert (sb.root / "etc/sudoers.d/tmsadm").exists() and (sb.root / "home/tmsadm").is_dir()
    server = int(sb.port)
    for step in "65432":
        undone = sb.run_cli(*sets, "undo", "--step", step, "--yes")
        assert undone.returncode == 0, undone.stdout[-3000:]
        if step == "6":  # the model server is stopped: nothing answers on its port
            import socket

            with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server), 2):
                pass
    assert left_behind(before, tree(sb.root)) == []
    said = sb.run_cli("status")
    assert said.stdout.startswith("undone: step 2, 3, 4, 5, 6 undone by `emlsetup undo`")
    assert "step 3: pending" in said.stdout


def _hana_rows(srv: HanaTestServer, sql: str) -> list[tuple[object, ...]]:
    return srv.query(sql, "SYSTEM", SYSTEM_PW)


@pytest.fixture
def hana() -> Iterator[tuple[Catalogue, HanaTestServer]]:
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        yield cat, srv


def test_undo_all_after_a_demo_like_run_leaves_all_pending_and_hana_clean_then_runs_again(
    sandbox: Sandbox, hana: tuple[Catalogue, HanaTestServer]
) -> None:
    _, srv = hana
    env = hana_env(sandbox, srv, **FAST)
    before = tree(sandbox.root)
    ran = sandbox.run_cli("run", "--yes", env=env)
    assert ran.returncode == 0 and "All steps done." in ran.stdout, ran.stdout[-3000:]
    for args in (("model", "add", "half_plus_two"), ("model", "test", "half_plus_two")):
        done = sandbox.run_cli(*args, env=env)
        assert done.returncode == 0, done.stdout[-2000:]
    assert _hana_rows(srv, 'SELECT COUNT(*) FROM "SYS"."PROCEDURES" WHERE SCHEMA_NAME = '
                      "'EML_DATA'") == [(2,)]  # fmt: skip

    ran_tree = tree(sandbox.root)
    dry = sandbox.run_cli("undo", "--all", "--dry-run", env=env)
    assert dry.returncode == 0 and "Dry run: nothing was changed." in dry.stdout, dry.stdout
    assert "$ userdel -r tmsadm" in dry.stdout and "DROP SCHEMA EML_DATA RESTRICT" in dry.stdout
    schema = next(x for x in dry.stdout.splitlines() if "Drop the schema EML_DATA" in x)
    assert "would check then" in schema and "once the lines above ran" in schema
    assert tree(sandbox.root) == ran_tree

    undone = sandbox.run_cli("undo", "--all", "--yes", env=env)
    assert undone.returncode == 0, undone.stdout[-4000:]
    out = undone.stdout
    assert out.index("== Undo step 7") < out.index("== Undo step 6") < out.index("== Undo step 2")
    assert "left in place" in out and "zypper remove" in out  # packages listed, not removed
    # HANA, read as an admin would through hdbcli: nothing emlsetup created is left.
    for sql in (
        "SELECT * FROM \"SYS\".\"SCHEMAS\" WHERE SCHEMA_NAME = 'EML_DATA'",
        "SELECT * FROM \"SYS\".\"REMOTE_SOURCES\" WHERE REMOTE_SOURCE_NAME = 'TensorFlow'",
        "SELECT * FROM \"SYS\".\"GRANTED_ROLES\" WHERE GRANTEE = 'ML_USER'",
        "SELECT * FROM \"SYS\".\"GRANTED_PRIVILEGES\" WHERE GRANTEE = 'ML_USER' AND "
        "OBJECT_NAME = 'EML_MODEL_CONFIGURATION'",
        "SELECT * FROM \"SYS\".\"PROCEDURES\" WHERE SCHEMA_NAME = 'EML_DATA'",
        "SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION",
    ):
        assert _hana_rows(srv, sql) == [], sql
    assert left_behind(before, tree(sandbox.root)) == []
    data = status(sandbox)
    assert data["status"] == "undone" and data["steps_done"] == []
    assert set(steps_status(data).values()) == {"pending"}

    again = sandbox.run_cli("run", "--yes", env=env)
    assert again.returncode == 0 and "All steps done." in again.stdout, again.stdout[-3000:]
    assert status(sandbox)["status"] == "done"


def test_what_an_admin_made_by_hand_before_the_run_survives_undo(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # By hand: the user and its home (step 2), ML_USER's role and the remote source (step 7).
    with (sandbox.root / "etc/passwd").open("a") as fh:
        fh.write("tmsadm:x:1500:1500:made by hand:/home/tmsadm:/bin/bash\n")
    (sandbox.root / "home/tmsadm").mkdir()
    (sandbox.root / "home/tmsadm/notes.txt").write_text("mine\n")
    serving = Listener()  # where the hand-made remote source points; it answers
    cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW}, ml_user_has_role=True,
                    remote_source=("127.0.0.1", serving.port))  # fmt: skip
    try:
        with HanaTestServer(cat) as srv:
            env = hana_env(sandbox, srv, EMLSETUP_SERVING__HOST="127.0.0.1",
                           EMLSETUP_SERVING__PORT=str(serving.port))  # fmt: skip
            for step in ("2", "7"):
                done = sandbox.run_cli("run", "--yes", "--only-step", step, env=env)
                assert done.returncode == 0, done.stdout[-3000:]
            undone = sandbox.run_cli("undo", "--step", "7", env=env)  # no root command in it
            assert undone.returncode == 0, undone.stdout[-3000:]
            assert "found done before emlsetup ran it" in undone.stdout
            role = "SELECT * FROM \"SYS\".\"GRANTED_ROLES\" WHERE GRANTEE = 'ML_USER'"
            assert len(_hana_rows(srv, role)) == 1
            source = 'SELECT * FROM "SYS"."REMOTE_SOURCES"'
            assert [r[0] for r in _hana_rows(srv, source)] == ["TensorFlow"]
            schema = "SELECT * FROM \"SYS\".\"SCHEMAS\" WHERE SCHEMA_NAME = 'EML_DATA'"
            assert _hana_rows(srv, schema) == []  # what emlsetup made is gone
    finally:
        serving.close()
    undone = sandbox.run_cli("undo", "--step", "2", "--yes")
    assert undone.returncode == 0, undone.stdout[-3000:]
    assert not (sandbox.root / "etc/sudoers.d/tmsadm").exists()  # emlsetup's
    assert "tmsadm:x:" in (sandbox.root / "etc/passwd").read_text()  # the admin's
    assert (sandbox.root / "home/tmsadm/notes.txt").read_text() == "mine\n"
    assert sandbox.calls("userdel") == []


def test_a_step_found_done_has_nothing_to_undo_and_says_so(sandbox: Sandbox) -> None:
    with (sandbox.root / "etc/passwd").open("a") as fh:
        fh.write("tmsadm:x:1500:1500:by hand:/home/tmsadm:/bin/bash\n")
    (sandbox.root / "home/tmsadm").mkdir()
    (sandbox.root / "etc/sudoers.d/tmsadm").write_text("tmsadm ALL=(ALL) NOPASSWD: ALL\n")
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
    undone = sandbox.run_cli("undo", "--step", "2", "--yes")
    assert undone.returncode == 0
    assert "Step 2: nothing to undo" in undone.stdout
    for title in ("Remove the sudo rule /etc/sudoers.d/tmsadm", "Remove the user tmsadm"):
        line = next(x for x in undone.stdout.splitlines() if title in x)
        assert line.startswith(" - nothing to undo") and "found done before emlsetup ran it" in line
    assert (sandbox.root / "etc/sudoers.d/tmsadm").exists() and sandbox.calls("rm") == []


def test_root_commands_are_confirmed_and_a_changed_file_is_kept(sandbox: Sandbox) -> None:
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
    refused = sandbox.run_cli("undo", "--step", "2")  # no terminal to answer y: not confirmed
    assert refused.returncode == 1 and "not confirmed" in refused.stdout
    assert "rm -f /etc/sudoers.d/tmsadm" in refused.stdout.split("Undo step 2")[0]  # shown first
    assert (sandbox.root / "etc/sudoers.d/tmsadm").exists() and sandbox.calls("rm") == []
    rule = sandbox.root / "etc/sudoers.d/tmsadm"
    rule.write_text(rule.read_text() + "Defaults:tmsadm !requiretty\n")  # the admin's line
    undone = sandbox.run_cli("undo", "--step", "2", "--yes")
    assert undone.returncode == 0, undone.stdout[-2000:]
    assert "kept" in undone.stdout and "changed since" in undone.stdout
    assert rule.read_text().endswith("!requiretty\n")
    assert "tmsadm:x:" not in (sandbox.root / "etc/passwd").read_text()


def test_a_step_a_later_one_needs_is_not_undone_alone(sandbox: Sandbox) -> None:
    for step in "234":
        done = sandbox.run_cli("run", "--yes", "--only-step", step)
        assert done.returncode == 0, done.stdout[-2000:]
    refused = sandbox.run_cli("undo", "--step", "2", "--yes")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("emlsetup: step 2 cannot be undone while step 4 keeps")
    assert "emlsetup undo --step 4" in refused.stderr
    assert (sandbox.root / "home/tmsadm/tms").is_dir() and sandbox.calls("userdel") == []


def test_a_kept_checkout_keeps_the_user_whose_home_holds_it(sandbox: Sandbox) -> None:
    for step in "2345":
        done = sandbox.run_cli("run", "--yes", "--only-step", step, env=sandbox.env(**FAST))
        assert done.returncode == 0
    kept = sandbox.run_cli("undo", "--step", "5", "--yes", "--keep-build")
    assert kept.returncode == 0, kept.stdout[-2000:]
    assert (sandbox.root / "home/tmsadm/serving/.git").exists()
    assert "kept, as you chose" in kept.stdout
    user = sandbox.run_cli("undo", "--all", "--yes")  # a later undo: still kept
    assert user.returncode == 0, user.stdout[-2000:]
    assert "which you chose to keep" in user.stdout
    assert not (sandbox.root / "home/tmsadm/tms").exists()  # the venv went
    assert (sandbox.root / "home/tmsadm/serving/.git").exists() and sandbox.calls("userdel") == []


def _undo_killed_after(sb: Sandbox, saves_wanted: int) -> bool:
    """`undo --all --yes`, SIGKILLed right after its Nth state save; False when it ended
    first."""
    saves = StateSaves(sb.state_dir)
    proc = subprocess.Popen(sb.cli_argv("undo", "--all", "--yes"), cwd=REPO, env=sb.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    seen = 0
    try:
        while seen < saves_wanted and proc.poll() is None:
            ready, _, _ = select.select([saves.fd], [], [], 60)
            assert ready, f"no state save within 60 s ({REPLAY})"
            seen += saves.read()
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        return killed
    finally:
        saves.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_kill_anywhere_in_an_undo_then_undo_again_finishes(sandbox: Sandbox) -> None:
    """Killed three times at seeded state saves (each undo goes on from the last), then let
    run: the end is the same as an undo never killed."""
    import random

    before = tree(sandbox.root)
    for step in "23456":
        done = sandbox.run_cli("run", "--yes", "--only-step", step, env=sandbox.env(**FAST))
        assert done.returncode == 0
    points = random.Random(SEED).sample(range(1, 12), 3)
    kills = [p for p in points if _undo_killed_after(sandbox, p)]
    assert kills, f"the undo ended before every kill point {points} ({REPLAY})"
    assert status(sandbox)["status"] in ("stopped", "undone"), REPLAY
    again = sandbox.run_cli("undo", "--all", "--yes")
    assert again.returncode == 0, f"{again.stdout[-3000:]} ({REPLAY}, killed at {kills})"
    assert left_behind(before, tree(sandbox.root)) == [], (REPLAY, kills)
    assert status(sandbox)["status"] == "undone", (REPLAY, kills)
    assert len(sandbox.calls("userdel")) == 1, (REPLAY, kills)  # never twice


# -- the data ---------------------------------------------------------------------------------
# Actions that leave nothing lasting behind (a cache cleaned, lists refreshed, a reload, a
# read, a password the admin sets) or whose mark the step itself removes again.
LEAVES_NOTHING = {"hxe-gc", "zypper-clean", "zypper-refresh", "python-repo-refresh",
                  "python-repo-remove", "yum-clean", "yum-repolist", "apt-update", "passwd",
                  "service-reload", "update-configuration", "check-destination"}  # fmt: skip


@pytest.mark.parametrize("sample", [s for s in OS_RELEASE if s in (
    "sles12sp2", "sles15sp5", "rhel7", "centos7", "rhel94", "ubuntu1604", "debian9",
    "debian12")])  # fmt: skip
@pytest.mark.parametrize("route", ["auto", "build", "container", "apt"])
def test_every_action_that_leaves_a_mark_has_its_undo(
    sample: str, route: str, tmp_path: Path
) -> None:
    from checks.distro import detect

    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE[sample])
    info = detect(root)
    try:
        plan = build_plan(
            Settings.model_validate({"serving": {"route": route}}), info, Hardware(), STEPS
        )
    except ValueError as exc:  # a route this release cannot take is refused, never planned
        assert route in ("container", "apt") and route in str(exc), (sample, route, exc)
        return
    for step in plan.steps:
        covered = {a for u in step.undo for a in u.reverses}
        missing = {a.id for a in step.actions} - covered - LEAVES_NOTHING
        assert not missing, (sample, route, step.number, missing)
        for undo in step.undo:
            assert undo.do or undo.keep, undo.title  # undone, or listed with the way by hand
