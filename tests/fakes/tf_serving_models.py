"""More of TensorFlow Serving for the stand-in (tf_serving_grpc.StandIn): Predict,
GetModelMetadata and HandleReloadConfigRequest, computed from the model's own files.

As TF Serving 1.8.0 does (tensorflow_serving/servables/tensorflow/predict_impl.cc,
get_model_metadata_impl.cc, model_servers/model_service_impl.cc):
- a model spec without a version means the latest version; an unknown model is NOT_FOUND
  "Servable not found for request: Latest(NAME)"; a signature it lacks is INVALID_ARGUMENT
  "Serving signature key "S" not found."; an input alias the signature lacks is
  INVALID_ARGUMENT;
- GetModelMetadata needs metadata_field ["signature_def"] (else INVALID_ARGUMENT
  "Metadata field signature_def is missing") and answers a SignatureDefMap packed in a
  google.protobuf.Any (type.googleapis.com/tensorflow.serving.SignatureDefMap);
- HandleReloadConfigRequest replaces the served list with the config's models
  (FAKE_TF_NO_RELOAD=1: a server without it, whose answer is gRPC's UNIMPLEMENTED).

Predict really evaluates the saved graph (steps/models/savedmodel.py reads it): the
variables' values come from the variables/ checkpoint (a "tensor bundle": a LevelDB-format
table, tensorflow/core/util/tensor_bundle/tensor_bundle.proto BundleEntryProto {1: dtype,
2: shape, 3: shard_id, 4: offset, 5: size}); the ops a small SavedModel uses (Placeholder,
PlaceholderWithDefault, Const, VariableV2/VarHandleOp, Identity, ReadVariableOp, Add,
AddV2, Mul, Sub) are computed in float32 arithmetic; any other op is an error naming it.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import grpc
from fakelib import local

from checks import tf_serving_proto as pb
from steps.models import protowire as pw
from steps.models.savedmodel import SERVE_TAG, parse_signatures, signature_map_bytes

SIGNATURE_MAP_URL = "type.googleapis.com/tensorflow.serving.SignatureDefMap"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = data[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, pos
        shift += 7


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """A LevelDB table block: prefix-compressed entries, then the restart array."""
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * restarts
    out, pos, key = [], 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        size, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        out.append((key, block[pos : pos + size]))
        pos += size
    return out


def read_checkpoint(variables: Path) -> dict[str, list[float]]:
    """{variable name: float32 values} of variables/variables.{index,data-00000-of-00001}."""
    index = (variables / "variables.index").read_bytes()
    footer = index[-48:]
    _, p = _varint(footer, 0)
    _, p = _varint(footer, p)  # the metaindex handle
    idx_off, p = _varint(footer, p)
    idx_size, p = _varint(footer, p)
    values: dict[str, list[float]] = {}
    shards: dict[int, bytes] = {}
    for _, handle in _block_entries(index[idx_off : idx_off + idx_size]):
        off, q = _varint(handle, 0)
        size, _ = _varint(handle, q)
        for key, entry in _block_entries(index[off : off + size]):
            if not key:  # the header entry
                continue
            if pw.scalar(entry, 1) != 1:  # only DT_FLOAT variables here
                continue
            shard = pw.scalar(entry, 3)
            if shard not in shards:
                shards[shard] = next(
                    variables.glob(f"variables.data-{shard:05d}-of-*")
                ).read_bytes()
            start, length = pw.scalar(entry, 4), pw.scalar(entry, 5)
            raw = shards[shard][start : start + length]
            values[key.decode()] = list(struct.unpack(f"<{length // 4}f", raw))
    return values


class Graph:
    """The serve graph of one SavedModel version, evaluated for float tensors."""

    def __init__(self, folder: Path) -> None:
        data = (folder / "saved_model.pb").read_bytes()
        graph = next(
            g
            for g in pw.messages(data, 2)
            if SERVE_TAG in [t.decode() for t in pw.messages(pw.messages(g, 1)[-1], 4)]
        )
        self.meta = graph
        self.signatures = parse_signatures(data)
        self.signature_map = signature_map_bytes(data)
        graph_def = pw.messages(graph, 2)[-1]
        self.nodes = {pw.text(n, 1): n for n in pw.messages(graph_def, 1)}
        self.variables = read_checkpoint(folder / "variables")

    def tensor_names(self, signature: str, which: int) -> dict[str, str]:
        """{alias: graph tensor name} of a signature's inputs (1) or outputs (2)."""
        sig = pw.string_map(self.meta, 5)[signature]
        return {alias: pw.text(info, 1) for alias, info in pw.string_map(sig, which).items()}

    def run(self, feeds: dict[str, list[float]], name: str) -> list[float]:
        node_name = name.split(":")[0].lstrip("^")
        if node_name in feeds:
            return feeds[node_name]
        node = self.nodes[node_name]
        op = pw.text(node, 2)
        inputs = [i.decode() for i in pw.messages(node, 3) if not i.startswith(b"^")]
        if op in ("VariableV2", "VarHandleOp"):
            return self.variables[node_name]
        if op == "Const":
            value = pw.string_map(node, 5)["value"]
            tensor = pw.messages(value, 8)[-1]
            content = (pw.messages(tensor, 4) or [b""])[-1]
            if content:
                return list(struct.unpack(f"<{len(content) // 4}f", content))
            packed = (pw.messages(tensor, 5) or [b""])[-1]
            return list(struct.unpack(f"<{len(packed) // 4}f", packed))
        if op in ("Identity", "ReadVariableOp", "PlaceholderWithDefault"):
            return self.run(feeds, inputs[0])
        if op in ("Add", "AddV2", "Mul", "Sub"):
            a, b = (self.run(feeds, i) for i in inputs[:2])
            n = max(len(a), len(b))
            a, b = (v * n if len(v) == 1 else v for v in (a, b))
            fn = {"Mul": lambda x, y: x * y, "Sub": lambda x, y: x - y}.get(op, lambda x, y: x + y)
            return [_f32(fn(x, y)) for x, y in zip(a, b, strict=True)]
        raise ValueError(f"the stand-in cannot evaluate op {op} ({node_name})")


