"""Step 6's "TensorFlow Serving runs" check asks over gRPC, not with a TCP connect.

Against the stand-in tensorflow_model_server (tests/fakes/tf_serving_grpc.py: real gRPC,
GetModelStatus answered as tensorflow/serving 1.8.0's get_model_status_impl.cc does), a
plain TCP listener and an HTTP/1 server; and through the real CLI in a sandbox.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from checks import tf_serving_proto as pb
from checks.evaluate import CheckContext, ProbeResult, evaluate
from checks.host import Host
from checks.result import CheckResult, Status
from checks.spec import TfServingAnswers
from checks.tf_serving import configured_models
from tests.fakes.fakelib import install_tool
from tests.sandbox import Sandbox

NOT_TF_SERVING = "is not TensorFlow Serving"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StandIn:
    def __init__(self, root: Path, port: int, proc: subprocess.Popen[str]) -> None:
        self.root, self.port, self.proc = root, port, proc


def start_stand_in(tmp_path: Path, config: str | None = None) -> StandIn:
    root = tmp_path / "root"
    (root / "export").mkdir(parents=True, exist_ok=True)
    argv = [str(install_tool(tmp_path / "bin", "tensorflow_model_server"))]
    port = free_port()
    argv.append(f"--port={port}")
    if config is not None:
        (root / "export/config.cnf").write_text(config)
        argv.append("--model_config_file=/export/config.cnf")
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"EMLSETUP_ROOT": str(root), "PATH": "/usr/bin:/bin"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the server's own word that it listens
    assert line.startswith("Running gRPC ModelServer at"), (line, proc.stderr)
    return StandIn(root, port, proc)


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[StandIn]:
    server = start_stand_in(tmp_path)
    yield server
    server.proc.kill()
    server.proc.wait()


@pytest.fixture
def plain_listener() -> Iterator[int]:
    """Something else on the port: the kernel accepts connections, nothing answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


@pytest.fixture
def http_listener() -> Iterator[int]:
    """An HTTP/1 server on the port (TF Serving's REST port, a web server...)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def no_probe(argv: list[str], run_as: str) -> ProbeResult:
    raise AssertionError("the gRPC check runs no command")


def check(port: int, root: Path = Path("/"), config: str = "", timeout: float = 3.0) -> CheckResult:
    spec = TfServingAnswers(
        name="TensorFlow Serving answers",
        host="127.0.0.1",
        port=port,
        config_file=config,
        timeout_s=timeout,
        fix="start it: tensorflow_model_server --port=8500",
    )
    return evaluate(spec, CheckContext(host=Host(root=root), probe=no_probe))


def status(port: int, name: str, version: int | None = None) -> tuple[grpc.StatusCode, str, str]:
    """GetModelStatus through grpcio with our messages: (code, details, response text)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(
            pb.GET_MODEL_STATUS,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=pb.GetModelStatusResponse.FromString,
        )
        spec = pb.ModelSpec(name=name)
        if version is not None:
            spec.version.value = version
        try:
            response = call(pb.GetModelStatusRequest(model_spec=spec), timeout=5)
        except grpc.RpcError as exc:
            return exc.code(), exc.details(), ""
        return grpc.StatusCode.OK, "", str(response)


# -- the messages we carry ------------------------------------------------------------------
def test_messages_are_upstream_wire_format() -> None:
    """Field numbers of tensorflow_serving/apis/model.proto and get_model_status.proto."""
    spec = pb.ModelSpec(name="mnist")
    spec.version.value = 3  # google.protobuf.Int64Value, field 2
    request = pb.GetModelStatusRequest(model_spec=spec)
    assert request.SerializeToString() == bytes.fromhex("0a0b0a05") + b"mnist" + bytes.fromhex(
        "12020803"
    )
    response = pb.GetModelStatusResponse()
    response.model_version_status.add(version=1, state=30).status.error_message = "x"
    # field 1 (repeated), version 1 = 1, state 2 = 30 (AVAILABLE), status 3 {error_message 2}
    assert response.SerializeToString() == bytes.fromhex("0a090801101e1a031201") + b"x"
    assert (
        pb.GetModelStatusRequest.DESCRIPTOR.full_name == "tensorflow.serving.GetModelStatusRequest"
    )
    assert pb.GET_MODEL_STATUS == "/tensorflow.serving.ModelService/GetModelStatus"


def test_model_names_are_read_from_the_model_config_file() -> None:
    text = """model_config_list: {
  config: { name: 'mnist', base_path: '/home/tmsadm/export/mnist', model_platform: "tensorflow" }
  # config: { name: 'old' }
  config { name: "iris" base_path: "/m/iris" }
}"""
    assert configured_models(text) == ["mnist", "iris"]
    assert configured_models("model_config_list: {\n}\n") == []


