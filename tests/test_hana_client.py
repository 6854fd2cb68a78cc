"""The HANA layer with the real hdbcli: connect failures provoked on this machine, secrets,
the error sentences, and the SQL count checks.

Connection failures are real: a closed port (refused), a server that accepts and never
answers (connect timeout), a TLS server with a self-signed certificate, and a plain server
that answers a TLS hello with garbage. Server-side errors (10, 258, 259, ...) are built as
hdbcli's own exception objects with the texts HANA sends (SAP's SQL error code list); the
tests against the HANA test server (tests/test_hana_server_layer.py) provoke them for real.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hdbcli import dbapi

from checks.result import Status
from checks.spec import SqlCount
from checks.sql import NO_HANA_FIX, evaluate_sql_count
from steps.core.settings import HanaSettings
from steps.hana.client import HanaAccess, HanaSecrets
from steps.hana.errors import HanaError, explain

TLS = Path(__file__).parent / "fixtures" / "tls"
PASSWORD = "S3cret-Pw!"


@contextmanager
def listener(mode: str) -> Iterator[int]:
    """A local TCP server: 'silent' accepts and never answers; 'tls' completes a TLS
    handshake with a self-signed certificate (or resets a plain client), then is silent;
    'garbage' answers whatever arrives with bytes that are not TLS."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()
    open_conns: list[socket.socket] = []

    def handle(conn: socket.socket) -> None:
        try:
            if mode == "tls":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
                conn = ctx.wrap_socket(conn, server_side=True)
                open_conns.append(conn)
            data = conn.recv(4096)
            if mode == "garbage" and data:
                conn.sendall(bytes([4, 20, 0, 4, 1, 0, 0, 0]) + bytes(40))
            stop.wait(30)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            open_conns.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.close()
        for conn in open_conns:
            conn.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def access(port: int, **settings: object) -> HanaAccess:
    hana = HanaSettings.model_validate(
        {"address": "127.0.0.1", "sql_port": port, "connect_timeout_s": 0.5, **settings}
    )
    return HanaAccess(hana, HanaSecrets(system_password=PASSWORD, ml_user_password=PASSWORD))


def failure(hana: HanaAccess, role: str = "system") -> HanaError:
    with pytest.raises(HanaError) as caught:
        hana.query(role, "SELECT * FROM DUMMY")
    assert PASSWORD not in str(caught.value)
    return caught.value


# -- connecting, for real ------------------------------------------------------------------
def test_refused_port_says_is_hana_running_and_which_port() -> None:
    port = closed_port()
    err = failure(access(port))
    assert err.code == -10709
    assert f"nothing accepts connections on 127.0.0.1:{port}" in err.message
    assert "HDB info" in err.fix and "3<instance>15" in err.fix and "hana.sql_port" in err.fix


def test_silent_server_fails_within_the_connect_timeout_then_fails_fast() -> None:
    with listener("silent") as port:
        hana = access(port)
        started = time.monotonic()
        err = failure(hana)
        took = time.monotonic() - started
        assert err.code == -10709
        assert "did not answer within the connect timeout" in err.message
        assert "hana.connect_timeout_s" in err.fix
        assert 0.4 < took < 3.0
        started = time.monotonic()
        assert failure(hana, "system") is err  # remembered: step 1's checks don't each wait
        assert time.monotonic() - started < 0.2


def test_unresolvable_host_names_hana_address() -> None:
    err = failure(access(30015, address="no-such-host.invalid"))
    assert err.code == -10709
    assert "cannot be resolved" in err.message and "hana.address" in err.fix


def test_self_signed_certificate_not_trusted() -> None:
    with listener("tls") as port:
        err = failure(access(port, encrypt=True, validate_certificate=True))
    assert "certificate" in err.message and "hana.validate_certificate = false" in err.fix


def test_plain_client_to_a_tls_only_server_suggests_encrypt() -> None:
    with listener("tls") as port:
        err = failure(access(port, encrypt=False))
    assert "closed the connection" in err.message
    assert "hana.encrypt = true" in err.fix


def test_tls_client_to_a_plain_server_suggests_no_encryption() -> None:
    with listener("garbage") as port:
        err = failure(access(port, encrypt=True, validate_certificate=False))
    assert "does not speak TLS" in err.message and "hana.encrypt = false" in err.fix


