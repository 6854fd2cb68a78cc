"""The tensorflow_model_server stand-in: a real gRPC server (grpcio) on --port.

Behaves as TensorFlow Serving 1.8.0 does (tensorflow/serving, tag 1.8.0):
- flags ``--port`` (default 8500) and ``--model_config_file`` (model_servers/main.cc); a
  missing config file fails start-up, exit 1;
- ``tensorflow.serving.ModelService/GetModelStatus`` (apis/model_service.proto), answered as
  model_servers/get_model_status_impl.cc does: no model_spec -> INVALID_ARGUMENT
  "Missing ModelSpec"; a model with no version -> NOT_FOUND "Could not find any versions of
  model NAME"; a version it does not have -> NOT_FOUND "Could not find version V of model
  NAME"; else one ModelVersionStatus per version (state AVAILABLE, status OK). gRPC status
  code and text are TF's own (grpc_status_util.cc passes them through);
- a configured model's versions are the numeric folders under its ``base_path``, and it
  serves the highest one only (tf_serving_models.py: the default version policy); a
  version it served before and no longer serves has state END. With no version there,
  1.8.0 logs "No versions of servable NAME found under base path ..." and waits before
  opening its port (ServerCore waits for the configured models), as here;
- the port is taken: "Failed to start server. Error: Could not bind to port", exit 1. (The
  stand-in turns SO_REUSEPORT off so that a second server on the port fails this way.)
- once listening it prints "Running gRPC ModelServer at 0.0.0.0:PORT ..." (later releases'
  wording; 1.8.0 says "Running ModelServer at"); tests wait for that line.

API for more of TF Serving: ``StandIn.methods`` maps a full method path
(``/tensorflow.serving.PredictionService/Predict``) to (request class, response class,
handler(request, context)); add messages in ``checks.tf_serving_proto`` and a handler here.
``StandIn.served(name)`` ({version: path} of what is served now) and ``StandIn.status``
are the servable state the handlers read.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from fakelib import err, local, say

from checks import tf_serving_proto as pb

Handler = Callable[[Any, grpc.ServicerContext], Any]


def read_config(text: str) -> dict[str, str]:
    """{model name: base_path} of a ModelServerConfig in text format."""
    out: dict[str, str] = {}
    for block in re.findall(r"config\s*:?\s*\{([^{}]*)\}", text):
        name = re.search(r"\bname\s*:\s*[\"']([^\"']*)[\"']", block)
        base = re.search(r"\bbase_path\s*:\s*[\"']([^\"']*)[\"']", block)
        if name:
            out[name.group(1)] = base.group(1) if base else ""
    return out


def versions_under(base_path: str) -> list[int]:
    folder = local(base_path) if base_path else None
    if folder is None or not folder.is_dir():
        return []
    return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())


class StandIn:
    """The servable state and the gRPC methods of the stand-in model server."""

    def __init__(self, bases: dict[str, str]) -> None:
        self.bases: dict[str, str] = {}
        self.seen: dict[str, set[int]] = {}  # versions each model has served
        self.configure(bases)
        self.methods: dict[str, tuple[Any, Any, Handler]] = {
            pb.GET_MODEL_STATUS: (
                pb.GetModelStatusRequest,
                pb.GetModelStatusResponse,
                self.get_model_status,
            ),
        }
        from tf_serving_models import methods  # Predict, GetModelMetadata, reload

        self.methods.update(methods(self))

    def configure(self, bases: dict[str, str]) -> None:
        self.bases = dict(bases)
        for name in bases:
            self.served(name)

    def served(self, name: str) -> dict[int, str]:
        """{version: path} served now: the highest version folder (policy latest, 1)."""
        if name not in self.bases:
            return {}
        found = versions_under(self.bases[name])
        if not found:
            return {}
        self.seen.setdefault(name, set()).add(found[-1])
        return {found[-1]: f"{self.bases[name]}/{found[-1]}"}

    def status(self, name: str) -> dict[int, str]:
        """{version: AVAILABLE | END} of every version the model has served."""
        now = self.served(name)
        return {v: "AVAILABLE" if v in now else "END" for v in sorted(self.seen.get(name, ()))}

    def get_model_status(self, request: Any, context: grpc.ServicerContext) -> Any:
        if not request.HasField("model_spec"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
        name = request.model_spec.name
        states = self.status(name)
        if request.model_spec.HasField("version"):
            wanted = request.model_spec.version.value
            if wanted not in states:
                context.abort(
                    grpc.StatusCode.NOT_FOUND, f"Could not find version {wanted} of model {name}"
                )
            states = {wanted: states[wanted]}
        elif not states:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Could not find any versions of model {name}")
        response = pb.GetModelStatusResponse()
        for version, state in states.items():
            status = response.model_version_status.add(
                version=version, state=pb.VERSION_STATES[state]
            )
            status.status.error_code = pb.ERROR_CODES["OK"]
        return response

    def handler(self) -> grpc.GenericRpcHandler:
        by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        for path, (request_cls, _response_cls, fn) in self.methods.items():
            service, method = path.lstrip("/").split("/")
            by_service.setdefault(service, {})[method] = grpc.unary_unary_rpc_method_handler(
                fn,
                request_deserializer=request_cls.FromString,
                response_serializer=lambda m: m.SerializeToString(),
            )
        return _Router(by_service)


class _Router(grpc.GenericRpcHandler):
    def __init__(self, services: dict[str, dict[str, grpc.RpcMethodHandler]]) -> None:
        self.services = services

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Any:
        service, _, method = handler_call_details.method.lstrip("/").partition("/")
        return self.services.get(service, {}).get(method)  # None: UNIMPLEMENTED, as gRPC


def serve(argv: list[str], on_started: Callable[[], None]) -> int:
    """tensorflow_model_server [--port=N] [--model_config_file=F]."""
    port = next((a.split("=", 1)[1] for a in argv if re.match(r"--?port=", a)), "8500")
    config = next((a.split("=", 1)[1] for a in argv if a.startswith("--model_config_file=")), "")
    bases: dict[str, str] = {}
    if config:
        path = local(config)
        if not path.exists():
            err(f"Failed to start server. Error: Not found: {config}; No such file or directory")
            return 1
        bases = read_config(path.read_text())
        for name, base in bases.items():
            if not versions_under(base):
                err(f"No versions of servable {name} found under base path {base}")
                on_started()
                signal.pause()  # 1.8.0 waits here for the model, its port still closed
    stand_in = StandIn(bases)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.so_reuseport", 0)]
    )
    server.add_generic_rpc_handlers((stand_in.handler(),))
    try:
        bound = server.add_insecure_port(
            f"{os.environ.get('FAKE_HOST_ADDRESS', '127.0.0.1')}:{port}"
        )
    except RuntimeError:
        bound = 0
    if not bound:
        err(f"Failed to start server. Error: Could not bind to port {port}: Address already in use")
        return 1
    server.start()
    on_started()
    say(f"Running gRPC ModelServer at 0.0.0.0:{port} ...")
    server.wait_for_termination()
    return 0


if __name__ == "__main__":  # pragma: no cover - debugging aid
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(serve(sys.argv[1:], lambda: None))
