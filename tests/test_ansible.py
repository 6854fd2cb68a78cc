"""`emlsetup export ansible`, run for real: ansible-core drives three hosts on this machine
(``ansible_connection=local``), each its own sandbox (``--root``, ``--state-dir``, fake
executables first on PATH) and its own HANA test server: all seven steps.

The answers file's admin user, ML user and model server port are not the defaults and no
host overrides them: each host must show them. Per host only what separate machines differ
in is set: the HANA server's port and the host's own address (a loopback address each, for
its model server).

For speed, two hosts run the emlsetup of this venv (``emlsetup_install: false``); the third
installs it as a server would, offline from a wheelhouse into a venv of its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOSTS = ("hxe1", "hxe2", "hxe3")
BROKEN = "hxe3"
WHEELHOUSE_HOST = "hxe1"
# Unique to this session: the process scans read the whole machine, where another checkout's
# copy of this test may be running with its own passwords.
_TAG = os.urandom(4).hex()
PASSWORDS = (f"Fl33t-System-Pw!{_TAG}", f"Fl33t-MlUser-Pw!{_TAG}")
VAULT_PASS = "vault-pass-for-tests"
MUTATING = {
    "useradd": (),
    "visudo": (),
    "git": ("clone",),
    "virtualenv": (),
    "bazel": ("build",),
    "zypper": ("install",),
    "SUSEConnect": (),
}
ADMIN, ML_USER = "tfadmin", "EML_USER"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVING_PORT = _free_port()
ANSWERS = f"""\
[hana]
address = "127.0.0.1"
sql_port = 39999
connect_timeout_s = 2.0
ml_user = "{ML_USER}"

[admin]
user = "{ADMIN}"

