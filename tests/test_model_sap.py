"""`emlsetup model` as SAP documents EML (issue 24, items 1-4 and what an admin needs next),
through the real CLI and hdbcli against the HANA test server and the TF Serving stand-in,
on SavedModels real TensorFlow wrote. Expected values are TensorFlow's own answers for the
same inputs (the manifest of tests/fixtures/savedmodels, tests/real_tf/write_savedmodels.py
made both)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.model_bench import FIXTURES, Bench, ready
from tests.real_tf import adapter
from tests.real_tf.model_cycle import assert_answer
from tests.real_tf.written import COMMITTED
from tests.sandbox import Sandbox

# TensorFlow's answers for the iris fixture: all four features 1.0 (what `model test` sends
# by default), and two rows of the Iris test set (versicolor, virginica).
IRIS_SMOKE = COMMITTED.answer("iris/1")
IRIS_SAMPLE = COMMITTED.answer("iris/1", "sample")


@pytest.fixture
def bench(sandbox: Sandbox) -> Iterator[Bench]:
    yield from ready(sandbox)


def test_sap_s_iris_model_answers_from_sql_with_one_table_type_per_input(bench: Bench) -> None:
    out = bench.ok("model", "add", "iris", FIXTURES / "iris/1")
    assert "PREDICT_IRIS(params, input 1, input 2, input 3, input 4, output) created" in out
    # item 1: CHECKDESTINATION's rows are shown, the PREDICT call proves the model
    assert "EML_CHECKDESTINATION_PROC: answered OK iris: ready (for information" in out
    assert "PREDICT: HANA asked TensorFlow and got predicted_class_id=0, probabilities_0=" in out
    assert_answer(out, IRIS_SMOKE)
    assert "iris version 1 is served and callable from SQL" in out
    assert any(
        "EML_CHECKDESTINATION_PROC(EML_DATA.IRIS_PARAMS, ?)" in s.sql for s in bench.srv.statements
    )  # TechEd DAT364's call: the model's own parameter table
    # item 2: one table type per input tensor, SAP's (in x 5, out) signature
    assert bench.objects("TT_IRIS") == [
        "TT_IRIS_INPUT_1", "TT_IRIS_INPUT_2", "TT_IRIS_INPUT_3", "TT_IRIS_INPUT_4",
        "TT_IRIS_OUTPUT", "TT_IRIS_PARAMS",
    ]  # fmt: skip
    assert bench.sql("SELECT * FROM EML_DATA.IRIS_SIGNATURE") == [
        (1, "EML_DATA", "TT_IRIS_PARAMS", "in"),
        *((i, "EML_DATA", f"TT_IRIS_INPUT_{i - 1}", "in") for i in range(2, 6)),
        (6, "EML_DATA", "TT_IRIS_OUTPUT", "out"),
    ]
    # item 3: the DT_INT64 class id is an INTEGER column, as in SAP's TT_IRIS_RESULTS
    columns = bench.sql(
        "SELECT COLUMN_NAME, DATA_TYPE_NAME FROM SYS.TABLE_COLUMNS WHERE SCHEMA_NAME = "
        "'EML_DATA' AND TABLE_NAME = 'IRIS_OUTPUT'"
    )
    assert columns == [("predicted_class_id", "INTEGER")] + [
        (f"probabilities_{i}", "DOUBLE") for i in range(3)
    ]

    # `model sql`: the statements an application runs, as they are, through hdbcli
    script = bench.ok("model", "sql", "iris")
    statements = [x[:-1] for x in script.splitlines() if x and not x.startswith("--")]
    assert statements[-2] == (
        "CALL EML_DATA.PREDICT_IRIS(EML_DATA.IRIS_PARAMS, EML_DATA.IRIS_INPUT_1, "
        "EML_DATA.IRIS_INPUT_2, EML_DATA.IRIS_INPUT_3, EML_DATA.IRIS_INPUT_4, "
        "EML_DATA.IRIS_OUTPUT) WITH OVERVIEW"
    )
    (row,) = _run(bench, statements)
    assert list(row) == pytest.approx(adapter.output_rows(IRIS_SMOKE)[0], rel=1e-6)

    # several rows from `model test --input`, answered in their order
    given = adapter.model_test_arguments(IRIS_SAMPLE["inputs"])
    tested = bench.ok("model", "test", "iris", *given)
    assert_answer(tested, IRIS_SAMPLE)
    out_rows = bench.sql("SELECT * FROM EML_DATA.IRIS_OUTPUT")
    assert [r[0] for r in out_rows] == [1, 2]  # versicolor, virginica
    assert [list(r) for r in out_rows] == [
        pytest.approx(r, rel=1e-6) for r in adapter.output_rows(IRIS_SAMPLE)
    ]


def _run(bench: Bench, statements: list[str]) -> list[tuple[object, ...]]:
    from hdbcli import dbapi

    from tests.test_run_hana import ML_PW

    conn = dbapi.connect(address="127.0.0.1", port=bench.srv.port, user="ML_USER",
                         password=ML_PW, databaseName="HXE")  # fmt: skip
    try:
        cur = conn.cursor()
        for s in statements:
            cur.execute(s.strip())
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def test_the_creator_role_is_checked_before_any_change_and_step_7_grants_it(
    bench: Bench,
) -> None:
    """Item 4: a real ML_USER without AFLPM_CREATOR_ERASER_EXECUTE failed at
    AFLLANG_WRAPPER_PROCEDURE_CREATE after the files, the entry and the row were in."""
    bench.cat.state.roles.discard(("ML_USER", "AFLPM_CREATOR_ERASER_EXECUTE"))
    bench.srv.push_state()
    before = bench.snapshot()
    said = bench.failed("model", "add", "half_plus_two")
    assert "ML_USER does not have the role AFLPM_CREATOR_ERASER_EXECUTE" in said
    assert "run step 7 again (emlsetup run --only-step 7)" in said
    assert bench.snapshot() == before  # nothing copied, written or registered
    step7 = bench.ok("run", "--yes", "--only-step", "7")
    assert "Grant AFLPM_CREATOR_ERASER_EXECUTE to ML_USER" in step7
    granted = bench.sql(
        "SELECT COUNT(*) FROM SYS.GRANTED_ROLES WHERE GRANTEE = 'ML_USER' AND "
        "ROLE_NAME = 'AFLPM_CREATOR_ERASER_EXECUTE'"
    )
    assert granted == [(1,)]
    assert "got 2.5 for 1" in bench.ok("model", "add", "half_plus_two")


def test_int64_needs_hana_2_sps03_and_is_an_integer_column(bench: Bench) -> None:
    """Item 3: DT_INT64 is INTEGER from SPS03 on (SAP's Iris tutorial; its pre-SPS03 export
    script casts the class id to float)."""
    bench.cat.state.version = "2.00.024.00.1508139447"  # HANA 2 SPS02
    bench.srv.push_state()
    before = bench.snapshot()
    said = bench.failed("model", "add", "counts", FIXTURES / "int64_io/1")
    assert "this HANA is 2.00.024.00.1508139447 (SPS02); EML takes DT_INT64" in said
    assert bench.snapshot() == before
    bench.cat.state.version = "2.00.030.00.1522209842"  # SPS03
    bench.srv.push_state()
    bench.ok("model", "add", "counts", FIXTURES / "int64_io/1")
    sample = COMMITTED.answer("int64_io/1", "sample")  # 7 and 250: 2x + 1
    tested = bench.ok("model", "test", "counts", *adapter.model_test_arguments(sample["inputs"]))
    assert "got 15; 501 for 7; 250" in tested
    rows = bench.sql("SELECT * FROM EML_DATA.COUNTS_OUTPUT")
    assert [list(r) for r in rows] == adapter.output_rows(sample) and isinstance(rows[0][0], int)


def test_the_signature_is_chosen_and_the_deadline_is_a_setting(bench: Bench) -> None:
    two = FIXTURES / "two_signatures/1"
    said = bench.failed("model", "add", "two", two)
    assert "several others (halves, scores); choose one with --signature" in said
    bench.ok(
        "model", "add", "two", two, "--signature", "scores", EMLSETUP_HANA__EML_DEADLINE_MS="2500"
    )
    params = "SELECT * FROM EML_DATA.TWO_PARAMS"
    assert bench.sql(params) == [
        ("Model", "two%scores"),
        ("RemoteSource", "TensorFlow"),
        ("Deadline", "2500"),
    ]
    tested = bench.ok(
        "model", "test", "two", "--input", "x=2", EMLSETUP_HANA__EML_DEADLINE_MS="4000"
    )
    assert "got 8 for 2" in tested  # scores (4x), not halves
    assert bench.sql(params)[2] == ("Deadline", "4000")


def test_model_test_takes_rows_and_refuses_what_a_column_cannot_hold(bench: Bench) -> None:
    bench.ok("model", "add", "half_plus_two")
    rows = ("--input", "x=1", "--input", "x=3", "--input", "x=-4")
    assert "got 2.5; 3.5; 0 for 1; 3; -4" in bench.ok("model", "test", "half_plus_two", *rows)
    said = bench.failed("model", "test", "half_plus_two", "--input", "x=abc")
    assert said == "Failed: --input x=abc: x is DOUBLE: give a number"
    said = bench.failed("model", "test", "half_plus_two", "--input", "z=1")
    assert said == "Failed: --input z: the model's input columns are x"
    said = bench.failed("model", "test", "half_plus_two", "--input", "x")
    assert "write COLUMN=VALUE" in said
