"""The HANA test server refuses what HANA refuses: mutation tests through the real hdbcli.

Each test takes step 7's statements exactly as the product renders them, proves they pass,
then breaks one (a body without END FOR, an unknown EML action, text after CREATE REMOTE
SOURCE, a misspelt column type, a user without the system privilege, a CALL with ``?``)
and sees HANA's error code come back. Codes: SAP HANA SQL Reference, "SQL Error Codes"
(257 ERR_SQL_PARSE, 258 ERR_SQL_INSUFF_PRIV, 264 ERR_SQL_INV_DATATYPE, 2048 column store
error); see tests/hana_server/sqlscript.py and procedures.py for the behaviour cited.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from steps.core.model import Sql
from steps.core.plan import render
from steps.step7_configure_eml import PROCEDURE
from steps.step7_configure_eml import STEP as STEP7
from tests.hana_server import Catalogue, HanaTestServer

hdbcli = pytest.importorskip("hdbcli")
from hdbcli import dbapi  # noqa: E402

USERS = {"SYSTEM": "Manager1", "ML_USER": "Secret1"}
BEFORE_PROCEDURE = ["grant-role", "grant-config", "remote-source", "schema", "params-table",
                    "result-table"]  # fmt: skip


@pytest.fixture
def serving_port() -> Iterator[int]:
    """Where EML finds "TensorFlow Serving" (the EML stand-in only connects)."""
    with socket.socket() as ls:
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
        yield int(ls.getsockname()[1])


def statements(port: int) -> dict[str, list[str]]:
    """Step 7's SQL as the product sends it, by action id."""
    step = render(STEP7, {"ml_user": "ML_USER", "serving_host": "127.0.0.1", "port": str(port)})
    return {a.id: list(a.statements) for a in step.actions if isinstance(a, Sql)}


def roles() -> dict[str, str]:
    step = {a.id: a for a in STEP7.actions if isinstance(a, Sql)}
    return {k: ("SYSTEM" if a.role == "system" else "ML_USER") for k, a in step.items()}


class Session:
    """One hdbcli connection per user, like the product's HANA layer."""

    def __init__(self, srv: HanaTestServer) -> None:
        self.conns = {
            u: dbapi.connect(address="127.0.0.1", port=srv.port, user=u, password=pw,
                             databaseName="HXE", communicationTimeout=5000)
            for u, pw in USERS.items()
        }  # fmt: skip

    def run(self, user: str, sqls: list[str], params: tuple[Any, ...] | None = None) -> Any:
        cur = self.conns[user].cursor()
        for sql in sqls:
            cur.execute(sql, params) if params is not None else cur.execute(sql)
        return cur

    def actions(self, port: int, ids: list[str]) -> Any:
        """Step 7's actions by id, each as its role, in the order given."""
        sql, who = statements(port), roles()
        cur = None
        for action_id in ids:
            cur = self.run(who[action_id], sql[action_id])
        return cur

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


def error_of(fn: Any) -> tuple[int, str]:
    with pytest.raises(dbapi.Error) as caught:
        fn()
    return int(caught.value.errorcode), str(caught.value.errortext)


def fresh(**kwargs: Any) -> Catalogue:
    return Catalogue(users=dict(USERS), **kwargs)


# -- 1. procedure bodies are compiled --------------------------------------------------------
@pytest.mark.parametrize(
    ("mutation", "near"),
    [
        (lambda p: p.replace("    END FOR;\n", ""), "END"),  # the loop is never closed
        (lambda p: p.replace("VOLUME_ID || '))';", "VOLUME_ID || '))'"), "END"),  # no ";"
        (lambda p: p.replace("END FOR;", "END;"), ";"),  # END closes the wrong block
        (lambda p: p + "\nGRANT", "GRANT"),  # text after the final END
    ],
    ids=["no-end-for", "no-semicolon", "end-instead-of-end-for", "trailing-text"],
)
def test_a_broken_procedure_body_is_257_at_create(
    serving_port: int, mutation: Any, near: str
) -> None:
    with HanaTestServer(fresh()) as srv:
        s = Session(srv)
        s.actions(serving_port, [*BEFORE_PROCEDURE, "procedure"])  # the product's own: accepted
        s.run("ML_USER", ["DROP PROCEDURE EML_DATA.UPDATE_CONFIGURATION"])
        code, text = error_of(
            lambda: s.run("ML_USER", ["SET SCHEMA EML_DATA", mutation(PROCEDURE)])
        )
        s.close()
    assert code == 257
    assert text.startswith(f'sql syntax error: incorrect syntax near "{near}": line ')


