"""`emlsetup export ansible`, run for real: ansible-core drives three hosts on this machine
(``ansible_connection=local``), each its own sandbox (``--root``, ``--state-dir``, fake
executables first on PATH) and its own HANA test server: all seven steps.

For speed, two hosts run the emlsetup of this venv (``emlsetup_install: false``); the third
installs it as a server would, offline from a wheelhouse into a venv of its own."""

from __future__ import annotations

import json
import os
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
PASSWORDS = ("Fl33t-System-Pw!x7", "Fl33t-MlUser-Pw!q9")
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
ANSWERS = """\
[hana]
address = "127.0.0.1"
sql_port = 39999
connect_timeout_s = 2.0

[serving]
run_tests = false
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

    def inventory(self, broken: bool) -> Path:
        hosts = {
            name: host_vars(
                sb, self.hana[name], FAKE_FAIL="zypper:install" if broken and name == BROKEN else ""
            )
            for name, sb in self.sandboxes.items()
        }
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

    def playbook(self, *extra: str, broken: bool = False) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(self.inventory(broken)), "playbook.yml",
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


def host_vars(sb: Sandbox, hana: HanaTestServer, **env_extra: str) -> dict[str, Any]:
    """One sandbox as an Ansible host on this machine: its root, state, fake PATH and HANA."""
    env = {k: v for k, v in sb.env(**env_extra).items() if k.startswith(("FAKE_", "EMLSETUP_"))}
    env["EMLSETUP_HANA__SQL_PORT"] = str(hana.port)
    env.update(PATH=sb.env()["PATH"], HOME=sb.env()["HOME"], PYTHONDONTWRITEBYTECODE="1")
    return {
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


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    folder = tmp_path_factory.mktemp("fleet")
    made = export(folder, folder / "project")
    assert made.returncode == 0, made.stderr
    (folder / "vault-pass").write_text(VAULT_PASS + "\n")
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
        users = {"SYSTEM": PASSWORDS[0], "ML_USER": PASSWORDS[1]}
        hana = {name: stack.enter_context(HanaTestServer(Catalogue(users=users))) for name in HOSTS}
        fl = Fleet(folder, folder / "project", sandboxes, hana)
        try:
            yield fl
        finally:
            for sb in sandboxes.values():
                sb.cleanup()


@pytest.fixture(scope="module")
def first_run(fleet: Fleet) -> subprocess.CompletedProcess[str]:
    return fleet.playbook(broken=True)


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
        assert fleet.sandboxes[host].target("/etc/sudoers.d/tmsadm").exists()
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
            if data["running"]["build"]:
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
