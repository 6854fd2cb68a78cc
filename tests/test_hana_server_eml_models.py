"""The HANA test server's EML model side (tests/hana_server/eml_models.py), statement by
statement: table types, AFL wrappers (and the role they need), EML_CHECKDESTINATION_PROC's
published layout, and what EML refuses."""

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


CREATOR = ("AFLPM_CREATOR_ERASER_EXECUTE",)


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
    cat = Catalogue(ml_user_roles=CREATOR)
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
        (((1, "TT_P", "IN"), (2, "TT_I", "OUT"), (3, "TT_O", "OUT")), "one IN per input"),
        (((1, "TT_P", "IN"), (2, "TT_O", "OUT")), "one IN per input"),
    ],
)
def test_a_wrong_signature_table_is_refused(
    entries: tuple[tuple[int, str, str], ...], words: str
) -> None:
    cat = Catalogue(ml_user_roles=CREATOR)
    s = ml_user(cat)
    run(cat, s, *TYPES, *SIG, *signature(*entries))
    with pytest.raises(HanaError, match=words):
        run(cat, s, CREATE)


def test_predict_of_a_model_eml_has_not_loaded_fails() -> None:
    cat = Catalogue(ml_user_has_role=True, remote_source=("127.0.0.1", 1), ml_user_roles=CREATOR)
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


def test_sap_s_six_parameter_wrapper_is_taken() -> None:
    """SAP's Iris tutorial (mlb-hxe-tensorflow-iris step 6): one type per input tensor,
    ('in' x 5, 'out'), lower case as the tutorial writes it."""
    cat = Catalogue(ml_user_roles=CREATOR)
    s = ml_user(cat)
    features = ["PETALLENGTH", "PETALWIDTH", "SEPALLENGTH", "SEPALWIDTH"]
    run(
        cat,
        s,
        'CREATE TYPE EML_DATA.TT_IRIS_PARAMS AS TABLE ("Parameter" VARCHAR(100), '
        '"Value" VARCHAR(100))',
        *(f"CREATE TYPE EML_DATA.TT_IRIS_FEATURES_{f} AS TABLE ({f} FLOAT)" for f in features),
        "CREATE TYPE EML_DATA.TT_IRIS_RESULTS AS TABLE (PREDICTED_CLASS_ID INTEGER, "
        "PROBABILITIES0 FLOAT, PROBABILITIES1 FLOAT, PROBABILITIES2 FLOAT)",
        *SIG,
        *signature(
            (1, "TT_IRIS_PARAMS", "in"),
            *((i + 2, f"TT_IRIS_FEATURES_{f}", "in") for i, f in enumerate(features)),
            (6, "TT_IRIS_RESULTS", "out"),
        ),
        "CALL SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE('EML', 'PREDICT', 'EML_DATA', 'IRIS', "
        "EML_DATA.SIG)",
    )
    assert cat.state.wrappers[("EML_DATA", "IRIS")][-1] == ("EML_DATA", "TT_IRIS_RESULTS", "OUT")
    assert len(cat.state.wrappers[("EML_DATA", "IRIS")]) == 6


def test_wrappers_need_the_creator_eraser_role() -> None:
    """mlb-hxe-setup-basic grants AFLPM_CREATOR_ERASER_EXECUTE for this; without it 258."""
    cat = Catalogue()
    s = ml_user(cat)
    run(cat, s, *TYPES, *SIG, *signature((1, "TT_P", "IN"), (2, "TT_I", "IN"), (3, "TT_O", "OUT")))
    with pytest.raises(HanaError) as denied:
        run(cat, s, CREATE)
    assert denied.value.code == 258 and "AFLPM_CREATOR_ERASER_EXECUTE" in str(denied.value)
    run(cat, cat.session("SYSTEM"), "GRANT AFLPM_CREATOR_ERASER_EXECUTE TO ML_USER")
    run(cat, s, CREATE)
    q = 'SELECT COUNT(*) FROM "SYS"."GRANTED_ROLES" WHERE GRANTEE = ? AND ROLE_NAME = ?'
    assert rows(cat, s, q, "ML_USER", "AFLPM_CREATOR_ERASER_EXECUTE") == [(1,)]


def test_checkdestination_answers_in_teched_dat364_s_layout() -> None:
    """("Code" VARCHAR(10), "Longtext" VARCHAR(100)): a code cannot hold a model name."""
    cat = Catalogue(ml_user_has_role=True, remote_source=("127.0.0.1", 1), models=["iris"])
    s = ml_user(cat)
    run(
        cat,
        s,
        'CREATE TABLE EML_DATA.CHECK_PARAMS ("Parameter" VARCHAR(100), "Value" VARCHAR(100))',
        "INSERT INTO EML_DATA.CHECK_PARAMS VALUES ('Model', 'iris')",
    )
    out = cat.execute(s, "CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(EML_DATA.CHECK_PARAMS, ?)")
    (result,) = out.tables  # type: ignore[union-attr]
    assert [(c.name, c.type_code.name, c.length) for c in result.columns] == [
        ("Code", "VARCHAR", 10),
        ("Longtext", "VARCHAR", 100),
    ]
    assert all(len(code) <= 10 for code, _ in result.rows)