[serving]
run_tests = false
port = {SERVING_PORT}
"""

pytestmark = pytest.mark.skipif(
    not (BIN / "ansible-playbook").exists(), reason="ansible-core is not installed (test extra)"
)


@dataclass
class Fleet:
    folder: Path
    project: Path
    sandboxes: dict[str, Sandbox]
    hana: dict[str, HanaTestServer]
    outputs: list[str] = field(default_factory=list)

    def inventory(self, broken: bool, overrides: dict[str, Any] | None = None) -> Path:
        hosts = {
            name: host_vars(
                sb,
                self.hana[name],
                HOSTS.index(name),
                self.folder / "passwords",
                FAKE_FAIL="zypper:install" if broken and name == BROKEN else "",
            )
            for name, sb in self.sandboxes.items()
        }
        for name, more in (overrides or {}).items():
            own = hosts[name]["emlsetup_settings_overrides"]
            for section, fields in more.items():
                own[section] = {**own.get(section, {}), **fields}
        # One host installs emlsetup as a real server would: offline, from the wheelhouse.
        home = self.sandboxes[WHEELHOUSE_HOST].path / "emlsetup"
        hosts[WHEELHOUSE_HOST] |= {
            "emlsetup_install": True,
            "emlsetup_python": sys.executable,
            "emlsetup_bin": str(home / "venv/bin/emlsetup"),
        }
        path = self.folder / "inventory.yml"
        path.write_text(json.dumps({"emlsetup": {"hosts": hosts}}, indent=1))
        return path

    def playbook(
        self, *extra: str, broken: bool = False, overrides: dict[str, Any] | None = None
    ) -> subprocess.CompletedProcess[str]:
        inventory = self.inventory(broken, overrides)
        done = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(inventory), "playbook.yml",
             "-e", "@" + str(self.folder / "secrets.yml"),
             "--vault-password-file", str(self.folder / "vault-pass"), *extra],
            cwd=self.project, env=ansible_env(self.folder), capture_output=True, text=True,
            timeout=150, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        self.outputs.append(done.stdout + done.stderr)
        return done

    def mutating_calls(self) -> dict[str, int]:
        return {
            f"{name}:{tool}": sum(1 for c in sb.calls(tool) if all(w in c["argv"] for w in words))
            for name, sb in self.sandboxes.items()
            for tool, words in MUTATING.items()
        }


def address(index: int) -> str:
    return f"127.0.1.{index + 1}"


def host_vars(
    sb: Sandbox, hana: HanaTestServer, index: int, scan: Path, **env_extra: str
) -> dict[str, Any]:
    """One sandbox as an Ansible host on this machine: its root, state, fake PATH and HANA.
    Its settings come from the answers file; only its HANA port and its own address are
    its own (as for separate machines)."""
    env = {k: v for k, v in sb.env(**env_extra).items() if k.startswith("FAKE_")}
    env.update(PATH=sb.env()["PATH"], HOME=sb.env()["HOME"], PYTHONDONTWRITEBYTECODE="1")
    env.update(FAKE_HOST_ADDRESS=address(index), FAKE_PROC_SCAN=str(scan))
    # The preflight's download hosts are the sandbox's loopback listener, never the internet.
    env.update({k: v for k, v in sb.env().items() if k.startswith("EMLSETUP_PREFLIGHT__")})
    return {
        "emlsetup_settings_overrides": {
            "hana": {"sql_port": hana.port},
            "serving": {"host": address(index)},
        },
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "emlsetup_become": False,
        "emlsetup_install": False,
        "emlsetup_bin": str(BIN / "emlsetup"),
        "emlsetup_home": str(sb.path / "emlsetup"),
        "emlsetup_state_dir": str(sb.state_dir),
        "emlsetup_global_args": ["--root", str(sb.root)],
        "emlsetup_run_args": [],
        "emlsetup_environment": env,
        "emlsetup_poll_delay": 1,
        "emlsetup_async_timeout": 300,
    }


def ansible_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMLSETUP_", "FAKE_"))}
    home = folder / "ansible-home"
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        LC_ALL="C.UTF-8", LANG="C.UTF-8",
        ANSIBLE_HOME=str(home), ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_REMOTE_TEMP=str(home / "remote-tmp"), ANSIBLE_ASYNC_DIR=str(home / "async"),
        ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_LOCALHOST_WARNING="0",
    )  # fmt: skip
    return env


def export(folder: Path, project: Path) -> subprocess.CompletedProcess[str]:
    answers = folder / "answers.toml"
    answers.write_text(ANSWERS)
    return subprocess.run(
        [str(BIN / "emlsetup"), "--config", str(answers), "export", "ansible", "-o", str(project)],
        capture_output=True, text=True, cwd=folder,
    )  # fmt: skip


def build_wheelhouse(folder: Path, house: Path) -> None:
    """As the README's offline install makes it (needs the package index, as CI has)."""
    from tests.test_wheelhouse import pip, wheelhouse

    own = pip("wheel", "--no-deps", "-q", str(REPO), "-w", str(folder / "own"))
    assert own.returncode == 0, own.stderr
    wheel = next((folder / "own").glob("emlsetup-*.whl"))
    wheelhouse(wheel, house, f"{sys.version_info.major}.{sys.version_info.minor}")


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP lines: host -> {ok, changed, failed, ...}."""
    out = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        name, sep, rest = line.partition(" : ")
        if sep:
            out[name.strip()] = {
                k: int(v) for k, v in (x.split("=") for x in rest.split() if "=" in x)
            }
    return out


def changed(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The tasks that reported a change, for assertion messages."""
    return [t.splitlines()[0] for t in done.stdout.split("TASK [") if "changed: [" in t]


def summary(fleet: Fleet) -> dict[str, dict[str, Any]]:
    return summary_of(fleet.project)


def summary_of(project: Path) -> dict[str, dict[str, Any]]:
    rows = json.loads((project / "reports/summary.json").read_text())
    return {r["host"]: r for r in rows}


