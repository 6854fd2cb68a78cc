"""The SavedModel parser (steps/models/savedmodel.py, protobuf with tf_proto's declarations)
on files real TensorFlow wrote (tests/fixtures/savedmodels, by
tests/real_tf/write_savedmodels.py; test_real_tf_fixtures.py compares the parser with
`saved_model_cli show --all` on every one): tensor order, TF2, malformed files; then what
HANA's EML can take of them (the dtype table with its sources) and the SQL text made from
them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from steps.models import hana_sql as hs
from steps.models.hana_types import (
    DTYPE_TABLE,
    SignatureMappingError,
    hana_sps,
    layout,
)
from steps.models.savedmodel import (
    SavedModelError,
    Signature,
    Tensor,
    read_savedmodel,
    read_signatures,
)
from tests.real_tf.written import COMMITTED

FIXTURES = COMMITTED.base / "models"


def test_tensors_come_in_the_order_tf_serving_gives_them() -> None:
    """SAP's Iris tutorial: input tables follow the signature's alphabetical order."""
    sig = read_signatures(FIXTURES / "iris/1")["serving_default"]
    assert [t.alias for t in sig.inputs] == [
        "PetalLength",
        "PetalWidth",
        "SepalLength",
        "SepalWidth",
    ]
    twins = read_signatures(FIXTURES / "case_twins/1")["serving_default"]
    assert [t.alias for t in twins.inputs] == ["X", "x"]  # byte order: upper case first


def test_a_tf2_model_has_its_one_signature_and_says_it_is_tf2() -> None:
    written_by = COMMITTED.manifest["tf2_module/1"]["tensorflow_version"]
    info = read_savedmodel(FIXTURES / "tf2_module/1")
    assert list(info.signatures) == ["predict"]  # not __saved_model_init_op
    assert info.tf2 and info.tensorflow_version == written_by
    v1_style = read_savedmodel(FIXTURES / "iris/1")
    assert not v1_style.tf2 and v1_style.tensorflow_version == written_by


def _corrupt(tmp_path: Path, change: bytes) -> Path:
    folder = tmp_path / "bad"
    shutil.copytree(FIXTURES / "iris/1", folder)
    pb = folder / "saved_model.pb"
    pb.write_bytes(pb.read_bytes().replace(b"PetalWidth", change))
    return folder


@pytest.mark.parametrize(
    "change",
    [
        b"Petal\xffidth",  # a string that is not UTF-8 (used to exit 70 with a traceback)
        b"PetalWidth\x00",  # a field one byte longer than its length prefix says
    ],
)
def test_every_malformed_file_is_one_sentence(tmp_path: Path, change: bytes) -> None:
    folder = _corrupt(tmp_path, change)
    with pytest.raises(SavedModelError) as err:
        read_signatures(folder)
    said = str(err.value)
    assert "is not a SavedModel protocol buffer" in said and "\n" not in said
    (folder / "saved_model.pb").write_bytes(b"\x12\x80")  # cut short
    with pytest.raises(SavedModelError, match="protocol buffer"):
        read_signatures(folder)


def test_the_hand_written_wire_parser_is_gone() -> None:
    import importlib.util

    assert importlib.util.find_spec("steps.models.protowire") is None


# -- what EML takes ---------------------------------------------------------------------


def test_every_dtype_row_has_its_source_and_int64_is_integer() -> None:
    assert all(m.source and m.sql for m in DTYPE_TABLE.values())
    assert DTYPE_TABLE[("DT_INT64", "out")].sql == "INTEGER"  # not BIGINT
    assert DTYPE_TABLE[("DT_INT64", "out")].min_sps == 3
    assert DTYPE_TABLE[("DT_STRING", "in")].sql == "BLOB"
    assert DTYPE_TABLE[("DT_STRING", "out")].sql == "VARCHAR(100)"
    assert DTYPE_TABLE[("DT_FLOAT", "in")].sql == "FLOAT"
    assert hana_sps("2.00.030.00.1522209842") == 3 and hana_sps("2.00.024.05.1") == 2


def test_the_iris_signature_is_sap_s_layout() -> None:
    lay = layout(read_signatures(FIXTURES / "iris/1")["serving_default"])
    assert [[(c.name, c.sql) for c in t] for t in lay.inputs] == [
        [("PetalLength", "FLOAT")],
        [("PetalWidth", "FLOAT")],
        [("SepalLength", "FLOAT")],
        [("SepalWidth", "FLOAT")],
    ]
    assert [(c.name, c.sql) for c in lay.outputs] == [
        ("predicted_class_id", "INTEGER"),
        ("probabilities_0", "FLOAT"),
        ("probabilities_1", "FLOAT"),
        ("probabilities_2", "FLOAT"),
    ]
    assert lay.needs_sps == 3


@pytest.mark.parametrize("dtype", ["DT_DOUBLE", "DT_INT32", "DT_HALF", "DT_INT8", "DT_UINT8"])
def test_a_dtype_without_a_source_is_refused_naming_what_is_supported(dtype: str) -> None:
    sig = Signature("s", "", (Tensor("x", dtype, (-1, 1)),), (Tensor("y", "DT_FLOAT", (-1,)),))
    with pytest.raises(SignatureMappingError) as err:
        layout(sig)
    said = str(err.value)
    assert f"'x' is {dtype}" in said and "DT_FLOAT (FLOAT), DT_INT64 (INTEGER" in said


# -- SQL text ---------------------------------------------------------------------------


@pytest.mark.parametrize("alias", ['x"y', "it's", "a b", "x;DROP", ""])
def test_an_alias_that_cannot_be_a_column_is_refused_before_any_sql(alias: str) -> None:
    sig = Signature("s", "", (Tensor(alias, "DT_FLOAT", (-1,)),), (Tensor("y", "DT_FLOAT", (-1,)),))
    with pytest.raises(SignatureMappingError, match="cannot name a HANA column"):
        layout(sig)


def test_mixed_case_aliases_are_two_columns_quoted() -> None:
    lay = layout(read_signatures(FIXTURES / "case_twins/1")["serving_default"])
    types = hs.Objects("twins").types(lay)
    assert types[1:] == [
        ("TT_TWINS_INPUT_1", '"X" FLOAT'),
        ("TT_TWINS_INPUT_2", '"x" FLOAT'),
        ("TT_TWINS_OUTPUT", '"Y" FLOAT, "y" FLOAT'),
    ]


def test_values_are_sql_literals_and_signature_names_are_checked() -> None:
    assert hs.string("it's") == "'it''s'"
    obj = hs.Objects("iris")
    assert obj.param_rows("predict", 250)[1:] == [
        "INSERT INTO EML_DATA.IRIS_PARAMS VALUES ('Model', 'iris%predict')",
        "INSERT INTO EML_DATA.IRIS_PARAMS VALUES ('RemoteSource', 'TensorFlow')",
        "INSERT INTO EML_DATA.IRIS_PARAMS VALUES ('Deadline', '250')",
    ]
    with pytest.raises(ValueError, match="signature name"):
        obj.param_rows("it's", 10000)
    with pytest.raises(ValueError):
        hs.Objects("x'y")
    assert obj.signature_rows(4)[-1] == (
        "INSERT INTO EML_DATA.IRIS_SIGNATURE VALUES (6, 'EML_DATA', 'TT_IRIS_OUTPUT', 'out')"
    )
