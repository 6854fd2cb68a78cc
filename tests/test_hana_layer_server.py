"""The HANA layer against the HANA wire-protocol test server, through the real hdbcli.

Step 1's catalogue checks, the error sentences HANA's own replies produce, and step 7's
statements exactly as the plan renders them, run with ``execute_all``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from checks.result import Status
from checks.spec import SqlCount
from checks.sql import SqlRunner, evaluate_sql_count
from steps.core.model import Sql, Step
from steps.core.plan import render
from steps.core.settings import HanaSettings
from steps.hana.client import HanaAccess, HanaSecrets
from steps.hana.errors import HanaError
from steps.step1_hana_packages import STEP as STEP1
from steps.step7_configure_eml import STEP as STEP7
from tests.hana_server import Catalogue, HanaTestServer

USERS = {"SYSTEM": "Manager1", "ML_USER": "Secret1"}


def catalogue(**kwargs: Any) -> Catalogue:
    return Catalogue(**{"tenant": "HXE", "users": dict(USERS), "models": ["mnist"], **kwargs})


def access(port: int, system: str = "Manager1", ml_user: str = "Secret1") -> HanaAccess:
    settings = HanaSettings(
        address="127.0.0.1", sql_port=port, connect_timeout_s=5, command_timeout_s=5
    )
    return HanaAccess(settings, HanaSecrets(system_password=system, ml_user_password=ml_user))


def runner(hana: HanaAccess) -> SqlRunner:
    """What the engine hands the checks: role, query, params -> rows."""

    def run(role: str, query: str, params: list[str]) -> list[tuple[object, ...]]:
        return hana.query(role, query, tuple(params))

    return run


@pytest.fixture
def model_server() -> Iterator[int]:
    """A port where "TensorFlow Serving" listens (the EML procedure only connects)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s.getsockname()[1]
    s.close()


def step7(serving_port: int) -> Step:
    return render(
        STEP7, {"ml_user": "ML_USER", "serving_host": "127.0.0.1", "port": str(serving_port)}
    )


def _checks(step: Step) -> list[SqlCount]:
    return [c for c in step.checks if isinstance(c, SqlCount)]


# -- step 1 ---------------------------------------------------------------------------------
def test_afl_installed_gives_1_1_6_rows() -> None:
    with HanaTestServer(catalogue()) as srv, access(srv.port) as hana:
        results = [evaluate_sql_count(c, runner(hana)) for c in _checks(STEP1)]
        assert [(r.status, r.measured) for r in results] == [
            (Status.OK, "1 row"),
            (Status.OK, "1 row"),
            (Status.OK, "6 rows"),
        ]
        assert [s.user for s in srv.statements] == ["SYSTEM"] * 3
        assert "AREA_NAME = 'EML'" in srv.statements[0].sql


@pytest.mark.parametrize(
    ("kwargs", "measured"),
    [({"afl_installed": False}, ["0 rows", "0 rows", "0 rows"]), ({"afl_functions": 4}, None)],
)
def test_afl_missing_fails_with_the_package_fix(kwargs: dict[str, Any], measured: Any) -> None:
    with HanaTestServer(catalogue(**kwargs)) as srv, access(srv.port) as hana:
        results = [evaluate_sql_count(c, runner(hana)) for c in _checks(STEP1)]
    failed = [r for r in results if r.status == Status.FAIL]
    assert failed and all("eml.tgz" in r.fix for r in failed)
    if measured:
        assert [r.measured for r in results] == measured
    else:
        assert results[2].measured == "4 rows" and results[2].expected == "6 rows"


def test_wrong_password_is_a_sentence_with_the_fix() -> None:
    with HanaTestServer(catalogue()) as srv, access(srv.port, system="wrong-Pw1") as hana:
        with pytest.raises(HanaError) as caught:
            hana.query("system", "SELECT * FROM DUMMY")
        row = evaluate_sql_count(_checks(STEP1)[0], runner(hana))
    err = caught.value
    assert err.code == 10
    assert err.message == (
        "HANA refused the login of SYSTEM on tenant HXE (error 10: authentication failed)"
    )
    assert "password" in err.fix and "wrong-Pw1" not in str(err)
    assert (row.status, row.measured) == (Status.FAIL, err.message)