def assert_table_aligned(fleet: Fleet) -> None:
    """reports/summary.txt: each column starts where its header does, however long the
    distro name; one line per host; a step named once in a reason."""
    table = (fleet.project / "reports/summary.txt").read_text().splitlines()
    head = table[0]
    starts = [head.index(name) for name in ("distro", "status", "steps done", "changed")]
    rows = summary(fleet)
    for host in HOSTS:
        line = next(x for x in table if x.startswith(host + " "))
        assert line[starts[0] :].startswith(rows[host]["distro"]), (line, head)
        assert line[starts[1] :].startswith(rows[host]["status"]), (line, head)
        assert line[starts[1] - 2 : starts[1]] == "  ", (line, head)
    assert len(table) == 1 + len(HOSTS)
    assert "step 3: step 3" not in "\n".join(table)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    folder = tmp_path_factory.mktemp("fleet")
    made = export(folder, folder / "project")
    assert made.returncode == 0, made.stderr
    (folder / "vault-pass").write_text(VAULT_PASS + "\n")
    (folder / "passwords").write_text("\n".join(PASSWORDS) + "\n")  # what the scans look for
    secrets = folder / "secrets.yml"
    secrets.write_text(
        f'emlsetup_system_password: "{PASSWORDS[0]}"\nemlsetup_ml_user_password: "{PASSWORDS[1]}"\n'
    )
    vaulted = subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt", str(secrets),
         "--vault-password-file", str(folder / "vault-pass")],
        env=ansible_env(folder), capture_output=True, text=True,
    )  # fmt: skip
    assert vaulted.returncode == 0, vaulted.stderr
    build_wheelhouse(folder, folder / "project" / "wheelhouse")
    sandboxes = {name: Sandbox.create(folder / name, "sles12sp2") for name in HOSTS}
    with ExitStack() as stack:
        users = {"SYSTEM": PASSWORDS[0], ML_USER: PASSWORDS[1]}
        hana = {name: stack.enter_context(HanaTestServer(Catalogue(users=users))) for name in HOSTS}
        fl = Fleet(folder, folder / "project", sandboxes, hana)
        try:
            yield fl
        finally:
            for sb in sandboxes.values():
                sb.cleanup()


@pytest.fixture(scope="module")
def first_run(fleet: Fleet) -> subprocess.CompletedProcess[str]:
    """At -vvv: what an admin debugging the play sees must not hold a password either."""
    return fleet.playbook("-vvv", broken=True)