def test_unknown_hdbuserstore_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    hana = HanaAccess(HanaSettings(system_key="EMLSETUP_NO_SUCH_KEY"), HanaSecrets())
    err = failure(hana)
    assert err.code == -10104
    assert "hdbuserstore key EMLSETUP_NO_SUCH_KEY was not found" in err.message
    assert "hdbuserstore SET EMLSETUP_NO_SUCH_KEY" in err.fix


def test_no_password_and_no_key_names_the_variable() -> None:
    hana = HanaAccess(HanaSettings(), HanaSecrets(system_password="x"))
    err = failure(hana, "ml_user")
    assert err.message == "no password for ML_USER"
    assert "EMLSETUP_ML_USER_PASSWORD" in err.fix and "hana.ml_user_key" in err.fix


def test_unknown_role_is_refused() -> None:
    err = failure(access(closed_port()), "sys")
    assert "unknown HANA role" in err.message


# -- secrets --------------------------------------------------------------------------------
def test_secrets_come_from_the_same_variables_the_cli_asks_for() -> None:
    s = HanaSecrets.from_env(
        {"EMLSETUP_SYSTEM_PASSWORD": "a1", "EMLSETUP_ML_USER_PASSWORD": "", "OTHER": "x"}
    )
    assert (s.system_password, s.ml_user_password) == ("a1", None)
    assert s.password("system") == "a1" and s.password("ml_user") is None


def test_repr_never_shows_a_password() -> None:
    s = HanaSecrets(system_password=PASSWORD, ml_user_password=None)
    assert PASSWORD not in repr(s) and PASSWORD not in str(s)
    assert "system_password=set" in repr(s) and "ml_user_password=unset" in repr(s)
    assert PASSWORD not in repr(access(1))


def test_explain_scrubs_secrets_from_hanas_text() -> None:
    exc = dbapi.Error(-10709, f"Connection failed (strange text with {PASSWORD} in it)")
    err = explain(exc, user="SYSTEM", address="h", port=39015, tenant="HXE", secrets=[PASSWORD])
    assert PASSWORD not in str(err) and "***" in str(err)


# -- server errors, as hdbcli raises them ---------------------------------------------------
def _explain(
    code: int, text: str, statement: str | None = None, user: str = "ML_USER"
) -> HanaError:
    return explain(
        dbapi.ProgrammingError(code, text),
        user=user,
        address="hxehost",
        port=39015,
        tenant="HXE",
        statement=statement,
    )


def test_authentication_failed() -> None:
    err = _explain(10, "authentication failed", user="SYSTEM")
    assert err.message == (
        "HANA refused the login of SYSTEM on tenant HXE (error 10: authentication failed)"
    )
    assert "password" in err.fix and "hdbuserstore list" in err.fix
    assert str(err).count(".") <= 1  # one sentence: message; fix


def test_insufficient_privilege_names_the_grant_and_the_guid() -> None:
    err = _explain(
        258,
        "insufficient privilege: Detailed info for this error can be found with guid "
        "'5FDD8805A3CD7B49807519B96E168578'",
        "CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(CHECK_PARAMS, ?)",
    )
    assert "ML_USER lacks a privilege" in err.message
    assert "GET_INSUFFICIENT_PRIVILEGE_ERROR_DETAILS('5FDD8805A3CD7B49807519B96E168578'" in (
        err.message
    )
    assert err.fix == "as SYSTEM: GRANT AFL__SYS_AFL_EML_EXECUTE TO ML_USER (step 7)"
    remote = _explain(258, "insufficient privilege", 'CREATE REMOTE SOURCE "TensorFlow" ...')
    assert remote.fix == "as SYSTEM: GRANT CREATE REMOTE SOURCE TO ML_USER"


def test_invalid_table_says_which_step_creates_it() -> None:
    afl = _explain(
        259, "invalid table name:  Could not find table/view AFL_AREAS in schema SYS: line 1"
    )
    assert "HANA has no table or view SYS.AFL_AREAS" in afl.message
    assert "AFL package (step 1)" in afl.fix
    ours = _explain(
        259,
        "invalid table name:  Could not find table/view UPDATE_CONFIGURATION_RESULT in schema "
        "EML_DATA: line 1 col 15",
        "TRUNCATE TABLE UPDATE_CONFIGURATION_RESULT",
    )
    assert "EML_DATA.UPDATE_CONFIGURATION_RESULT" in ours.message
    assert "step 7 creates it" in ours.fix
    proc = _explain(328, "invalid name of function or procedure: EML_CTL_PROC: line 1")
    assert "procedure" in proc.message and "step 1" in proc.fix