# -- the stand-in answers as TF Serving does -------------------------------------------------
def test_stand_in_answers_unknown_models_not_found_like_tf_serving(stand_in: StandIn) -> None:
    """get_model_status_impl.cc: NOT_FOUND "Could not find any versions of model NAME"."""
    assert status(stand_in.port, "mnist") == (
        grpc.StatusCode.NOT_FOUND,
        "Could not find any versions of model mnist",
        "",
    )
    assert status(stand_in.port, "mnist", 2) == (
        grpc.StatusCode.NOT_FOUND,
        "Could not find version 2 of model mnist",
        "",
    )


def test_stand_in_serves_the_highest_version_only(tmp_path: Path) -> None:
    """ServableVersionPolicy's default, latest with num_versions 1: version 1 is never
    loaded while version 3 is there (file_system_storage_path_source.proto)."""
    (tmp_path / "root/models/mnist/1").mkdir(parents=True)
    (tmp_path / "root/models/mnist/3").mkdir()
    server = start_stand_in(
        tmp_path,
        "model_config_list: {\n config: { name: 'mnist', base_path: '/models/mnist' }\n}\n",
    )
    try:
        code, _, text = status(server.port, "mnist")
        assert code == grpc.StatusCode.OK
        assert text.count("state: AVAILABLE") == 1 and "version: 3" in text
        assert status(server.port, "mnist", 1)[:2] == (
            grpc.StatusCode.NOT_FOUND,
            "Could not find version 1 of model mnist",
        )
        result = check(server.port, server.root, "/export/config.cnf")
        assert result.status == Status.OK, result
        assert "(mnist)" in result.measured
    finally:
        server.proc.kill()
        server.proc.wait()


def test_stand_in_refuses_a_missing_config_file(tmp_path: Path) -> None:
    exe = install_tool(tmp_path / "bin", "tensorflow_model_server")
    done = subprocess.run(
        [str(exe), f"--port={free_port()}", "--model_config_file=/nope/config.cnf"],
        capture_output=True, text=True, env={"EMLSETUP_ROOT": str(tmp_path), "PATH": "/bin"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "Failed to start server. Error: Not found: /nope/config.cnf" in done.stderr


# -- the check -------------------------------------------------------------------------------
def test_check_passes_against_tf_serving_with_no_model_configured(stand_in: StandIn) -> None:
    result = check(stand_in.port)
    assert result.status == Status.OK, result
    assert result.measured == (
        f"TensorFlow Serving answers on 127.0.0.1:{stand_in.port} (no models configured)"
    )


def test_check_fails_against_a_plain_tcp_listener(plain_listener: int) -> None:
    result = check(plain_listener, timeout=1.0)
    assert result.status == Status.FAIL
    assert result.measured == (
        f"what listens on 127.0.0.1:{plain_listener} {NOT_TF_SERVING} "
        "(it accepts connections but does not speak gRPC)"
    )
    assert result.fix.startswith(f"another program holds port {plain_listener}: stop it")
    assert result.fix.endswith("start it: tensorflow_model_server --port=8500")


def test_check_fails_against_an_http_server(http_listener: int) -> None:
    result = check(http_listener)
    assert result.status == Status.FAIL
    assert result.measured == (
        f"what listens on 127.0.0.1:{http_listener} {NOT_TF_SERVING} "
        "(it answers in HTTP/1, not gRPC)"
    )


def test_check_fails_when_nothing_listens() -> None:
    port = free_port()
    result = check(port)
    assert result.status == Status.FAIL
    assert result.measured.startswith(f"nothing listens on 127.0.0.1:{port}")
    assert result.fix == "start it: tensorflow_model_server --port=8500"


# -- through the CLI -------------------------------------------------------------------------
def test_cli_check_step_6_names_a_listener_that_is_not_tf_serving(sandbox: Sandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", sandbox.port))
        s.listen(8)
        done = sandbox.run_cli("check", "--step", "6")
    assert done.returncode != 0
    line = next(x for x in done.stdout.splitlines() if "TensorFlow Serving answers" in x)
    assert "✘ fail" in line and NOT_TF_SERVING in line, done.stdout
    assert f"another program holds port {sandbox.port}: stop it" in done.stdout


def test_step_6_with_a_plain_listener_on_the_port_is_not_already_done(sandbox: Sandbox) -> None:
    for step in ("2", "3", "4", "5"):
        done = sandbox.run_cli("run", "--yes", "--only-step", step)
        assert done.returncode == 0, done.stdout + done.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", sandbox.port))
        s.listen(8)
        done = sandbox.run_cli("run", "--yes", "--only-step", "6")
    assert done.returncode != 0
    state = json.loads((sandbox.state_dir / "state.json").read_text())
    step6 = next(x for x in state["steps"] if x["number"] == 6)
    start = next(a for a in step6["actions"] if a["id"] == "start-server")
    assert start["status"] == "failed"
    # The wizard did try to start it: TF Serving itself says the port is taken.
    assert len(sandbox.calls("tensorflow_model_server")) == 1
    assert "Could not bind to port" in done.stdout + done.stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