@pytest.fixture(scope="module")
def fixed_runs(
    fleet: Fleet, first_run: subprocess.CompletedProcess[str]
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """The broken host repaired: the next run finishes it, the one after changes nothing."""
    return fleet.playbook(), fleet.playbook()


def test_the_export_is_a_complete_project_and_passes_ansible_lint(fleet: Fleet) -> None:
    for name in ("playbook.yml", "inventory.example.ini", "README.md",
                 "group_vars/all/main.yml", "group_vars/all/settings.yml",
                 "templates/answers.toml.j2"):  # fmt: skip
        assert (fleet.project / name).is_file(), name
    settings = (fleet.project / "group_vars/all/settings.yml").read_text()
    assert 'address: "127.0.0.1"' in settings and "sql_port: 39999" in settings
    readme = (fleet.project / "README.md").read_text()
    assert "ansible-core >=2.16,<2.17" in readme and "2.7 and 3.6" in readme
    if not (BIN / "ansible-lint").exists():
        pytest.skip("ansible-lint is not installed")
    linted = subprocess.run(
        [str(BIN / "ansible-lint"), "--offline", "--profile", "production", "."],
        cwd=fleet.project, env=ansible_env(fleet.folder), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_check_mode_on_new_hosts_writes_nothing_and_says_what_is_missing(fleet: Fleet) -> None:
    """Before any run (so before the first_run fixture): one host has no emlsetup yet, the
    others have it but no answers file and no state. Ansible reports what a real run would
    change (the folder, the answers file, the install); nothing is."""
    checked = fleet.playbook("--check")
    assert checked.returncode == 0, checked.stdout
    assert all(c["failed"] == 0 for c in recap(checked.stdout).values()), checked.stdout
    rows = summary(fleet)
    assert rows[WHEELHOUSE_HOST]["status"] == "not installed"
    assert "a run without --check installs it first" in rows[WHEELHOUSE_HOST]["reason"]
    assert all(rows[h]["status"] == "not started" for h in set(HOSTS) - {WHEELHOUSE_HOST})
    assert "Plan for SUSE Linux Enterprise Server" in checked.stdout  # from the answers given
    assert not any(fleet.mutating_calls().values())
    for sb in fleet.sandboxes.values():
        assert not (sb.state_dir / "state.json").exists()
        assert not (sb.path / "emlsetup/answers.toml").exists()
    assert not (fleet.sandboxes[WHEELHOUSE_HOST].path / "emlsetup/venv").exists()


def test_all_hosts_run_and_the_broken_one_fails_with_its_reason(
    fleet: Fleet, first_run: subprocess.CompletedProcess[str]
) -> None:
    out = first_run.stdout
    assert first_run.returncode != 0, out  # one host failed: the playbook says so
    counts = recap(out)
    assert set(counts) == set(HOSTS), out
    assert counts[BROKEN]["failed"] == 1
    for host in set(HOSTS) - {BROKEN}:
        assert counts[host]["failed"] == 0 and counts[host]["changed"] >= 1, (host, out)
    rows = summary(fleet)
    for host in set(HOSTS) - {BROKEN}:
        assert rows[host]["status"] == "done"
        assert rows[host]["steps_done"] == [1, 2, 3, 4, 5, 6, 7]
        assert rows[host]["distro"].startswith("SUSE Linux Enterprise Server 12")
    broken = rows[BROKEN]
    assert broken["status"] == "failed" and broken["failed_step"] == 3
    assert broken["steps_done"] == [1, 2]
    assert "failed" in broken["reason"] and "zypper" in broken["reason"], broken
    # The table is printed once, with a line per host and the broken host's reason.
    assert out.count("Summary across hosts") == 1
    table = (fleet.project / "reports/summary.txt").read_text()
    assert all(host in table for host in HOSTS) and "step 3: " in table
    assert_table_aligned(fleet)
    assert len(rows[BROKEN]["distro"]) > 28  # wider than the old fixed column
    assert "1,2,3,4,5,6,7" in table
    # Every host's report reached the controller.
    for host in HOSTS:
        report = json.loads((fleet.project / f"reports/{host}.json").read_text())
        assert report["distro"] == rows[host]["distro"]
        assert {s["number"] for s in report["steps"]} == {1, 2, 3, 4, 5, 6, 7}
    # The wheelhouse host installed emlsetup offline into its own venv, and used it.
    venv = fleet.sandboxes[WHEELHOUSE_HOST].path / "emlsetup/venv"
    assert (venv / "bin/emlsetup").exists()
    assert list(venv.glob("lib/python3*/site-packages/emlsetup-*.dist-info"))
    assert f"changed: [{WHEELHOUSE_HOST}]" in out.split("Install emlsetup from the wheelhouse")[1]
    # The hosts really were configured, each in its own sandbox.
    for host in set(HOSTS) - {BROKEN}:
        assert fleet.sandboxes[host].target(f"/etc/sudoers.d/{ADMIN}").exists()
        sent = [st.sql for st in fleet.hana[host].statements]
        assert sum(x.startswith("CREATE REMOTE SOURCE") for x in sent) == 1, host


def test_after_the_fix_the_broken_host_finishes_and_a_second_run_changes_nothing(
    fleet: Fleet, fixed_runs: tuple[subprocess.CompletedProcess[str], ...]
) -> None:
    fixed, again = fixed_runs
    assert fixed.returncode == 0, fixed.stdout
    assert recap(fixed.stdout)[BROKEN]["changed"] >= 1
    before = fleet.mutating_calls()
    assert again.returncode == 0, again.stdout
    counts = recap(again.stdout)
    assert set(counts) == set(HOSTS)
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in counts.values()), counts
    assert all(r["status"] == "done" and not r["changed"] for r in summary(fleet).values())
    assert fleet.mutating_calls() == before
    for host, srv in fleet.hana.items():  # step 7 ran again and created nothing twice
        creates = [st.sql for st in srv.statements if st.sql.startswith(("CREATE", "GRANT"))]
        assert len(creates) == len(set(creates)), (host, creates)


def test_check_mode_runs_plan_and_check_only(
    fleet: Fleet, fixed_runs: tuple[subprocess.CompletedProcess[str], ...]
) -> None:
    before = fleet.mutating_calls()
    states = {h: (sb.state_dir / "state.json").read_text() for h, sb in fleet.sandboxes.items()}
    checked = fleet.playbook("--check")
    assert checked.returncode == 0, checked.stdout
    counts = recap(checked.stdout)
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in counts.values()), changed(checked)
    assert "Plan for SUSE Linux Enterprise Server" in checked.stdout
    assert fleet.mutating_calls() == before
    assert states == {h: (sb.state_dir / "state.json").read_text()
                      for h, sb in fleet.sandboxes.items()}  # fmt: skip


