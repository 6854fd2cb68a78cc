"""Is it TensorFlow Serving that listens on the serving port? Asked over gRPC.

A TCP connect proves only that *something* listens. TF Serving proves itself by answering
``tensorflow.serving.ModelService/GetModelStatus`` (tensorflow_serving/apis/model_service.proto):
for every model in its configuration, or, with none configured, for a name it cannot know,
which it answers NOT_FOUND "Could not find any versions of model ..."
(tensorflow_serving/model_servers/get_model_status_impl.cc, tag 1.8.0). A listener that is
not TF Serving (a plain TCP server, an HTTP server, another gRPC service) cannot answer so.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from enum import Enum
from typing import Any

#: The name asked for when no model is configured; TF Serving answers NOT_FOUND for it.
PROBE_MODEL = "emlsetup-probe"
NOT_FOUND_PREFIX = "Could not find any versions of model"


class Verdict(str, Enum):
    SERVING = "serving"  # TF Serving answers, every configured model has a version AVAILABLE
    MODELS_NOT_READY = "models_not_ready"  # TF Serving answers, a model is not (yet) loaded
    NOT_SERVING = "not_serving"  # a listener that is not TF Serving
    NOTHING = "nothing"  # nobody listens


@dataclass(frozen=True)
class ServingAnswer:
    verdict: Verdict
    measured: str  # one sentence for the check table


def configured_models(text: str) -> list[str]:
    """The model names in a model_config_file (protobuf text format, ModelServerConfig):
    ``model_config_list: { config: { name: 'mnist', base_path: '...' } }``."""
    text = re.sub(r"#[^\n]*", "", text)
    found = re.findall(r"\bname\s*:\s*(?:\"([^\"]*)\"|'([^']*)')", text)
    return [double or single for double, single in found]


def _target(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listening(host: str, port: int, timeout: float) -> str | None:
    """None when something accepts a TCP connection, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except UnicodeError:  # a label of over 63 characters, or an empty one (IDNA, RFC 1035)
        return "not a valid host name"
    except OSError as exc:
        return exc.strerror or str(exc)


def _grpc() -> Any:
    # Before gRPC's first import: no log lines on the admin's terminal, and no fork
    # handlers (the wizard forks to run commands while gRPC's threads exist).
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    import grpc

    return grpc


def _first_bytes(host: str, port: int, timeout: float) -> bytes:
    """What the listener answers an HTTP/1.1 request with (b"" if nothing): an HTTP/1
    server says ``HTTP/1.x ...``, whatever it made of the gRPC call before."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(f"HEAD / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            return conn.recv(16)
    except OSError:
        return b""


def _not_serving(host: str, port: int, code_name: str, details: str) -> ServingAnswer:
    if code_name == "UNIMPLEMENTED":
        why = "a gRPC server without TensorFlow Serving's ModelService"
    else:
        said = _first_bytes(host, port, 1.0)
        if said.startswith(b"HTTP/1"):
            why = "it answers in HTTP/1, not gRPC"
        elif not said:
            why = "it accepts connections but does not speak gRPC"
        else:
            why = f"it does not speak gRPC: {details or code_name}"
    return ServingAnswer(
        Verdict.NOT_SERVING,
        f"what listens on {_target(host, port)} is not TensorFlow Serving ({why})",
    )


def ask(host: str, port: int, models: list[str], timeout: float = 3.0) -> ServingAnswer:
    """Ask the server on host:port for each model's status (the probe name if none)."""
    where = _target(host, port)
    refused = _listening(host, port, min(timeout, 1.5))
    if refused is not None:
        return ServingAnswer(Verdict.NOTHING, f"nothing listens on {where} ({refused})")
    grpc = _grpc()
    from checks import tf_serving_proto as pb

    # The serving host is this machine or the LAN: never through an HTTP proxy.
    channel = grpc.insecure_channel(where, options=[("grpc.enable_http_proxy", 0)])
    try:
        call = channel.unary_unary(
            pb.GET_MODEL_STATUS,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=pb.GetModelStatusResponse.FromString,
        )
        missing: list[str] = []
        for name in models or [PROBE_MODEL]:
            request = pb.GetModelStatusRequest(model_spec=pb.ModelSpec(name=name))
            try:
                response = call(request, timeout=timeout)
            except grpc.RpcError as exc:
                code, details = exc.code(), exc.details() or ""
                if code == grpc.StatusCode.NOT_FOUND and details.startswith(NOT_FOUND_PREFIX):
                    if models:
                        missing.append(f"{name}: no version loaded")
                    continue
                if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                    missing.append(f"{name}: {details}")
                    continue
                return _not_serving(host, port, code.name, details)
            states = {v.version: pb.state_name(v.state) for v in response.model_version_status}
            if "AVAILABLE" not in states.values():
                shown = ", ".join(f"version {k} {s}" for k, s in sorted(states.items()))
                missing.append(f"{name}: {shown or 'no version'}")
    finally:
        channel.close()
    if missing:
        return ServingAnswer(
            Verdict.MODELS_NOT_READY,
            f"TensorFlow Serving answers on {where}, but not every model is loaded ("
            + "; ".join(missing)
            + ")",
        )
    shown = ", ".join(models) if models else "no models configured"
    return ServingAnswer(Verdict.SERVING, f"TensorFlow Serving answers on {where} ({shown})")