def _f32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def methods(stand_in: Any) -> dict[str, tuple[Any, Any, Any]]:
    graphs: dict[str, Graph] = {}

    def graph_of(spec: Any, context: grpc.ServicerContext) -> Graph:
        versions = stand_in.models.get(spec.name, {})
        wanted = spec.version.value if spec.HasField("version") else max(versions, default=None)
        if wanted not in versions:
            label = (
                f"Specific({spec.name}, {wanted})"
                if spec.HasField("version")
                else (f"Latest({spec.name})")
            )
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {label}")
        path = versions[wanted]
        if path not in graphs:
            graphs[path] = Graph(local(path))
        return graphs[path]

    def predict(request: Any, context: grpc.ServicerContext) -> Any:
        graph = graph_of(request.model_spec, context)
        signature = request.model_spec.signature_name or "serving_default"
        if signature not in graph.signatures:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f'Serving signature key "{signature}" not found.',
            )
        names = graph.tensor_names(signature, 1)
        feeds: dict[str, list[float]] = {}
        for entry in request.inputs:
            if entry.key not in names:
                context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"input tensor alias not found in signature: {entry.key}",
                )
            feeds[names[entry.key].split(":")[0]] = [float(v) for v in entry.value.float_val]
        response = pb.message_class("PredictResponse")()
        response.model_spec.CopyFrom(request.model_spec)
        for alias, tensor_name in sorted(graph.tensor_names(signature, 2).items()):
            try:
                values = graph.run(feeds, tensor_name)
            except (KeyError, ValueError) as exc:
                context.abort(grpc.StatusCode.INTERNAL, str(exc))
            out = response.outputs.add(key=alias).value
            out.dtype = 1  # DT_FLOAT
            out.tensor_shape.dim.add(size=len(values))
            out.tensor_shape.dim.add(size=1)
            out.float_val.extend(values)
        return response

    def metadata(request: Any, context: grpc.ServicerContext) -> Any:
        if list(request.metadata_field) != ["signature_def"]:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "Metadata field signature_def is missing"
            )
        graph = graph_of(request.model_spec, context)
        response = pb.message_class("GetModelMetadataResponse")()
        response.model_spec.CopyFrom(request.model_spec)
        entry = response.metadata.add(key="signature_def")
        entry.value.type_url = SIGNATURE_MAP_URL
        entry.value.value = graph.signature_map
        return response

    def reload(request: Any, context: grpc.ServicerContext) -> Any:
        from tf_serving_grpc import versions_under

        new = {}
        for config in request.config.model_config_list.config:
            new[config.name] = {
                v: f"{config.base_path}/{v}" for v in versions_under(config.base_path)
            }
        stand_in.models.clear()
        stand_in.models.update(new)
        response = pb.message_class("ReloadConfigResponse")()
        response.status.error_code = pb.ERROR_CODES["OK"]
        return response

    cls = pb.message_class
    if os.environ.get("FAKE_TF_NO_RELOAD") == "1":  # a server without it: UNIMPLEMENTED
        return {
            pb.PREDICT: (cls("PredictRequest"), cls("PredictResponse"), predict),
            pb.GET_MODEL_METADATA: (
                cls("GetModelMetadataRequest"),
                cls("GetModelMetadataResponse"),
                metadata,
            ),
        }
    return {
        pb.PREDICT: (cls("PredictRequest"), cls("PredictResponse"), predict),
        pb.GET_MODEL_METADATA: (
            cls("GetModelMetadataRequest"),
            cls("GetModelMetadataResponse"),
            metadata,
        ),
        pb.HANDLE_RELOAD_CONFIG: (cls("ReloadConfigRequest"), cls("ReloadConfigResponse"), reload),
    }
