"""Step 7 checks what it needs before its first statement: the script server runs on the
tenant (else every EML call fails with HANA error 2048), ML_USER exists, and SYSTEM may grant
roles. Each missing one stops the step before any GRANT or CREATE, with its fix.

Against the HANA test server, whose catalogue answers as HANA's system views do (SAP HANA
SQL reference: M_SERVICES has a scriptserver row only after ALTER DATABASE <tenant> ADD
'scriptserver', as SAP's tutorial "Prepare your SAP HANA, express edition instance for
Machine Learning" does it; USERS lists the users; EFFECTIVE_PRIVILEGES lists a user's
system privileges, ROLE ADMIN among them for SYSTEM)."""

from __future__ import annotations

import pytest

from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env


def _changes(srv: HanaTestServer) -> list[str]:
    return [s.sql for s in srv.statements if not s.sql.lstrip().upper().startswith("SELECT")]


def _step7(sandbox: Sandbox, cat: Catalogue) -> tuple[str, list[str], list[str]]:
    # The preflight's login as ML_USER would already stop a run without that user; accepted
    # here, so that step 7's own check is what speaks.
    run = ("run", "--yes", "--only-step", "7", "--skip-preflight", "hana")
    with HanaTestServer(cat) as srv:
        done = sandbox.run_cli(*run, env=hana_env(sandbox, srv))
        assert done.returncode == 1, done.stdout[-3000:]
        asked = [s.sql for s in srv.statements]
        return done.stdout, asked, _changes(srv)


@pytest.mark.parametrize(
    ("broken", "failed", "fix"),
    [
        (
            "script_server",
            "prerequisite failed: the script server runs on HXE (0 rows)",
            "ALTER DATABASE HXE ADD 'scriptserver'; without it every EML call fails with "
            "HANA error 2048",
        ),
        ("ml_user", "prerequisite failed: user ML_USER exists (0 rows)", "CREATE USER ML_USER"),
        (
            "role_admin",
            "prerequisite failed: SYSTEM may grant roles (ROLE ADMIN) (0 rows)",
            "GRANT ROLE ADMIN TO SYSTEM",
        ),
    ],
)
def test_a_missing_prerequisite_stops_step_7_before_any_statement(
    sandbox: Sandbox, broken: str, failed: str, fix: str
) -> None:
    users = {"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW}
    if broken == "ml_user":
        users = {"SYSTEM": SYSTEM_PW}
    cat = Catalogue(users=users, script_server=broken != "script_server", ml_user="ML_USER")
    if broken == "role_admin":
        cat.state.admin_privileges.discard("ROLE ADMIN")
    out, asked, changes = _step7(sandbox, cat)
    assert failed in out and fix in out
    assert changes == []  # not one GRANT or CREATE reached HANA
    assert any("M_SERVICES" in q for q in asked)
    assert "Traceback" not in out


def test_all_prerequisites_met_lets_step_7_grant(sandbox: Sandbox) -> None:
    """The same checks pass on a tenant that has what step 7 needs: the statements follow."""
    cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        done = sandbox.run_cli("run", "--yes", "--only-step", "7", env=hana_env(sandbox, srv))
        changes = _changes(srv)
    # No model server runs here, so the reload fails; everything before it ran.
    assert "prerequisite failed" not in done.stdout
    assert "GRANT AFL__SYS_AFL_EML_EXECUTE TO ML_USER" in changes
    assert "the script server runs on HXE" in done.stdout
