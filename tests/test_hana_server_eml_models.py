"""The HANA test server's EML model side (tests/hana_server/eml_models.py), statement by
statement: table types, AFL wrappers and what EML refuses."""

from __future__ import annotations

import pytest

from tests.hana_server import Catalogue, HanaError
from tests.hana_server.catalogue import SqlSession

TYPES = [
    'CREATE TYPE EML_DATA.TT_P AS TABLE ("Parameter" VARCHAR(100), "Value" VARCHAR(100))',
    'CREATE TYPE EML_DATA.TT_I AS TABLE ("X" DOUBLE)',
    'CREATE TYPE EML_DATA.TT_O AS TABLE ("Y" DOUBLE)',
]
SIG = [
    "CREATE COLUMN TABLE EML_DATA.SIG (POSITION INTEGER, SCHEMA_NAME NVARCHAR(256), "
    "TYPE_NAME NVARCHAR(256), PARAMETER_TYPE VARCHAR(7))",
]
CREATE = (
    "CALL SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE('EML', 'PREDICT', 'EML_DATA', 'P_M', EML_DATA.SIG)"
)


def ml_user(cat: Catalogue) -> SqlSession:
    s = cat.session("ML_USER")
    cat.execute(s, "CREATE SCHEMA EML_DATA")
    return s


def run(cat: Catalogue, s: SqlSession, *sql: str) -> None:
    for statement in sql:
        cat.execute(s, statement)


def rows(cat: Catalogue, s: SqlSession, sql: str, *params: object) -> list[tuple[object, ...]]:
    out = cat.execute(s, sql, tuple(params))
    return list(out.rows)  # type: ignore[union-attr]


def signature(*entries: tuple[int, str, str]) -> list[str]:
    return [
        f"INSERT INTO EML_DATA.SIG VALUES ({n}, 'EML_DATA', '{t}', '{k}')" for n, t, k in entries
    ]


def test_a_wrapper_is_a_procedure_over_existing_types_and_drops_again() -> None:
    cat = Catalogue()
    s = ml_user(cat)
    run(cat, s, *TYPES, *SIG, *signature((1, "TT_P", "IN"), (2, "TT_I", "IN"), (3, "TT_O", "OUT")))
    q = 'SELECT COUNT(*) FROM "SYS"."TABLES" WHERE SCHEMA_NAME = ? AND IS_USER_DEFINED_TYPE = ?'
    assert rows(cat, s, q, "EML_DATA", "TRUE") == [(3,)]
    run(cat, s, CREATE)
    q = 'SELECT COUNT(*) FROM "SYS"."PROCEDURES" WHERE SCHEMA_NAME = ? AND PROCEDURE_NAME = ?'
    assert rows(cat, s, q, "EML_DATA", "P_M") == [(1,)]
    with pytest.raises(HanaError) as dup:
        run(cat, s, CREATE)
    assert dup.value.code == 329
    run(cat, s, "CALL SYS.AFLLANG_WRAPPER_PROCEDURE_DROP('EML_DATA', 'P_M')")
    assert rows(cat, s, q, "EML_DATA", "P_M") == [(0,)]
    run(cat, s, "DROP TYPE EML_DATA.TT_O")
    with pytest.raises(HanaError, match="invalid type name"):
        run(cat, s, "DROP TYPE EML_DATA.TT_O")


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        (((1, "TT_P", "IN"), (2, "TT_NOPE", "IN"), (3, "TT_O", "OUT")), "TT_NOPE not found"),
        (((1, "TT_P", "IN"), (2, "TT_I", "OUT"), (3, "TT_O", "OUT")), "params IN, data IN"),
    ],
)
def test_a_wrong_signature_table_is_refused(
    entries: tuple[tuple[int, str, str], ...], words: str
) -> None:
    cat = Catalogue()
    s = ml_user(cat)
    run(cat, s, *TYPES, *SIG, *signature(*entries))
    with pytest.raises(HanaError, match=words):
        run(cat, s, CREATE)


def test_predict_of_a_model_eml_has_not_loaded_fails() -> None:
    cat = Catalogue(ml_user_has_role=True, remote_source=("127.0.0.1", 1))
    s = ml_user(cat)
    run(cat, s, *TYPES, *SIG, *signature((1, "TT_P", "IN"), (2, "TT_I", "IN"), (3, "TT_O", "OUT")))
    run(cat, s, CREATE)
    for name, cols in (
        ("P", '"Parameter" VARCHAR(100), "Value" VARCHAR(100)'),
        ("I", '"X" DOUBLE'),
        ("O", '"Y" DOUBLE'),
    ):
        run(cat, s, f"CREATE COLUMN TABLE EML_DATA.{name} ({cols})")
    run(
        cat,
        s,
        "INSERT INTO EML_DATA.P VALUES ('Model', 'm')",
        "INSERT INTO EML_DATA.P VALUES ('RemoteSource', 'TensorFlow')",
        "INSERT INTO EML_DATA.I VALUES (1.0)",
    )
    with pytest.raises(HanaError, match="model m is not configured"):
        run(cat, s, "CALL EML_DATA.P_M(EML_DATA.P, EML_DATA.I, EML_DATA.O) WITH OVERVIEW")
