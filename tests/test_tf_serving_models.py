"""The gRPC TF Serving stand-in's model methods (tests/fakes/tf_serving_models.py) through
the wizard's own client (steps/models/serving.py) and the HANA test server's EML: Predict
computed from SavedModels real TensorFlow wrote (float, int64, string; [-1] and [-1, N];
a TF2 function), answers compared with what that TensorFlow computed for the same inputs
(tests/fixtures/savedmodels/manifest.json);
GetModelMetadata, HandleReloadConfigRequest, the default version policy, TF's errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from checks import tf_serving_proto as pb
from steps.models.commands import SHIPPED
from steps.models.config_text import ModelEntry
from steps.models.savedmodel import Tensor
from steps.models.serving import ServingClient, ServingError
from tests.hana_server import Catalogue
from tests.hana_server.eml_models import predict
from tests.hana_server.results import HanaError
from tests.hana_server.types import TypeCode
from tests.real_tf import adapter
from tests.real_tf.written import COMMITTED
from tests.test_tf_serving import StandIn, start_stand_in

FIXTURES = COMMITTED.base / "models"
SERVED = ("iris", "int64_io", "string_io", "vector3", "tf2_module", "two_inputs")
CONFIG = (
    "model_config_list {\n"
    + "".join(f"  config {{ name: '{m}' base_path: '/models/{m}' }}\n" for m in ("half", *SERVED))
    + "}\n"
)
F, INT, B = TypeCode.DOUBLE, TypeCode.INTEGER, TypeCode.BLOB


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    tmp = tmp_path_factory.mktemp("served")
    shutil.copytree(SHIPPED, tmp / "root/models/half/1")
    for name in SERVED:
        shutil.copytree(FIXTURES / name / "1", tmp / f"root/models/{name}/1")
    server = start_stand_in(tmp, CONFIG)
    yield server
    server.proc.kill()
    server.proc.wait()


Columns = list[list[tuple[str, TypeCode]]]


def ask(
    served: StandIn, model: str, columns: Columns, rows: list[list[tuple[object, ...]]],
    signature: str = "serving_default",
) -> list[list[object]]:  # fmt: skip
    return predict("127.0.0.1", served.port, model, signature, columns, rows)


def test_predict_computes_the_saved_graph(served: StandIn) -> None:
    out = ask(served, "half", [[("x", F)]], [[(1.0,), (3.0,), (-4.0,)]])
    assert out == [[2.5], [3.5], [0.0]]


def ask_sample(served: StandIn, model: str, signature: str = "serving_default") -> list[Any]:
    """The manifest's sample rows of ``model`` through EML's PREDICT: one table per input
    tensor, in alias order, its columns as emlsetup makes them."""
    inputs = COMMITTED.answer(f"{model}/1", "sample", signature)["inputs"]
    kinds = {float: F, int: INT, str: B}
    columns, rows = [], []
    for alias in sorted(inputs, key=str.encode):
        table = [adapter.row_values({alias: row}) for row in inputs[alias]]
        names = adapter.columns({alias: inputs[alias][0]})
        columns.append([(n, kinds[type(v)]) for n, v in zip(names, table[0], strict=True)])
        rows.append([tuple(v.encode() if isinstance(v, str) else v for v in r) for r in table])
    return ask(served, model, columns, rows, signature)


def tf_answer(model: str, signature: str = "serving_default") -> list[list[Any]]:
    return adapter.output_rows(COMMITTED.answer(f"{model}/1", "sample", signature))


def test_iris_outputs_map_to_the_output_columns_by_position(served: StandIn) -> None:
    """Four input tables in alias order; the class id, then three probabilities, as
    TensorFlow answered two rows of the Iris test set (classes 1 and 2)."""
    rows = ask_sample(served, "iris")
    assert [r[0] for r in rows] == [1, 2] and all(isinstance(r[0], int) for r in rows)
    assert rows == [pytest.approx(r, rel=1e-6) for r in tf_answer("iris")]


@pytest.mark.parametrize(
    "model, signature",
    [
        ("int64_io", "serving_default"),
        ("string_io", "serving_default"),
        ("vector3", "serving_default"),  # scaled_0..2, then total
        ("tf2_module", "predict"),
        ("two_inputs", "serving_default"),
    ],
)
def test_int64_strings_vectors_and_a_tf2_function(
    served: StandIn, model: str, signature: str
) -> None:
    rows = ask_sample(served, model, signature)
    assert rows == [pytest.approx(r, rel=1e-6) for r in tf_answer(model, signature)]


def test_eml_errors_carry_tf_serving_s(served: StandIn) -> None:
    with pytest.raises(HanaError, match=r"NOT_FOUND: Servable not found for request: Latest\(no"):
        ask(served, "nope", [[("x", F)]], [[(1.0,)]])
    with pytest.raises(HanaError, match="has no signature predict"):
        ask(served, "half", [[("x", F)]], [[(1.0,)]], "predict")
    with pytest.raises(HanaError, match="has 2 inputs, the call gives 1 input tables"):
        ask(served, "two_inputs", [[("a", F)]], [[(1.0,)]])


def _predict(served: StandIn, model: str, signature: str, alias: str) -> grpc.RpcError:
    request = pb.message_class("PredictRequest")()
    request.model_spec.name, request.model_spec.signature_name = model, signature
    tensor = request.inputs.add(key=alias).value
    tensor.dtype = 1
    tensor.tensor_shape.dim.add(size=1)
    tensor.float_val.append(1.0)
    with grpc.insecure_channel(f"127.0.0.1:{served.port}") as channel:
        call = channel.unary_unary(
            pb.PREDICT,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=pb.message_class("PredictResponse").FromString,
        )
        with pytest.raises(grpc.RpcError) as err:
            call(request, timeout=5)
    return err.value


def test_predict_errors_are_tf_servings(served: StandIn) -> None:
    err = _predict(served, "half", "predict", "x")
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == 'Serving signature key "predict" not found.'
    err = _predict(served, "half", "serving_default", "z")
    assert err.details() == "input tensor alias not found in signature: z"
    err = _predict(served, "two_inputs", "serving_default", "a")
    assert err.details() == "input size does not match signature"


def test_the_wizard_reads_status_and_signature(served: StandIn) -> None:
    client = ServingClient("127.0.0.1", served.port)
    assert client.state("half", 1) == "AVAILABLE"
    assert client.state("half", 2) == ""
    sig = client.signatures("half", 1)["serving_default"]
    assert sig.inputs == (Tensor("x", "DT_FLOAT", (-1, 1)),)
    assert sig.outputs == (Tensor("y", "DT_FLOAT", (-1, 1)),)
    assert list(client.signatures("tf2_module", 1)) == ["predict"]  # not the init op
    with pytest.raises(ServingError, match="gave no signature for nope"):
        client.signatures("nope", 1)


def test_metadata_needs_the_signature_def_field(served: StandIn) -> None:
    request = pb.message_class("GetModelMetadataRequest")()
    request.model_spec.name = "half"
    with grpc.insecure_channel(f"127.0.0.1:{served.port}") as channel:
        call = channel.unary_unary(
            pb.GET_MODEL_METADATA,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=pb.message_class("GetModelMetadataResponse").FromString,
        )
        with pytest.raises(grpc.RpcError) as err:
            call(request, timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "Metadata field signature_def is missing"


def test_a_new_version_replaces_the_served_one(tmp_path: Path) -> None:
    """ServableVersionPolicy's default (latest, num_versions 1): version 2 appears, it is
    served, version 1 ends; the metadata is version 2's."""
    shutil.copytree(FIXTURES / "versioned/1", tmp_path / "root/models/v/1")
    server = start_stand_in(
        tmp_path, "model_config_list { config { name: 'v' base_path: '/models/v' } }"
    )
    try:
        client = ServingClient("127.0.0.1", server.port)
        assert client.state("v", 1) == "AVAILABLE"
        shutil.copytree(FIXTURES / "versioned/2", tmp_path / "root/models/v/2")
        assert client.state("v", 2) == "AVAILABLE" and client.state("v", 1) == "END"
        signature = client.signatures("v", 2)["serving_default"]
        assert [t.alias for t in signature.inputs] == ["a", "b"]
        assert predict("127.0.0.1", server.port, "v", "serving_default",
                       [[("a", F)], [("b", F)]], [[(2.0,)], [(1.0,)]]) == [[5.0]]  # fmt: skip
    finally:
        server.proc.kill()
        server.proc.wait()


