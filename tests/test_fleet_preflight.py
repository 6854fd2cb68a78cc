"""A host the preflight stops, in the fleet summary (issue 23, item 7): the summary names the
preflight lines that failed and the host's system, not distro "?" and "fix what the table
shows" (the table is on the host). ansible-core drives one host on this machine, as in
tests/test_ansible.py; its HANA port has nothing listening, so the run stops before step 1.
Also `emlsetup status --json` on such a host, through the real CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.loopback import closed_port
from tests.sandbox import Sandbox
from tests.test_ansible import BIN, ansible_env, export, host_vars, summary_of

pytestmark = pytest.mark.skipif(
    not (BIN / "ansible-playbook").exists(), reason="ansible-core is not installed (test extra)"
)


def test_a_host_stopped_by_the_preflight_is_summarised_with_its_lines_and_distro(
    tmp_path: Path,
) -> None:
    made = export(tmp_path, tmp_path / "project")
    assert made.returncode == 0, made.stderr
    sb = Sandbox.create(tmp_path / "hxe1", "sles12sp2")
    port = closed_port()
    try:
        host = host_vars(sb, SimpleNamespace(port=port), 0, tmp_path / "scan")  # type: ignore[arg-type]
        (tmp_path / "scan").write_text("Fleet-Sys-Pw1\nFleet-Ml-Pw1\n")
        inventory = tmp_path / "inventory.yml"
        inventory.write_text(json.dumps({"emlsetup": {"hosts": {"hxe1": host}}}))
        secrets = tmp_path / "secrets.yml"
        secrets.write_text(
            'emlsetup_system_password: "Fleet-Sys-Pw1"\nemlsetup_ml_user_password: "Fleet-Ml-Pw1"\n'
        )
        done = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(inventory), "playbook.yml",
             "-e", "@" + str(secrets)],
            cwd=tmp_path / "project", env=ansible_env(tmp_path), capture_output=True,
            text=True, timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        sb.cleanup()
    assert done.returncode != 0, done.stdout  # the host did not finish: the play says so
    line = f"HANA answers at 127.0.0.1:{port}: Connection refused"
    row = summary_of(tmp_path / "project")["hxe1"]
    assert row["distro"] == "SUSE Linux Enterprise Server 12 SP2", row
    assert row["status"] == "stopped by preflight", row
    assert row["reason"].startswith(line), row
    assert "--skip-preflight hana" in row["reason"]
    assert line in row["preflight"]
    table = (tmp_path / "project/reports/summary.txt").read_text()
    hxe1 = next(x for x in table.splitlines() if x.startswith("hxe1 "))
    assert "SUSE Linux Enterprise Server 12 SP2" in hxe1 and line in hxe1, table
    failed = done.stdout.split("TASK [Fail the hosts where emlsetup did not finish]")[1]
    assert f"emlsetup on hxe1: stopped by preflight: {line}" in failed
    assert "Fleet-Sys-Pw1" not in done.stdout + done.stderr + table


def test_status_json_after_a_preflight_stop_names_the_lines_and_the_system(
    sandbox: Sandbox,
) -> None:
    port = closed_port()
    env = sandbox.env(
        EMLSETUP_HANA__ADDRESS="127.0.0.1",
        EMLSETUP_HANA__SQL_PORT=str(port),
        EMLSETUP_SYSTEM_PASSWORD="Manager1-Known",
    )
    ran = sandbox.run_cli("run", "--yes", "--only-step", "1", env=env)
    assert ran.returncode == 1, ran.stdout
    lines = [
        f"HANA answers at 127.0.0.1:{port}: Connection refused",
        "HANA login as SYSTEM: not tried: HANA does not answer",
    ]
    last = ran.stdout.strip().splitlines()[-1]
    assert last.startswith(f"Stopped before anything changed: {'; '.join(lines)}; fix"), last
    polled = sandbox.run_cli("status", "--json", env=env)
    data = json.loads(polled.stdout)
    assert polled.returncode == 1
    assert data["status"] == "stopped by preflight" and data["preflight"] == lines
    assert data["distro"] == "SUSE Linux Enterprise Server 12 SP2"
    assert data["reason"].startswith(f"{'; '.join(lines)}; nothing was changed")
    # The run that passes its preflight clears it: status speaks of that run.
    ok = sandbox.run_cli("run", "--yes", "--only-step", "2", env=env)
    assert ok.returncode == 0, ok.stdout[-2000:]
    after = json.loads(sandbox.run_cli("status", "--json", env=env).stdout)
    assert after["status"] == "done" and "preflight" not in after
