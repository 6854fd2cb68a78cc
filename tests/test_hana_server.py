"""The HANA test server, proven with the real SAP client (hdbcli), never a mock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from checks.spec import SqlCount
from steps.core.model import Sql
from steps.step7_configure_eml import STEP as STEP7
from tests.hana_server import Catalogue, HanaTestServer, Statement
from tests.hana_server.auth import SCRAMSHA256, ScramExchange, client_proof, encode_fields

hdbcli = pytest.importorskip("hdbcli")
from hdbcli import dbapi  # noqa: E402

ROLE = "AFL__SYS_AFL_EML_EXECUTE"
USERS = {"SYSTEM": "Manager1", "ML_USER": "Secret1"}


def connect(
    srv: HanaTestServer, user: str = "SYSTEM", password: str | None = None, **kw: str
) -> Any:
    """A real hdbcli connection; communicationTimeout turns a protocol hang into an error."""
    return dbapi.connect(
        address="127.0.0.1",
        port=srv.port,
        user=user,
        password=USERS.get(user, "") if password is None else password,
        databaseName=kw.pop("databaseName", "HXE"),
        communicationTimeout=5000,
        **kw,
    )


@pytest.fixture
def model_server() -> Iterator[tuple[str, int]]:
    """A listening TCP port standing in for TensorFlow Serving."""
    with socket.socket() as ls:
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
        yield "127.0.0.1", ls.getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(cur: Any) -> list[tuple[object, ...]]:
    """hdbcli's ResultRow objects as plain tuples."""
    return [tuple(r) for r in cur.fetchall()]


def errcode(exc: pytest.ExceptionInfo[dbapi.Error]) -> int:
    return int(exc.value.errorcode)


def test_hdbcli_is_the_pinned_real_client() -> None:
    assert hdbcli.__version__ == "2.30.27"


def test_scram_roundtrip_without_network() -> None:
    challenge = bytes(range(64))
    start = encode_fields([b"ML_USER", SCRAMSHA256, challenge])
    ex = ScramExchange.start(start)
    proof = client_proof(SCRAMSHA256, "Secret1", ex.salt, ex.server_challenge, challenge)
    final = encode_fields([b"ML_USER", SCRAMSHA256, encode_fields([proof])])
    assert ex.verify(final, "Secret1") is not None
    assert ex.verify(final, "wrong") is None


def test_connect_auth_tenant_and_afl_views() -> None:
    cat = Catalogue(tenant="HXE", users=USERS, afl_functions=6)
    with HanaTestServer(cat) as srv:
        conn = connect(srv)
        cur = conn.cursor()
        counts = []
        for view in ("AFL_AREAS", "AFL_PACKAGES", "AFL_FUNCTIONS"):
            cur.execute(f'SELECT * FROM "SYS"."{view}" WHERE AREA_NAME = \'EML\'')
            counts.append(len(cur.fetchall()))
        assert counts == [1, 1, 6]
        conn.close()

        with pytest.raises(dbapi.Error) as wrong:
            connect(srv, password="nope")
        assert errcode(wrong) == 10 and "authentication failed" in wrong.value.errortext
        with pytest.raises(dbapi.Error) as unknown:
            connect(srv, user="NOBODY", password="x")
        assert errcode(unknown) == 10
        with pytest.raises(dbapi.Error) as tenant:
            connect(srv, databaseName="OTHER")
        assert errcode(tenant) == 10 and "OTHER" in tenant.value.errortext


def test_afl_not_installed_returns_no_rows() -> None:
    with HanaTestServer(Catalogue(users=USERS, afl_installed=False)) as srv:
        cur = connect(srv).cursor()
        cur.execute('SELECT * FROM "SYS"."AFL_FUNCTIONS" WHERE AREA_NAME = \'EML\'')
        assert fetch(cur) == []
        with pytest.raises(dbapi.Error) as exc:
            cur.execute("GRANT " + ROLE + " TO ML_USER")
        assert errcode(exc) == 389


