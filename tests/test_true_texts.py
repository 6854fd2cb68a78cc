"""What the engine and the steps' data say is so on the system they speak of (issue 23,
item 5): a skip names the condition that failed, the way it failed; a note speaks only of
the routes it is about, with that route's values; a skip for want of a password is not
"finished"; and an admin account with uid 0 is a second root account, not a pass."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from steps.core.session import Options, Session
from steps.core.state import ActionStatus
from tests.sandbox import Sandbox
from tests.test_run_hana import SYSTEM_PW

SCRIPT_HASH = "/usr/sap/HXE/home/bin/.system-password.sha256"


def _plan(sb: Sandbox, **env: str) -> dict[int, dict[str, Any]]:
    done = sb.run_cli("plan", "--json", env=sb.env(**env))
    assert done.returncode == 0, done.stderr
    return {s["number"]: s for s in json.loads(done.stdout)["steps"]}


def _said(step: dict[str, Any]) -> str:
    return step["explanation"] + "\n" + "\n".join(step["corrections"])


def _session(sb: Sandbox, **env: str) -> Session:
    return Session.open(Options(root=sb.root, state_dir=sb.state_dir, environ=sb.env(**env)))


def test_step_6_without_systemd_says_systemd_does_not_run_here(sandbox: Sandbox) -> None:
    """The sandbox has no /run/systemd/system: the unit actions are skipped because systemd
    does NOT run this system, and the reason says that, not the opposite."""
    session = _session(sandbox)
    plan = session.plan()
    session.store.ensure_folder()
    engine = session.engine(plan, session.load_or_new_state(plan))
    step = plan.step(6)
    unit = next(a for a in step.actions if a.id == "service-unit")
    status, reason = engine.verdict(step, unit)
    assert status == ActionStatus.SKIPPED
    assert reason == (
        "not applicable here: only where systemd runs this system, and here it is not so (absent)"
    )


def test_sles12_notes_name_only_sles12s_values(make_sandbox: Callable[..., Sandbox]) -> None:
    steps = _plan(make_sandbox("sles12sp2"))
    four, five = _said(steps[4]), _said(steps[5])
    assert "Python 3 route" not in four and "eager .numpy()" not in four
    assert "pinned below 2 (1.15.0)" in four
    assert "docker.io/tensorflow/serving:" not in five  # SLES 12 builds; no image is pulled
    assert "container image" not in "\n".join(steps[5]["corrections"])


def test_python3_routes_notes_name_their_own_versions(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    steps = _plan(make_sandbox("sles15sp5"))
    notes = "\n".join(steps[4]["corrections"])
    assert "TensorFlow and the serving API are both 2.21.0 (the newest for Python 3.11)" in notes
    assert "Python 2.7" not in notes and "pip<21" not in notes
    five = "\n".join(steps[5]["corrections"])
    assert "container image docker.io/tensorflow/serving:2.21.0 replaces" in five
    assert "1.15.0" not in _said(steps[5])


def test_an_apt_key_route_has_no_signed_by_note_and_rhel7s_image_is_its_own(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    debian9 = "\n".join(_plan(make_sandbox("debian9"))[5]["corrections"])
    assert "signed-by" not in debian9
    debian12 = "\n".join(_plan(make_sandbox("debian12"))[5]["corrections"])
    assert "signed-by" in debian12
    rhel7 = _plan(make_sandbox("rhel7"), EMLSETUP_SERVING__ROUTE="container")[5]
    notes = "\n".join(rhel7["corrections"])
    assert "SLES 15 and RHEL 8/9" not in notes  # RHEL 7 is neither
    assert "container image docker.io/tensorflow/serving:1.15.0 replaces" in notes


def test_hxe_gc_skipped_for_want_of_the_password_runs_once_it_is_given(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First only an hdbuserstore key: skipped. Then the password is given and step 1 goes
    on in the same run state (the wizard and `resume` trust finished actions): the script
    runs; it is not "finished in an earlier run", because it never ran."""
    for key, value in sandbox.env().items():  # what the tools the engine runs inherit
        monkeypatch.setenv(key, value)
    sandbox.target(SCRIPT_HASH).write_text(hashlib.sha256(SYSTEM_PW.encode()).hexdigest())
    keyed = _session(sandbox, EMLSETUP_HANA__SYSTEM_KEY="HXESYSTEM")
    plan = keyed.plan()
    keyed.store.ensure_folder()
    first = keyed.engine(plan, keyed.load_or_new_state(plan), sql=keyed.sql_backend())
    step = plan.step(1)
    gc = next(a for a in step.actions if a.id == "hxe-gc")
    assert first.run_action(step, gc)
    assert first.state.step(1).action("hxe-gc").status == ActionStatus.SKIPPED
    assert sandbox.calls("hxe_gc.sh") == []

    given = _session(sandbox, EMLSETUP_SYSTEM_PASSWORD=SYSTEM_PW)
    state = given.store.load()
    assert state is not None
    second = given.engine(plan, state, sql=given.sql_backend())  # trusts the state
    status, reason = second.verdict(step, gc)
    assert (status, reason) == (None, ""), reason
    assert second.run_action(step, gc)
    assert len(sandbox.calls("hxe_gc.sh")) == 1
    assert second.state.step(1).action("hxe-gc").status == ActionStatus.DONE


