"""Preflight: a run says at its start everything it will need, and stops before it changes
anything when something is missing (issue 20). The real CLI on a sandbox; download hosts
are loopback listeners (tests/loopback.py); HANA is the wire-protocol test server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks.preflight import (
    GB,
    DiskNeed,
    Space,
    command_rows,
    disk_rows,
    endpoint,
    knock,
    memory_row,
    parse_meminfo,
    probe_address,
    render,
    repo_urls,
    usable_memory,
)
from checks.result import Status
from tests.hana_server import Catalogue, HanaTestServer
from tests.loopback import closed_port
from tests.sandbox import REPO, Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env

MUTATING = ("useradd", "visudo", "zypper", "SUSEConnect", "virtualenv", "git", "bazel", "curl")

# /proc/meminfo of an HXE VM with 24 GB: HANA holds most of it (kernel 4.4, SLES 12 SP2).
HXE_MEMINFO = """\
MemTotal:       24676844 kB
MemFree:          512340 kB
MemAvailable:    2621440 kB
Buffers:           80212 kB
Cached:          2210336 kB
SwapCached:            0 kB
SwapTotal:       2097148 kB
SwapFree:        2097148 kB
"""
# RHEL 6 / SLES 11 kernels (before 3.14) have no MemAvailable.
OLD_MEMINFO = "MemTotal: 8000000 kB\nMemFree: 1000000 kB\nBuffers: 500000 kB\nCached: 2500000 kB\n"
ZYPP_REPO = """\
[SLES12-SP2-Updates]
name=SLES12-SP2-Updates
enabled=1
autorefresh=1
baseurl=https://updates.suse.com/SUSE/Updates/SLE-SERVER/12-SP2/x86_64/update?abc
type=rpm-md
"""
YUM_REPO = """\
[epel]
name=Extra Packages for Enterprise Linux 7 - $basearch
#baseurl=http://download.fedoraproject.org/pub/epel/7/$basearch
metalink=https://mirrors.fedoraproject.org/metalink?repo=epel-7&arch=$basearch
enabled=1
"""
SOURCES_LIST = """\
deb http://deb.debian.org/debian stretch main
# deb-src http://deb.debian.org/debian stretch main
deb [arch=amd64 signed-by=/x.gpg] http://security.debian.org/debian-security stretch/updates main
"""


# -- pure functions over measured facts ------------------------------------------------------
def test_needs_on_one_filesystem_add_up_and_too_little_space_fails() -> None:
    home = Space(1, "/home", 15 * GB)
    usr = Space(2, "/usr", 50 * GB)
    rows = disk_rows(
        [
            (DiskNeed("the checkout", "/home/tmsadm/serving", 1.5 * GB, 5), home),
            (DiskNeed("Bazel's output base", "/home/tmsadm/.cache/bazel", 20 * GB, 5), home),
            (DiskNeed("system packages", "/usr", 2 * GB, 3), usr),
        ]
    )
    by_where = {r.measured.split(" at ")[1]: r for r in rows}
    assert by_where["/home"].status == Status.FAIL and by_where["/home"].needed == "21.5 GB"
    assert "free 6.5 GB on the filesystem of /home" in by_where["/home"].fix
    assert by_where["/usr"].status == Status.OK and by_where["/usr"].steps == (3,)


def test_memory_is_what_hana_leaves_available_not_the_total() -> None:
    info = parse_meminfo(HXE_MEMINFO)
    assert usable_memory(info) == (2621440 * 1024, 2097148 * 1024)
    row = memory_row(info, 8 * GB, (5,))
    assert row.status == Status.FAIL and row.measured == "2.5 GB RAM available + 2.0 GB swap"
    assert "swapon" in row.fix and "HDB stop" in row.fix
    ram, swap = usable_memory(parse_meminfo(OLD_MEMINFO))
    assert (ram, swap) == ((1000000 + 500000 + 2500000) * 1024, 0)


def test_repository_files_name_their_download_hosts() -> None:
    assert [endpoint(u) for u in repo_urls(ZYPP_REPO, "rpm")] == [("updates.suse.com", 443)]
    # A $basearch in the path still names the host; a commented-out line names none.
    assert [endpoint(u) for u in repo_urls(YUM_REPO, "rpm")] == [("mirrors.fedoraproject.org", 443)]
    assert endpoint("http://$mirror/centos/7/os") is None
    assert [endpoint(u) for u in repo_urls(SOURCES_LIST, "apt")] == [
        ("deb.debian.org", 80),
        ("security.debian.org", 80),
    ]
    assert endpoint("/root/bazel-installer.sh") is None


def test_a_host_is_knocked_on_at_its_override_or_through_the_proxy() -> None:
    assert probe_address("pypi.org", 443, {"*": "127.0.0.1:9"}, {})[:2] == ("127.0.0.1", 9)
    assert probe_address("pypi.org", 443, {"pypi.org": "mirror:8443"}, {})[:2] == ("mirror", 8443)
    via = probe_address("pypi.org", 443, {}, {"https": "http://proxy.corp:3128"})
    assert via == ("proxy.corp", 3128, "through the proxy proxy.corp:3128")


def test_a_command_a_step_installs_is_missing_only_if_that_step_is_not_run_first() -> None:
    needed = {"git": {5}, "useradd": {2}, "virtualenv": {4}}
    present = {"useradd"}.__contains__
    ok = command_rows(needed, {"git": 3, "virtualenv": 3}, present)
    assert ok[0].status == Status.OK and "git (step 3)" in ok[0].measured
    missing = command_rows(needed, {"git": 3}, present)
    assert missing[0].status == Status.FAIL
    assert missing[0].measured == "missing: virtualenv"
    assert "virtualenv (step 4): install it or put it on PATH" in missing[0].fix
    too_late = command_rows({"git": {2}}, {"git": 3}, lambda c: False)
    assert "run step 3 first" in too_late[0].fix


def test_the_table_has_one_line_per_fix_and_says_what_was_accepted() -> None:
    rows = disk_rows([(DiskNeed("the checkout", "/x", 2 * GB, 5), Space(1, "/", GB))])
    text = render(rows)
    assert "measured: 1.0 GB free at /; needed: 2.0 GB" in text
    fixes = text.split("Fixes:\n")[1].splitlines()
    assert len(fixes) == 1 and fixes[0].endswith("--skip-preflight disk")
    assert "! accepted" in render(rows, ["disk"])


# -- the real CLI --------------------------------------------------------------------------
def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_nothing_changed(sb: Sandbox, before: dict[str, bytes]) -> None:
    assert tree(sb.root) == before
    assert not (sb.state_dir / "state.json").exists()
    assert [c for c in sb.calls() if c["tool"] in MUTATING] == []


@pytest.fixture
def hana() -> Iterator[HanaTestServer]:
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        yield srv


def test_run_without_hana_credentials_stops_before_step_1_and_changes_nothing(
    sandbox: Sandbox,
) -> None:
    before = tree(sandbox.root)
    done = sandbox.run_cli("run", "--yes")
    assert done.returncode == 1, done.stdout[-3000:]
    out = done.stdout
    assert "✘ fail  hana     HANA credentials (steps 1, 7)" in out
    assert "none for SYSTEM, ML_USER" in out and "EMLSETUP_SYSTEM_PASSWORD" in out
    assert "== Step 1" not in out and "Stopped before anything changed" in out
    # The other lines were measured too: the whole table, not the first failure.
    for name in ("disk", "memory", "commands", "hosts"):
        assert f"✔ ok    {name}" in out, name
    assert sandbox.hosts is not None and sandbox.hosts.accepted >= 5  # knocked, on loopback
    assert_nothing_changed(sandbox, before)


def test_the_demo_passes_emlsetup_variables_through_and_refuses_without_them() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMLSETUP_")}
    demo = [str(REPO / ".venv/bin/python"), "-m", "tests.demo", "--speed", "200", "--"]
    refused = subprocess.run(
        [*demo, "run", "--yes"], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 1, refused.stdout[-2000:]
    assert "none for SYSTEM, ML_USER" in refused.stdout and "== Step 1" not in refused.stdout
    env.update(EMLSETUP_SYSTEM_PASSWORD="Demo-System1", EMLSETUP_ML_USER_PASSWORD="Demo-MlUser1")
    given = subprocess.run(
        [*demo, "run", "--yes", "--only-step", "1"], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert given.returncode == 0, given.stdout[-2000:]
    assert "✔ ok    hana     HANA login as SYSTEM" in given.stdout
    assert "Step 1 done" in given.stdout


def test_a_wrong_password_is_found_before_step_1(sandbox: Sandbox, hana: HanaTestServer) -> None:
    before = tree(sandbox.root)
    env = hana_env(sandbox, hana, EMLSETUP_ML_USER_PASSWORD="wrong-one")
    done = sandbox.run_cli("run", "--yes", env=env)
    assert done.returncode == 1
    assert "✔ ok    hana     HANA login as SYSTEM" in done.stdout
    assert "✘ fail  hana     HANA login as ML_USER (step 7)" in done.stdout
    assert "authentication failed" in done.stdout.lower() and "wrong-one" not in done.stdout
    assert_nothing_changed(sandbox, before)


def test_hana_that_does_not_answer_is_one_line(sandbox: Sandbox) -> None:
    port = closed_port()
    env = sandbox.env(
        EMLSETUP_HANA__ADDRESS="127.0.0.1",
        EMLSETUP_HANA__SQL_PORT=str(port),
        EMLSETUP_SYSTEM_PASSWORD=SYSTEM_PW,
    )
    done = sandbox.run_cli("run", "--yes", "--only-step", "1", env=env)
    assert done.returncode == 1
    assert f"✘ fail  hana     HANA answers at 127.0.0.1:{port}" in done.stdout
    assert "HANA login as SYSTEM" in done.stdout and "not tried" in done.stdout


def test_too_little_disk_for_the_build_is_refused_before_step_2(sandbox: Sandbox) -> None:
    """The need set above what this machine's temporary folder has free."""
    free = shutil.disk_usage(sandbox.root).free
    need = str(round(free / GB + 1000))
    before = tree(sandbox.root)
    env = sandbox.env(EMLSETUP_PREFLIGHT__BAZEL_OUTPUT_GB=need)
    done = sandbox.run_cli("run", "--yes", "--from-step", "2", env=env)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "✘ fail  disk     free disk for" in done.stdout
    assert "Bazel's output base /home/tmsadm/.cache/bazel" in done.stdout
    assert "--skip-preflight disk" in done.stdout
    assert_nothing_changed(sandbox, before)