def test_parameters_types_nulls_and_paging() -> None:
    with HanaTestServer(Catalogue(users=USERS), page_size=4) as srv:
        conn = connect(srv, "ML_USER")
        cur = conn.cursor()
        cur.execute('CREATE TABLE T ("I" INTEGER, "B" BIGINT, "V" VARCHAR(20), "N" NVARCHAR(900))')
        assert cur.rowcount == 0
        long = "ä" * 400 + "\U0001f600"
        for i in range(9):
            cur.execute("INSERT INTO T VALUES (?, ?, ?, ?)", (i, 2**40 + i, f"v{i}", long))
            assert cur.rowcount == 1
        cur.execute("INSERT INTO T VALUES (NULL, -5, 'it''s', ?)", (None,))
        cur.execute("SELECT * FROM T")
        assert [d[1] for d in cur.description] == [3, 4, 9, 11]  # INTEGER BIGINT VARCHAR NVARCHAR
        rows = [tuple(r) for r in cur.fetchall()]  # 10 rows in pages of 4: FETCHNEXT
        assert len(rows) == 10
        assert rows[0] == (0, 2**40, "v0", long)
        assert rows[-1] == (None, -5, "it's", None)
        cur.execute('SELECT "V" FROM T WHERE "I" IN (?, ?)', (1, 2))
        assert fetch(cur) == [("v1",), ("v2",)]
        cur.execute("SELECT * FROM T")
        assert cur.fetchone() is not None
        cur.close()  # closes an unfinished result set
        conn.commit()
        conn.rollback()
        conn.close()


def test_errors_carry_hana_codes() -> None:
    with HanaTestServer(Catalogue(users=USERS)) as srv:
        system, ml = connect(srv).cursor(), connect(srv, "ML_USER").cursor()
        with pytest.raises(dbapi.Error) as grant:
            ml.execute(f"GRANT {ROLE} TO ML_USER")
        assert errcode(grant) == 258
        with pytest.raises(dbapi.ProgrammingError) as missing:
            ml.execute("SELECT * FROM NO_SUCH_TABLE")
        assert errcode(missing) == 259
        ml.execute("CREATE SCHEMA EML_DATA")
        with pytest.raises(dbapi.Error) as dup_schema:
            ml.execute("CREATE SCHEMA EML_DATA")
        assert errcode(dup_schema) == 386
        ml.execute("SET SCHEMA EML_DATA")
        ml.execute('CREATE TABLE CHECK_PARAMS ("Parameter" VARCHAR(100), "Value" VARCHAR(100))')
        with pytest.raises(dbapi.ProgrammingError) as dup_table:
            ml.execute('CREATE TABLE CHECK_PARAMS ("Parameter" VARCHAR(100))')
        assert errcode(dup_table) == 288
        assert "duplicate" in dup_table.value.errortext
        with pytest.raises(dbapi.Error) as no_role:
            ml.execute("CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(CHECK_PARAMS, ?)")
        assert errcode(no_role) == 258
        with pytest.raises(dbapi.ProgrammingError) as syntax:
            system.execute("SELEKT 1 FROM DUMMY")
        assert errcode(syntax) == 257


SETTINGS = {"ml_user": "ML_USER", "serving_host": "127.0.0.1"}


def _fmt(text: str, port: int) -> str:
    return text.format(**SETTINGS, port=port)


def _count(conns: dict[str, Any], check: SqlCount, port: int) -> int:
    cur = conns[check.role].cursor()
    params = tuple(_fmt(p, port) for p in check.params)
    cur.execute(_fmt(check.query, port), params) if params else cur.execute(check.query)
    rows = fetch(cur)
    return int(str(rows[0][0])) if check.count_column else len(rows)