# -- 2. the EML action string is checked -----------------------------------------------------
def test_an_unknown_eml_action_is_refused_not_status_ok(serving_port: int) -> None:
    cat = fresh()
    with HanaTestServer(cat) as srv:
        s = Session(srv)
        ok = s.actions(serving_port, [*BEFORE_PROCEDURE, "procedure", "update-configuration"])
        assert [tuple(r) for r in ok.fetchall()] == [("Status", 0, "OK")]
        s.run("ML_USER", ["DROP PROCEDURE EML_DATA.UPDATE_CONFIGURATION"])
        broken = PROCEDURE.replace("UpdateModelConfiguration", "NoSuchAction")
        s.run("ML_USER", ["SET SCHEMA EML_DATA", broken])  # a string: compiles
        code, text = error_of(lambda: s.actions(serving_port, ["update-configuration"]))
        s.close()
    assert code == 2048
    assert "unknown action 'NoSuchAction'" in text


# -- 3. CREATE REMOTE SOURCE takes nothing after its configuration ----------------------------
def test_create_remote_source_with_trailing_text_is_257(serving_port: int) -> None:
    with HanaTestServer(fresh()) as srv:
        s = Session(srv)
        [create] = statements(serving_port)["remote-source"]
        code, text = error_of(lambda: s.run("ML_USER", [create + " PORT 8500"]))
        s.run("ML_USER", [create])  # the product's statement is accepted
        s.close()
    assert code == 257
    assert text.startswith('sql syntax error: incorrect syntax near "PORT": line 1 col ')


# -- 4. column types ----------------------------------------------------------------------------
def test_an_unknown_column_type_is_264(serving_port: int) -> None:
    with HanaTestServer(fresh()) as srv:
        s = Session(srv)
        s.actions(serving_port, ["schema"])
        product = statements(serving_port)["result-table"]
        broken = [x.replace('"Value" INTEGER', '"Value" INTEGR') for x in product]
        assert broken != product
        code, text = error_of(lambda: s.run("ML_USER", broken))
        s.run("ML_USER", product)
        s.close()
    assert (code, text.split(":")[0]) == (264, "invalid datatype")
    assert "INTEGR" in text


# -- 5. system privileges --------------------------------------------------------------------
@pytest.mark.parametrize("action", ["remote-source", "schema"])
def test_create_needs_its_system_privilege(serving_port: int, action: str) -> None:
    cat = fresh(ml_user_privileges=())  # an ML_USER made without the grants
    with HanaTestServer(cat) as srv:
        s = Session(srv)
        code, text = error_of(lambda: s.actions(serving_port, [action]))
        privilege = {"remote-source": "CREATE REMOTE SOURCE", "schema": "CREATE SCHEMA"}[action]
        s.run("SYSTEM", [f"GRANT {privilege} TO ML_USER"])
        s.actions(serving_port, [action])  # granted: the product's statement passes
        s.close()
    assert code == 258 and privilege in text


# -- 6. CALL with ? ------------------------------------------------------------------------------
def test_call_with_output_placeholder_answers_like_hana(serving_port: int) -> None:
    cat = fresh()
    with HanaTestServer(cat) as srv:
        s = Session(srv)
        s.actions(serving_port, BEFORE_PROCEDURE)
        # The output table bound to ? comes back as a result set.
        cur = s.run(
            "ML_USER",
            [
                "SET SCHEMA EML_DATA",
                "CALL _SYS_AFL.EML_CTL_PROC("
                "'UpdateModelConfiguration', UPDATE_CONFIGURATION_PARAMS, ?)",
            ],
        )
        assert [d[0] for d in cur.description] == ["Key", "Value", "Text"]
        assert [tuple(r) for r in cur.fetchall()] == [("Status", 0, "OK")]
        # A ? where EML wants a table or an action: HANA's error, and the session lives on.
        for sql, params in [
            ("CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(?, ?)", ("CHECK_PARAMS", None)),
            ("CALL _SYS_AFL.EML_CTL_PROC('UpdateModelConfiguration', ?, ?)", None),
        ]:
            code, _ = error_of(lambda sql=sql, params=params: s.run("ML_USER", [sql], params))
            assert code == 7, sql
            assert s.run("ML_USER", ['SELECT COUNT(*) FROM "SYS"."SCHEMAS"']).fetchall()
        s.close()