def _useradd(sb: Sandbox, passwd_uids: list[int], login_defs: str = "", *args: str) -> int:
    """The stand-in useradd, run as the wizard runs it, on a passwd with these uids."""
    sb.target("/etc/passwd").write_text(
        "".join(f"u{uid}:x:{uid}:{uid}::/home/u{uid}:/bin/sh\n" for uid in passwd_uids)
    )
    sb.target("/etc/login.defs").write_text(login_defs)
    done = subprocess.run(
        [str(sb.fakebin / "useradd"), *args, "newbie"],
        env=sb.env(EMLSETUP_ROOT=str(sb.root)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    line = sb.target("/etc/passwd").read_text().splitlines()[-1]
    assert line.startswith("newbie:x:")
    return int(line.split(":")[2])


def test_the_stand_in_useradd_allocates_uids_like_shadow_utils(sandbox: Sandbox) -> None:
    """find_new_uid(): one above the highest uid in [UID_MIN, UID_MAX], UID_MIN when none is,
    the lowest gap when UID_MAX is taken; system users count down from SYS_UID_MAX; the
    ranges come from login.defs; never 0 (the tester here is root)."""
    assert _useradd(sandbox, [0, 65534]) == 1000
    assert _useradd(sandbox, [0, 1000, 1001, 65534]) == 1002
    assert _useradd(sandbox, [0, 1000, 60000]) == 1001
    assert _useradd(sandbox, [0, 999], "", "-r") == 998
    assert _useradd(sandbox, [0, 480], "UID_MIN 500\nSYS_UID_MAX 499 # SUSE\n", "-r") == 499
    assert _useradd(sandbox, [0, 1000], "UID_MIN  500\n") == 1001


def test_step_2_gives_the_admin_a_uid_of_its_own(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("run", "--yes", "--only-step", "2")
    assert done.returncode == 0, done.stdout[-2000:]
    passwd = sandbox.target("/etc/passwd").read_text()
    uid = int(re.search(r"^tmsadm:x:(\d+):", passwd, re.M).group(1))  # type: ignore[union-attr]
    assert uid == 1002  # hxeadm has 1001, the highest in UID_MIN..UID_MAX
    checked = sandbox.run_cli("check", "--step", "2")
    assert "user tmsadm exists: uid 1002" in checked.stdout


def test_an_admin_with_uid_0_is_a_second_root_account_not_a_pass(sandbox: Sandbox) -> None:
    with sandbox.target("/etc/passwd").open("a") as fh:
        fh.write("tmsadm:x:0:0:TensorFlow Administrator:/home/tmsadm:/bin/bash\n")
    checked = sandbox.run_cli("check", "--step", "2")
    assert checked.returncode == 1, checked.stdout
    line = next(x for x in checked.stdout.splitlines() if "user tmsadm exists" in x)
    assert "✘ fail" in line and "uid 0" in line and "a second root account" in line
    assert "✔ ok" not in line
    assert "usermod -u UID tmsadm" in checked.stdout
    # A run of step 2 stops at its prerequisite, before anything is done as that user.
    ran = sandbox.run_cli("run", "--yes", "--only-step", "2")
    assert ran.returncode == 1
    assert "tmsadm is not a second root account (uid 0" in ran.stdout
    assert sandbox.calls("useradd") == [] and sandbox.calls("visudo") == []