def test_no_password_in_the_export_the_reports_or_the_output(
    fleet: Fleet, fixed_runs: tuple[subprocess.CompletedProcess[str], ...]
) -> None:
    exported = [p for p in fleet.project.rglob("*") if "wheelhouse" not in p.parts]
    places = [*exported, *(sb.state_dir for sb in fleet.sandboxes.values())]
    files = [p for place in places for p in ([place] if place.is_file() else place.rglob("*"))]
    texts = [p.read_text(errors="replace") for p in files if p.is_file()]
    texts += fleet.outputs + [
        (sb.path / "emlsetup/answers.toml").read_text() for sb in fleet.sandboxes.values()
    ]
    assert len(fleet.outputs) >= 3 and any("report" in str(p) for p in files)
    for secret in PASSWORDS:
        assert not any(secret in t for t in texts)
    # The passwords reached only emlsetup, never a tool it ran.
    assert all(not c["secret_env"] for sb in fleet.sandboxes.values() for c in sb.calls())


def test_no_password_on_any_process_of_the_hosts_nor_in_the_vvv_output(
    fleet: Fleet,
    first_run: subprocess.CompletedProcess[str],
    fixed_runs: tuple[subprocess.CompletedProcess[str], ...],
) -> None:
    """Every stand-in call scanned /proc/*/cmdline and /proc/*/environ of every process of
    the machine (the hosts' emlsetup, the shells and modules Ansible started, the tools):
    none held a password, while `check` and the run were going on each host."""
    for host, sb in fleet.sandboxes.items():
        scans = [c["proc_scan"] for c in sb.calls() if "proc_scan" in c]
        assert [f for scan in scans for f in scan["found"]] == [], host
        seen = [cmd for scan in scans for cmd in scan["emlsetup"]]
        assert any(c.endswith("--passwords-from-stdin check") for c in seen), (host, seen)
        assert any("--passwords-from-stdin run --yes --background" in c for c in seen), host
    vvv = first_run.stdout + first_run.stderr
    assert "<hxe1> EXEC /bin/sh -c" in vvv, "not a -vvv output"
    assert not any(secret in vvv for secret in PASSWORDS)
    for task in ("Check the prerequisites", "Start the run in the background"):
        # Pipelined: the module and its stdin argument never become a file on the host.
        section = vvv.split(f"TASK [{task}]")[1].split("TASK [")[0]
        assert "AnsiballZ_command.py" not in section and " PUT " not in section, task


def test_the_answers_files_values_reach_every_host(
    fleet: Fleet, fixed_runs: tuple[subprocess.CompletedProcess[str], ...]
) -> None:
    """The admin user, the ML user and the model server port of the answers file, on every
    host (no host overrides them)."""
    for host, sb in fleet.sandboxes.items():
        answers = (sb.path / "emlsetup/answers.toml").read_text()
        assert f'user = "{ADMIN}"' in answers and f"port = {SERVING_PORT}" in answers, host
        assert any(ADMIN in c["argv"] for c in sb.calls("useradd")), host
        sudoers = sb.target(f"/etc/sudoers.d/{ADMIN}")
        assert sudoers.read_text().startswith(f"{ADMIN} "), host
        servers = [c for c in sb.calls("tensorflow_model_server")]
        assert servers and all(f"--port={SERVING_PORT}" in c["argv"] for c in servers), host
        assert {c["user"] for c in servers} == {ADMIN}, host
        sent = [(st.user, st.sql) for st in fleet.hana[host].statements]
        assert any(u == "SYSTEM" and q.startswith("GRANT") and q.endswith(f"TO {ML_USER}")
                   for u, q in sent), host  # fmt: skip
        remote = [q for u, q in sent if q.startswith("CREATE REMOTE SOURCE")]
        assert remote == [
            'CREATE REMOTE SOURCE "TensorFlow" ADAPTER "grpc" '
            f"CONFIGURATION 'server={address(HOSTS.index(host))};port={SERVING_PORT}'"
        ], host
        assert {u for u, q in sent if q.startswith("CREATE SCHEMA")} == {ML_USER}, host