@pytest.mark.parametrize(
    ("code", "text", "statement", "name"),
    [
        (
            288,
            "cannot use duplicate table name",
            "CREATE TABLE CHECK_PARAMS (x INT)",
            "CHECK_PARAMS",
        ),
        (386, "cannot use duplicate schema name: EML_DATA", "CREATE SCHEMA EML_DATA", "EML_DATA"),
        (
            329,
            "cannot use duplicate name of function or procedure",
            "CREATE PROCEDURE UPDATE_CONFIGURATION() AS BEGIN END",
            "UPDATE_CONFIGURATION",
        ),
    ],
)
def test_already_exists(code: int, text: str, statement: str, name: str) -> None:
    err = _explain(code, text, statement)
    assert err.message.startswith(f"{name} already exists (error {code}")
    assert "drop it" in err.fix


def test_forced_password_change() -> None:
    err = _explain(414, "user is forced to change password: alter password required")
    assert "must change the initial password" in err.message and "hdbsql" in err.fix


def test_any_other_error_is_quoted_with_its_code() -> None:
    err = _explain(257, 'sql syntax error: incorrect syntax near "FROM"', "SELEC * FROM X")
    assert err.message.startswith("HANA failed SELEC * FROM X as ML_USER (error 257: sql syntax")


# -- SQL count checks -----------------------------------------------------------------------
AFL = SqlCount(
    name="AFL_FUNCTIONS rows",
    role="system",
    query="SELECT * FROM SYS.AFL_FUNCTIONS WHERE AREA_NAME = 'EML'",
    expect=6,
    fix="install the EML AFL package",
)
ROLE = SqlCount(
    name="role granted",
    role="system",
    query="SELECT COUNT(*) FROM SYS.GRANTED_ROLES WHERE GRANTEE = ?",
    params=["ML_USER"],
    count_column=True,
    op=">=",
    expect=1,
    fix="GRANT it",
)


def test_no_connection_skips_with_the_way_to_give_one() -> None:
    r = evaluate_sql_count(AFL, None)
    assert (r.status, r.measured, r.expected) == (Status.SKIP, "no HANA connection", "6 rows")
    assert "EMLSETUP_SYSTEM_PASSWORD" in r.fix and r.fix == NO_HANA_FIX


def test_row_count_compared_with_expect() -> None:
    asked: list[tuple[str, str, list[str]]] = []

    def six(role: str, query: str, params: list[str]) -> list[tuple[object, ...]]:
        asked.append((role, query, params))
        return [("EML", f"F{i}") for i in range(6)]

    ok = evaluate_sql_count(AFL, six)
    assert (ok.status, ok.measured, ok.expected, ok.fix) == (Status.OK, "6 rows", "6 rows", "")
    assert asked == [("system", AFL.query, [])]
    bad = evaluate_sql_count(AFL, lambda r, q, p: [("EML", "F1")] * 3)
    assert (bad.status, bad.measured, bad.fix) == (Status.FAIL, "3 rows", AFL.fix)


def test_count_column_reads_the_value() -> None:
    one = evaluate_sql_count(ROLE, lambda r, q, p: [(1,)])
    assert (one.status, one.measured, one.expected) == (Status.OK, "1 row", "at least 1 row")
    zero = evaluate_sql_count(ROLE, lambda r, q, p: [(0,)])
    assert (zero.status, zero.measured, zero.fix) == (Status.FAIL, "0 rows", "GRANT it")
    odd = evaluate_sql_count(ROLE, lambda r, q, p: [("many",)])
    assert odd.status == Status.FAIL and "not a count" in odd.measured


def test_hana_error_becomes_the_failed_row() -> None:
    def refuse(role: str, query: str, params: list[str]) -> list[tuple[object, ...]]:
        raise HanaError("HANA refused the login of SYSTEM", "check the password")

    r = evaluate_sql_count(AFL, refuse)
    assert (r.status, r.measured, r.fix) == (
        Status.FAIL,
        "HANA refused the login of SYSTEM",
        "check the password",
    )

    def plain(role: str, query: str, params: list[str]) -> list[tuple[object, ...]]:
        raise HanaError("HANA failed the statement")

    assert evaluate_sql_count(AFL, plain).fix == AFL.fix