def test_reload_serves_exactly_the_new_list(tmp_path: Path) -> None:
    shutil.copytree(SHIPPED, tmp_path / "root/models/half/1")
    server = start_stand_in(
        tmp_path, "model_config_list { config { name: 'half' base_path: '/models/half' } }"
    )
    try:
        shutil.copytree(SHIPPED, server.root / "models/other/7")
        client = ServingClient("127.0.0.1", server.port)
        assert client.reload([ModelEntry("other", "/models/other", "tensorflow")]) is True
        assert client.state("other", 7) == "AVAILABLE"
        assert client.state("half", 1) == "END"  # unloaded: no longer in the config
        client.wait_available("other", 7, timeout_s=1)
        with pytest.raises(ServingError, match="did not make half version 1 AVAILABLE within 0s"):
            client.wait_available("half", 1, timeout_s=0, pause=lambda s: None)
    finally:
        server.proc.kill()
        server.proc.wait()


def test_the_hana_test_server_runs_sap_s_iris_call(served: StandIn) -> None:
    """SAP's step 6 statements (names, FLOAT and INTEGER columns as the tutorial has them)
    against the stand-in: the 6-parameter wrapper answers through the Catalogue."""
    cat = Catalogue(ml_user_has_role=True, remote_source=("127.0.0.1", served.port),
                    models=[], ml_user_roles=("AFLPM_CREATOR_ERASER_EXECUTE",))  # fmt: skip
    s = cat.session("ML_USER")
    feats = ["PETALLENGTH", "PETALWIDTH", "SEPALLENGTH", "SEPALWIDTH"]
    sample = COMMITTED.answer("iris/1", "sample")["inputs"]  # the first row: versicolor
    first = {alias.upper(): rows[0][0] for alias, rows in sample.items()}
    params = '("Parameter" VARCHAR(100), "Value" VARCHAR(100))'
    results = "(PREDICTED_CLASS_ID INTEGER, PROBABILITIES0 FLOAT, PROBABILITIES1 FLOAT, " \
              "PROBABILITIES2 FLOAT)"  # fmt: skip
    sql = [
        "CREATE SCHEMA EML_DATA",
        "SET SCHEMA EML_DATA",
        f"CREATE TYPE TT_IRIS_PARAMS AS TABLE {params}",
        *(f"CREATE TYPE TT_IRIS_FEATURES_{f} AS TABLE ({f} FLOAT)" for f in feats),
        f"CREATE TYPE TT_IRIS_RESULTS AS TABLE {results}",
        "CREATE COLUMN TABLE IRIS_PROC_PARAM_TABLE (POSITION INTEGER, SCHEMA_NAME "
        "NVARCHAR(256), TYPE_NAME NVARCHAR(256), PARAMETER_TYPE VARCHAR(7))",
        "INSERT INTO IRIS_PROC_PARAM_TABLE VALUES (1, 'EML_DATA', 'TT_IRIS_PARAMS', 'in')",
        *(
            f"INSERT INTO IRIS_PROC_PARAM_TABLE VALUES ({i + 2}, 'EML_DATA', "
            f"'TT_IRIS_FEATURES_{f}', 'in')"
            for i, f in enumerate(feats)
        ),  # fmt: skip
        "INSERT INTO IRIS_PROC_PARAM_TABLE VALUES (6, 'EML_DATA', 'TT_IRIS_RESULTS', 'out')",
        "CALL SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE('EML', 'PREDICT', 'EML_DATA', 'IRIS', "
        "IRIS_PROC_PARAM_TABLE)",
        f"CREATE TABLE IRIS_PARAMS {params}",
        "INSERT INTO IRIS_PARAMS VALUES ('Model', 'iris')",
        "INSERT INTO IRIS_PARAMS VALUES ('RemoteSource', 'TensorFlow')",
        "INSERT INTO IRIS_PARAMS VALUES ('Deadline', '10000')",
        *(f"CREATE TABLE IRIS_FEATURES_{f} ({f} FLOAT)" for f in feats),
        *(f"INSERT INTO IRIS_FEATURES_{f} VALUES ({first[f]!r})" for f in feats),  # fmt: skip
        f"CREATE TABLE IRIS_RESULTS {results}",
        "INSERT INTO _SYS_AFL.EML_MODEL_CONFIGURATION VALUES ('iris', 'RemoteSource', "
        "'TensorFlow')",
        "CALL _SYS_AFL.EML_CTL_PROC('UpdateModelConfiguration', IRIS_PARAMS, ?)",
        "CALL IRIS (IRIS_PARAMS, IRIS_FEATURES_PETALLENGTH, IRIS_FEATURES_PETALWIDTH, "
        "IRIS_FEATURES_SEPALLENGTH, IRIS_FEATURES_SEPALWIDTH, IRIS_RESULTS) WITH OVERVIEW",
    ]
    cat._state.privileges.add(("ML_USER", "_SYS_AFL", "EML_MODEL_CONFIGURATION", "INSERT"))
    for statement in sql:
        cat.execute(s, statement)
    (row,) = cat.execute(s, "SELECT * FROM IRIS_RESULTS").rows  # type: ignore[union-attr]
    assert list(row) == pytest.approx(tf_answer("iris")[0], rel=1e-6)  # class 1