def test_hxe_gc_and_the_reload_run_once_then_only_when_needed(
    fleet: Fleet, fixed_runs: tuple[subprocess.CompletedProcess[str], ...]
) -> None:
    """Three runs on each host: hxe_gc.sh and UpdateModelConfiguration ran once each; the
    last run changed nothing and says what it re-checked instead."""
    for host, sb in fleet.sandboxes.items():
        assert len(sb.calls("hxe_gc.sh")) == 1, host
        reloads = [
            st for st in fleet.hana[host].statements if st.sql == "CALL UPDATE_CONFIGURATION()"
        ]
        assert len(reloads) == 1, host
    rows = summary(fleet)
    for host, row in rows.items():
        assert row["changed_actions"] == [] and "1/hxe-gc" in row["rechecked_actions"], host
        assert "7/update-configuration" in row["rechecked_actions"], host
    table = (fleet.project / "reports/summary.txt").read_text().splitlines()
    assert table[0].split() == ["host", "distro", "status", "steps", "done", "changed",
                                "re-checked", "reason"]  # fmt: skip
    for host in HOSTS:
        line = next(x for x in table if x.startswith(host))
        changed_col = table[0].index("changed")
        assert line[changed_col:].split()[:2] == ["0", str(len(rows[host]["rechecked_actions"]))]


def test_a_bad_override_ends_with_its_reason_and_the_summary(
    fleet: Fleet, fixed_runs: tuple[subprocess.CompletedProcess[str], ...]
) -> None:
    bad = "hxe2"
    done = fleet.playbook(overrides={bad: {"serving": {"port": 70000}}})
    assert done.returncode != 0
    counts = recap(done.stdout)
    assert counts[bad]["failed"] == 1 and counts["hxe1"]["failed"] == 0, counts
    row = summary(fleet)[bad]
    assert row["status"] == "error", row
    assert row["reason"].startswith("emlsetup: serving.port (from ") and "65535" in row["reason"]
    assert "70000" in row["reason"] and "\n" not in row["reason"]
    assert done.stdout.count("Summary across hosts") == 1
    summary_out = done.stdout.split("Summary across hosts")[1]
    assert f'"{bad}' in summary_out and "error" in summary_out and "65535" in summary_out
    failed = done.stdout.split("TASK [Fail the hosts where emlsetup did not finish]")[1]
    assert f"emlsetup on {bad}: error: emlsetup: serving.port" in failed
    assert all(summary(fleet)[h]["status"] == "done" for h in set(HOSTS) - {bad})
    assert not any(secret in done.stdout + done.stderr for secret in PASSWORDS)


def test_status_json_reports_a_running_build_as_in_progress(sandbox: Sandbox) -> None:
    """Exit 3 while a detached build is alive, so a poller waits; 0 once the run is done."""
    env = sandbox.env(FAKE_BAZEL_SPEED="2")
    run = subprocess.Popen(
        sandbox.cli_argv("run", "--yes", "--from-step", "2", "--to-step", "5"),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            polled = sandbox.run_cli("status", "--json", env=env)
            data = json.loads(polled.stdout)
            # The clone also runs detached (and counts as in progress): wait for Bazel.
            if (data["running"]["build"] or {}).get("action") == "build":
                seen = data
                assert polled.returncode == 3 and data["status"] == "in progress"
                break
            time.sleep(0.2)
        assert seen, "the build was never seen running"
        assert seen["running"]["build"]["step"] == 5 and seen["running"]["pid"]
        # Without the run that follows it, the build alone still means "in progress".
        run.kill()
        run.wait()
        alone = sandbox.run_cli("status", "--json", env=env)
        assert alone.returncode == 3, alone.stdout
        assert json.loads(alone.stdout)["running"]["pid"] is None
        build = json.loads(alone.stdout)["running"]["build"]
        assert build["log"] and "last_line" in build and "percent" in build
    finally:
        run.kill()
        run.wait()
    sandbox.cleanup()  # the build dies without its exit status: the run stopped
    stopped = sandbox.run_cli("status", "--json", env=env)
    data = json.loads(stopped.stdout)
    assert stopped.returncode == 1 and data["status"] == "stopped", data
    assert data["resume_point"]["step"] == 5 and data["steps_done"] == [2, 3, 4]
    text = sandbox.run_cli("status", env=env)
    assert text.returncode == 1 and "resume point: step 5" in text.stdout