def test_a_small_filesystem_under_home_is_refused_with_the_real_needs(sandbox: Sandbox) -> None:
    """A 16 MB tmpfs on the sandbox's /home, mounted in a private mount namespace (nothing
    outside the test's process sees it), and the route's real needs (tens of GB)."""
    unshare = shutil.which("unshare")
    home = sandbox.target("/home")
    probe = subprocess.run(
        [unshare or "unshare", "-m", "true"], capture_output=True
    ) if unshare and os.geteuid() == 0 else None  # fmt: skip
    if probe is None or probe.returncode != 0:
        pytest.skip("needs root and unshare -m for a private tmpfs")
    env = sandbox.env()
    for key in [k for k in env if k.startswith("EMLSETUP_PREFLIGHT__") and k.endswith("_GB")]:
        del env[key]
    mount = shutil.which("mount") or "/bin/mount"
    script = f'{mount} -t tmpfs -o size=16m tmpfs "$0" && exec "$@"'
    done = subprocess.run(
        [unshare or "", "-m", "/bin/sh", "-c", script, str(home),
         *sandbox.cli_argv("run", "--yes", "--from-step", "2", "--to-step", "5")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    row = next(x for x in done.stdout.splitlines() if "free disk for" in x and "/home" in x)
    assert row.startswith("  ✘ fail  disk")
    assert "measured: 16 MB free at /home; needed: 23.0 GB" in done.stdout
    assert sandbox.calls("useradd") == [] and not (sandbox.state_dir / "state.json").exists()


def test_too_little_memory_for_the_build_is_refused(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    sb = make_sandbox(mem_kb=4 * 1024 * 1024)
    done = sb.run_cli("run", "--yes", "--from-step", "2", "--to-step", "5")
    assert done.returncode == 1
    assert "✘ fail  memory   memory for the build" in done.stdout
    assert "measured: 4.0 GB RAM available + 0 MB swap; needed: 8.0 GB" in done.stdout
    assert sb.calls("useradd") == []


def test_unreachable_hosts_and_missing_commands_name_their_steps(sandbox: Sandbox) -> None:
    closed = f"127.0.0.1:{closed_port()}"
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0  # tmsadm
    env = sandbox.env(EMLSETUP_PREFLIGHT__HOSTS=f'{{ "*" = "{closed}" }}')
    done = sandbox.run_cli("run", "--yes", "--only-step", "4", env=env)
    assert done.returncode == 1
    assert "✘ fail  hosts    pypi.org:443 answers (PyPI) (step 4)" in done.stdout
    assert f"probed at {closed}" in done.stdout
    # Step 3 is not part of this run, so nothing installs virtualenv before step 4.
    assert "✘ fail  commands found on PATH (step 4)" in done.stdout
    assert "virtualenv (step 4): run step 3 first" in done.stdout
    accepted = sandbox.run_cli(
        "run", "--yes", "--only-step", "4", "--skip-preflight", "hosts", env=env
    )
    assert accepted.returncode == 1
    assert "! accepted hosts" in accepted.stdout
    assert "go on with --skip-preflight commands" in accepted.stdout
    assert sandbox.calls("virtualenv") == []


def test_an_unknown_preflight_name_is_one_line(sandbox: Sandbox) -> None:
    done = sandbox.run_cli("run", "--yes", "--skip-preflight", "everything")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "hana, disk, memory, commands, hosts" in done.stderr.replace("'", "")


# -- "done, unverified" ------------------------------------------------------------------------
def test_a_step_whose_checks_could_not_run_is_never_done(
    sandbox: Sandbox, hana: HanaTestServer, tmp_path: Path
) -> None:
    done = sandbox.run_cli("run", "--yes", "--only-step", "1", "--skip-preflight", "hana")
    assert done.returncode == 4, done.stdout[-3000:]
    assert "! accepted hana" in done.stdout
    assert "Step 1 is done, unverified: 3 checks could not run" in done.stdout
    assert "emlsetup check --step 1" in done.stdout and "Step 1 done" not in done.stdout
    status = sandbox.run_cli("status", "--json")
    data = json.loads(status.stdout)
    assert status.returncode == 4 and data["status"] == "done, unverified"
    assert data["steps_done"] == [] and data["unverified_steps"] == [1]
    assert "AFL_AREAS rows for AREA_NAME = 'EML' (no HANA connection)" in data["reason"]
    text = sandbox.run_cli("status").stdout
    assert "step 1: done, unverified (3 checks could not run" in text
    report = tmp_path / "report.md"
    assert sandbox.run_cli("report", "-o", str(report)).returncode == 0
    assert "## Step 1: Install SAP HANA required packages — done, unverified" in report.read_text()
    assert "emlsetup check --step 1" in report.read_text()
    # Credentials given: resume reads the checks again and records the step done.
    again = sandbox.run_cli("resume", "--yes", env=hana_env(sandbox, hana))
    assert again.returncode == 0, again.stdout[-3000:]
    assert "Resuming at step 1, its result checks" in again.stdout
    assert "Step 1 done" in again.stdout
    final = sandbox.run_cli("status", "--json")
    assert final.returncode == 0 and json.loads(final.stdout)["steps_done"] == [1]


def test_a_build_to_re_attach_to_needs_no_new_disk(sandbox: Sandbox) -> None:
    """resume after a wizard left the build running: the output base is already being
    filled, so its 20 GB are not asked for again (the free space is smaller by now)."""
    from steps.core import preflight
    from steps.core.session import Options, Session
    from steps.core.state import ActionStatus

    env = sandbox.env()
    del env["EMLSETUP_PREFLIGHT__BAZEL_OUTPUT_GB"]
    session = Session.open(Options(root=sandbox.root, state_dir=sandbox.state_dir, environ=env))
    plan = session.plan()
    state = session.load_or_new_state(plan)
    fresh = preflight.would_run(session.engine(plan, state), plan, [5])
    assert "build" in fresh[5]
    needs = preflight.disk_needs(plan, session.settings, fresh)
    assert any("Bazel's output base" in n.what and n.bytes == 20 * GB for n in needs)
    state.step(5).action("build").status = ActionStatus.RUNNING
    again = preflight.would_run(session.engine(plan, state), plan, [5])
    assert "build" not in again[5] and "model-server" in again[5]
    assert not any("Bazel" in n.what for n in preflight.disk_needs(plan, session.settings, again))


def test_a_repository_host_no_resolver_can_take_is_a_row_not_a_crash() -> None:
    # A repository file may name anything; a 64-character label fails IDNA encoding before any
    # lookup (RFC 1035 caps a label at 63), which crashed the preflight with exit 70.
    assert knock("a" * 64 + ".example.com", 443, 1.0) == "not a valid host name"
    assert knock("mirror..example.com", 443, 1.0) == "not a valid host name"