def test_missing_role_is_258_naming_the_grant(model_server: int) -> None:
    cat = catalogue(ml_user_has_role=False, remote_source=("127.0.0.1", model_server))
    with (
        HanaTestServer(cat) as srv,
        access(srv.port) as hana,
        pytest.raises(HanaError) as caught,
    ):
        hana.execute_all(
            "ml_user", ["CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(EML_DATA.CHECK_PARAMS, ?)"]
        )
    err = caught.value
    assert err.code == 258
    assert err.message.startswith("ML_USER lacks a privilege for CALL _SYS_AFL.EML_CHECK")
    assert err.fix == "as SYSTEM: GRANT AFL__SYS_AFL_EML_EXECUTE TO ML_USER (step 7)"


# -- step 7 ---------------------------------------------------------------------------------
def run_step7(hana: HanaAccess, step: Step) -> list[str]:
    """Each action unless its done_when checks pass (as the engine does); returns the ids run
    and raises on the first failure."""
    ran = []
    for action in step.actions:
        assert isinstance(action, Sql)
        done = action.done_when and all(
            evaluate_sql_count(c, runner(hana)).status == Status.OK
            for c in action.done_when
            if isinstance(c, SqlCount)
        )
        if done:
            continue
        results = hana.execute_all(action.role, action.statements)
        assert len(results) == len(action.statements)
        if action.expect_rows is not None:
            want = [[str(v) for v in row] for row in action.expect_rows]
            assert [[str(v) for v in row] for row in results[-1]] == want, action.id
        ran.append(action.id)
    return ran


def test_step7_configures_and_lists_the_models(model_server: int) -> None:
    with HanaTestServer(catalogue()) as srv, access(srv.port) as hana:
        step = step7(model_server)
        ran = run_step7(hana, step)
        assert ran == [a.id for a in step.actions]
        models = hana.execute_all("ml_user", step.actions[-1].statements)[-1]
        assert any("mnist" in str(v) for row in models for v in row)
        sent = [s.sql for s in srv.statements]
        assert f"CONFIGURATION 'server=127.0.0.1;port={model_server}'" in " ".join(sent)
        assert any(s.startswith("CREATE PROCEDURE UPDATE_CONFIGURATION()") for s in sent)
        by = {s.sql.split(" ")[0] + " " + s.user for s in srv.statements}
        assert "GRANT SYSTEM" in by and "GRANT ML_USER" not in by


def test_step7_twice_creates_once(model_server: int) -> None:
    with HanaTestServer(catalogue()) as srv, access(srv.port) as hana:
        step = step7(model_server)
        run_step7(hana, step)
        first = len([s for s in srv.statements if s.sql.startswith(("CREATE", "GRANT"))])
        again = run_step7(hana, step)
        creates = [s for s in srv.statements if s.sql.startswith(("CREATE", "GRANT"))]
    assert again == ["update-configuration", "check-destination"]  # the idempotent ones
    assert len(creates) == first


def test_dead_model_server_port_is_not_status_ok() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    with HanaTestServer(catalogue()) as srv, access(srv.port) as hana:
        step = step7(dead)
        with pytest.raises(AssertionError, match="update-configuration"):
            run_step7(hana, step)


def test_a_failing_statement_is_named_with_the_step_that_fixes_it() -> None:
    with (
        HanaTestServer(catalogue()) as srv,
        access(srv.port) as hana,
        pytest.raises(HanaError) as caught,
    ):
        hana.execute_all("ml_user", ["SET SCHEMA EML_DATA"])
    assert caught.value.code == 362
    assert "EML_DATA" in caught.value.message and "step 7" in caught.value.fix


# -- a server that stops answering mid-session --------------------------------------------
class StallingProxy:
    """Forwards bytes between hdbcli and the test server until ``stall`` is set; from then
    on swallows the client's requests, like a HANA that hangs on a statement."""

    def __init__(self, target: int) -> None:
        self.target, self.stall = target, threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b, gate in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, gate), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, gated: bool) -> None:
        try:
            while data := src.recv(65536):
                if not (gated and self.stall.is_set()):
                    dst.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()


def test_a_hanging_statement_fails_within_the_command_timeout() -> None:
    with HanaTestServer(catalogue()) as srv:
        proxy = StallingProxy(srv.port)
        settings = HanaSettings(address="127.0.0.1", sql_port=proxy.port, command_timeout_s=1)
        with HanaAccess(settings, HanaSecrets("Manager1", "Secret1")) as hana:
            assert hana.query("system", _checks(STEP1)[0].query)
            proxy.stall.set()
            started = time.monotonic()
            with pytest.raises(HanaError) as caught:
                hana.query("system", _checks(STEP1)[0].query)
            took = time.monotonic() - started
        proxy.close()
    assert took < 5
    assert caught.value.code == -10807
    assert (
        "within the command timeout" in caught.value.message
        and "hana.command_timeout_s" in caught.value.fix
    )
