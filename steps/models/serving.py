"""The wizard's gRPC calls to TensorFlow Serving for a model: reload the configuration,
wait for a version AVAILABLE, read the signature.

Methods (tensorflow_serving/apis/model_service.proto, prediction_service.proto, tag
1.8.0): ``ModelService/HandleReloadConfigRequest`` (ReloadConfigRequest {1:
ModelServerConfig}), ``ModelService/GetModelStatus``, ``PredictionService/GetModelMetadata``
(metadata_field "signature_def": a google.protobuf.Any holding a SignatureDefMap {1:
map<string, SignatureDef>}). Messages are :mod:`checks.tf_serving_proto`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from steps.models import tf_proto as tp
from steps.models.checkpoints import reached
from steps.models.config_text import ModelEntry
from steps.models.savedmodel import Signature, parse_signature_map


class ServingError(Exception):
    """One sentence: what TF Serving answered and what to do."""


def _grpc() -> Any:
    from checks.tf_serving import _grpc as load  # gRPC's quiet, fork-safe first import

    return load()


class ServingClient:
    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.timeout = timeout

    def _call(self, method: str, request: Any, response_cls: Any) -> Any:
        grpc = _grpc()
        channel = grpc.insecure_channel(self.where, options=[("grpc.enable_http_proxy", 0)])
        try:
            call = channel.unary_unary(
                method,
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=response_cls.FromString,
            )
            return call(request, timeout=self.timeout)
        finally:
            channel.close()

    def reload(self, entries: list[ModelEntry]) -> bool:
        """The server serves exactly ``entries`` (config.cnf's list). False when it has no
        HandleReloadConfigRequest or does not answer (then it must be (re)started)."""
        from checks import tf_serving_proto as pb

        grpc = _grpc()
        request = pb.message_class("ReloadConfigRequest")()
        listed = request.config.model_config_list
        for e in entries:
            listed.config.add(name=e.name, base_path=e.base_path, model_platform=e.platform)
        try:
            response = self._call(
                pb.HANDLE_RELOAD_CONFIG, request, pb.message_class("ReloadConfigResponse")
            )
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE):
                return False  # no reload method, or nothing answers (stopped): a (re)start
            raise ServingError(
                f"TensorFlow Serving on {self.where} refused the new configuration "
                f"({exc.code().name}: {exc.details()}); check config.cnf and its log"
            ) from None
        if response.status.error_code != 0:
            raise ServingError(
                f"TensorFlow Serving on {self.where} refused the new configuration "
                f"({response.status.error_message}); check the model folder and its log"
            )
        return True

    def state(self, name: str, version: int) -> str:
        """AVAILABLE, LOADING, ... of one version; "" when the server does not know it."""
        from checks import tf_serving_proto as pb

        grpc = _grpc()
        request = pb.GetModelStatusRequest(model_spec=pb.ModelSpec(name=name))
        request.model_spec.version.value = version
        try:
            response = self._call(pb.GET_MODEL_STATUS, request, pb.GetModelStatusResponse)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return ""
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                return ""  # restarting: asked again until the deadline
            raise ServingError(
                f"TensorFlow Serving on {self.where}: {exc.code().name}: {exc.details()}"
            ) from None
        states = [pb.state_name(v.state) for v in response.model_version_status]
        return states[0] if states else ""

    def wait_available(
        self,
        name: str,
        version: int,
        timeout_s: float,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        deadline = time.monotonic() + timeout_s
        last = ""
        while True:
            last = self.state(name, version)
            reached(f"AVAILABLE: GetModelStatus answered {last or 'not loaded'}")
            if last == "AVAILABLE":
                return
            if time.monotonic() >= deadline:
                break
            pause(0.2)
        raise ServingError(
            f"TensorFlow Serving did not make {name} version {version} AVAILABLE within "
            f"{timeout_s:.0f}s (last state: {last or 'not loaded'}); see "
            "tensorflow_model_server.log in the export folder"
        )

    def signatures(self, name: str, version: int) -> dict[str, Signature]:
        from checks import tf_serving_proto as pb

        grpc = _grpc()
        request = pb.message_class("GetModelMetadataRequest")(metadata_field=["signature_def"])
        request.model_spec.name = name
        request.model_spec.version.value = version
        try:
            response = self._call(
                pb.GET_MODEL_METADATA, request, pb.message_class("GetModelMetadataResponse")
            )
        except grpc.RpcError as exc:
            raise ServingError(
                f"TensorFlow Serving on {self.where} gave no signature for {name} "
                f"({exc.code().name}: {exc.details()})"
            ) from None
        packed = next((e.value for e in response.metadata if e.key == "signature_def"), None)
        if packed is None:
            raise ServingError(f"TensorFlow Serving gave no signature_def for {name}")
        try:
            return parse_signature_map(packed.value)
        except tp.DecodeError:
            raise ServingError(
                f"TensorFlow Serving sent a signature of {name} that protobuf cannot parse"
            ) from None
