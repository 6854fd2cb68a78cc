"""The gRPC TF Serving stand-in's model methods (tests/fakes/tf_serving_models.py) through
the wizard's own client (steps/models/serving.py) and the HANA test server's Predict call:
Predict computed from the shipped SavedModel, GetModelMetadata, HandleReloadConfigRequest,
and TF Serving's errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from checks import tf_serving_proto as pb
from steps.models.commands import SHIPPED
from steps.models.config_text import ModelEntry
from steps.models.savedmodel import Tensor
from steps.models.serving import ServingClient, ServingError
from tests.hana_server.eml_models import predict
from tests.hana_server.results import HanaError
from tests.test_tf_serving import StandIn, start_stand_in

CONFIG = "model_config_list {\n  config { name: 'half' base_path: '/models/half' }\n}\n"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[StandIn]:
    shutil.copytree(SHIPPED, tmp_path / "root/models/half/1")
    server = start_stand_in(tmp_path, CONFIG)
    yield server
    server.proc.kill()
    server.proc.wait()


def test_predict_computes_the_saved_graph(served: StandIn) -> None:
    out = predict("127.0.0.1", served.port, "half", "serving_default", {"x": [1.0, 3.0, -4.0]})
    assert out == {"y": [2.5, 3.5, 0.0]}


def test_predict_errors_are_tf_servings(served: StandIn) -> None:
    with pytest.raises(
        HanaError, match=r"NOT_FOUND: Servable not found for request: Latest\(nope\)"
    ):
        predict("127.0.0.1", served.port, "nope", "serving_default", {"x": [1.0]})
    with pytest.raises(HanaError, match='INVALID_ARGUMENT: Serving signature key "predict"'):
        predict("127.0.0.1", served.port, "half", "predict", {"x": [1.0]})
    with pytest.raises(HanaError, match="input tensor alias not found in signature: z"):
        predict("127.0.0.1", served.port, "half", "serving_default", {"z": [1.0]})


def test_the_wizard_reads_status_and_signature(served: StandIn) -> None:
    client = ServingClient("127.0.0.1", served.port)
    assert client.state("half", 1) == "AVAILABLE"
    assert client.state("half", 2) == ""
    sig = client.signatures("half", 1)["serving_default"]
    assert sig.inputs == (Tensor("x", "DT_FLOAT", (-1, 1)),)
    assert sig.outputs == (Tensor("y", "DT_FLOAT", (-1, 1)),)
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


def test_reload_serves_exactly_the_new_list(served: StandIn) -> None:
    shutil.copytree(SHIPPED, served.root / "models/other/7")
    client = ServingClient("127.0.0.1", served.port)
    entries = [ModelEntry("other", "/models/other", "tensorflow")]
    assert client.reload(entries) is True
    assert client.state("other", 7) == "AVAILABLE"
    assert client.state("half", 1) == ""
    client.wait_available("other", 7, timeout_s=1)
    with pytest.raises(ServingError, match="did not make half version 1 AVAILABLE within 0s"):
        client.wait_available("half", 1, timeout_s=0, pause=lambda s: None)