def _run_step7(srv: HanaTestServer, port: int) -> dict[str, list[tuple[object, ...]]]:
    """Every SQL action of step 7 as the product defines it: done_when before and after."""
    conns = {"system": connect(srv), "ml_user": connect(srv, "ML_USER")}
    out: dict[str, list[tuple[object, ...]]] = {}
    for action in STEP7.actions:
        assert isinstance(action, Sql)
        for check in action.done_when:
            assert isinstance(check, SqlCount)
            assert _count(conns, check, port) == 0, action.id
        cur = conns[action.role].cursor()
        for sql in action.statements:
            cur.execute(_fmt(sql, port))
        out[action.id] = fetch(cur) if cur.description else []
        for check in action.done_when:
            assert isinstance(check, SqlCount)
            assert _count(conns, check, port) == check.expect, action.id
    return out


def test_step7_as_the_product_sends_it(model_server: tuple[str, int]) -> None:
    cat = Catalogue(users=USERS, models=["mnist", "iris"])
    with HanaTestServer(cat) as srv:
        out = _run_step7(srv, model_server[1])
        assert out["update-configuration"] == [("Status", 0, "OK")]
        # TechEd DAT364's layout ("Code", "Longtext"); its content is the test server's own
        assert [r[1] for r in out["check-destination"]] == ["mnist: ready", "iris: ready"]
        first = srv.statements[0]
        assert first.user == "SYSTEM" and first.params == ("ML_USER", ROLE)
        assert "GRANTED_ROLES" in first.sql
        assert Statement("ML_USER", "CALL UPDATE_CONFIGURATION()", ()) in srv.statements
    # The parent's catalogue saw every change: a second server starts from it.
    assert ("EML_DATA", "UPDATE_CONFIGURATION_RESULT") in cat.state.tables
    assert cat.state.remote_sources["TensorFlow"].port == model_server[1]
    with HanaTestServer(cat) as again:
        ml = connect(again, "ML_USER").cursor()
        with pytest.raises(dbapi.Error) as dup:
            ml.execute("CREATE SCHEMA EML_DATA")
        assert errcode(dup) == 386


def test_call_output_table_and_commit_rollback(model_server: tuple[str, int]) -> None:
    host, port = model_server
    cat = Catalogue(users=USERS, ml_user_has_role=True, remote_source=(host, port))
    with HanaTestServer(cat) as srv:
        conn = connect(srv, "ML_USER")
        cur = conn.cursor()
        cur.execute("CREATE SCHEMA EML_DATA")
        cur.execute("SET SCHEMA EML_DATA")
        cur.execute('CREATE TABLE CHECK_PARAMS ("Parameter" VARCHAR(100), "Value" VARCHAR(100))')
        cur.execute("INSERT INTO CHECK_PARAMS VALUES ('Model', '*')")
        assert cur.execute("CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(CHECK_PARAMS, ?)")
        assert [d[0] for d in cur.description] == ["Code", "Longtext"]
        assert fetch(cur) == [("OK", "mnist: ready")]
        conn.commit()
        conn.rollback()
        conn.close()


def _step7(cur: Any, host: str, port: int) -> list[tuple[object, ...]]:
    """Step 7's reload path as ML_USER; returns UPDATE_CONFIGURATION_RESULT's rows."""
    run = cur.execute
    by_id = {a.id: a for a in STEP7.actions if isinstance(a, Sql)}
    ids = ["remote-source", "schema", "params-table", "result-table", "procedure"]
    for action_id in [*ids, "update-configuration"]:
        for sql in by_id[action_id].statements:
            run(sql.format(**SETTINGS, port=port).replace("127.0.0.1", host))
    return fetch(cur)


def test_update_configuration_fails_when_model_server_is_down() -> None:
    port = _closed_port()
    cat = Catalogue(users=USERS, ml_user_has_role=True)
    with HanaTestServer(cat) as srv:
        ml = connect(srv, "ML_USER").cursor()
        [(key, value, text)] = _step7(ml, "127.0.0.1", port)
        assert (key, value) == ("Status", 1) and "failed" in str(text)
        assert cat.state.tables[("EML_DATA", "UPDATE_CONFIGURATION_RESULT")].rows[0][1] == 1
