"""A TensorFlow SavedModel on disk: is it one, and what are its signatures.

Layout (https://www.tensorflow.org/guide/saved_model, "The SavedModel format on disk"):
``saved_model.pb`` (or ``saved_model.pbtxt``) and a ``variables/`` folder; TensorFlow
Serving loads a model from ``{base_path}/{version}/`` with a numeric version folder
(https://www.tensorflow.org/tfx/serving/serving_config). Messages read here, from
tensorflow/core/protobuf/{saved_model,meta_graph}.proto and tensor_shape.proto:
SavedModel {2: repeated MetaGraphDef}; MetaGraphDef {1: MetaInfoDef {4: repeated tags},
5: map<string, SignatureDef>}; SignatureDef {1: inputs, 2: outputs (map<string,
TensorInfo>), 3: method_name}; TensorInfo {1: name, 2: dtype, 3: TensorShapeProto {2:
repeated Dim {1: size}, 3: unknown_rank}}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from steps.models import protowire as pw

SERVE_TAG = "serve"
DEFAULT_SIGNATURE = "serving_default"

# tensorflow/core/framework/types.proto
DTYPES = {
    1: "DT_FLOAT",
    2: "DT_DOUBLE",
    3: "DT_INT32",
    4: "DT_UINT8",
    5: "DT_INT16",
    6: "DT_INT8",
    7: "DT_STRING",
    8: "DT_COMPLEX64",
    9: "DT_INT64",
    10: "DT_BOOL",
    14: "DT_BFLOAT16",
    17: "DT_UINT16",
    18: "DT_COMPLEX128",
    19: "DT_HALF",
    22: "DT_UINT32",
    23: "DT_UINT64",
}


class SavedModelError(ValueError):
    """One sentence: what is wrong with the folder, and what to give instead."""


@dataclass(frozen=True)
class Tensor:
    alias: str  # the signature's key ("x"), what Predict requests use
    dtype: str  # "DT_FLOAT"
    shape: tuple[int, ...] | None  # -1 for an unknown dimension; None for unknown rank

    @property
    def shape_text(self) -> str:
        return "unknown rank" if self.shape is None else f"[{', '.join(map(str, self.shape))}]"


@dataclass(frozen=True)
class Signature:
    name: str
    method: str
    inputs: tuple[Tensor, ...] = field(default_factory=tuple)
    outputs: tuple[Tensor, ...] = field(default_factory=tuple)


def layout_problem(folder: Path) -> str | None:
    """None when ``folder`` looks like a SavedModel, else the sentence saying what is missing."""
    if not folder.exists():
        return f"{folder} does not exist; give the folder that holds saved_model.pb"
    if not folder.is_dir():
        return f"{folder} is a file; give the folder that holds saved_model.pb and variables/"
    has_pb = (folder / "saved_model.pb").is_file()
    if not has_pb and (folder / "saved_model.pbtxt").is_file():
        return (
            f"{folder} has saved_model.pbtxt (text format), which emlsetup does not read; "
            "export the model in binary (saved_model.pb)"
        )
    versions = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    if not has_pb:
        if versions:
            return (
                f"{folder} holds version folders ({', '.join(versions)}), not a SavedModel; "
                f"give one of them, e.g. {folder / versions[-1]}"
            )
        return (
            f"{folder} has no saved_model.pb: it is not a TensorFlow SavedModel (export one "
            "with tf.saved_model.save or SavedModelBuilder)"
        )
    if not (folder / "variables").is_dir():
        return (
            f"{folder} has saved_model.pb but no variables/ folder: copy the whole export "
            "folder, variables/ included"
        )
    return None


def read_signatures(folder: Path) -> dict[str, Signature]:
    """The signatures of the ``serve`` meta graph of ``folder/saved_model.pb``."""
    pb = folder / "saved_model.pb"
    try:
        data = pb.read_bytes()
    except OSError as exc:
        raise SavedModelError(f"{pb}: cannot read it ({exc.strerror})") from None
    try:
        return parse_signatures(data)
    except pw.WireError as exc:
        raise SavedModelError(f"{pb} is not a SavedModel protocol buffer ({exc})") from None


def parse_signatures(data: bytes) -> dict[str, Signature]:
    graphs = pw.messages(data, 2)
    if not graphs:
        raise SavedModelError("the SavedModel has no meta graph")
    chosen = next((g for g in graphs if SERVE_TAG in _tags(g)), None)
    if chosen is None:
        raise SavedModelError(
            f"the SavedModel has no meta graph tagged '{SERVE_TAG}', which TensorFlow Serving "
            "loads; export it with tags=['serve']"
        )
    return _signatures(chosen, 5)


def parse_signature_map(data: bytes) -> dict[str, Signature]:
    """A SignatureDefMap {1: map<string, SignatureDef>}, as GetModelMetadata sends it."""
    return _signatures(data, 1)


def signature_map_bytes(data: bytes) -> bytes:
    """The serve graph's signatures of a saved_model.pb as a SignatureDefMap message: the
    map entries are the same bytes, field 5 of MetaGraphDef becomes field 1."""
    graphs = [g for g in pw.messages(data, 2) if SERVE_TAG in _tags(g)]
    out = b""
    for entry in pw.messages(graphs[0], 5) if graphs else []:
        out += b"\x0a" + _varint(len(entry)) + entry
    return out


def _varint(n: int) -> bytes:
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        out += bytes([low | (0x80 if n else 0)])
        if not n:
            return out


def _signatures(message: bytes, number: int) -> dict[str, Signature]:
    out = {}
    for name, sig in pw.string_map(message, number).items():
        out[name] = Signature(
            name=name,
            method=pw.text(sig, 3),
            inputs=_tensors(sig, 1),
            outputs=_tensors(sig, 2),
        )
    return out


def _tags(meta_graph: bytes) -> list[str]:
    info = (pw.messages(meta_graph, 1) or [b""])[-1]
    return [t.decode() for t in pw.messages(info, 4)]


def _tensors(signature: bytes, number: int) -> tuple[Tensor, ...]:
    return tuple(
        _tensor(alias, info) for alias, info in sorted(pw.string_map(signature, number).items())
    )


def _tensor(alias: str, info: bytes) -> Tensor:
    code = pw.scalar(info, 2)
    shapes = pw.messages(info, 3)
    shape: tuple[int, ...] | None
    if not shapes or pw.scalar(shapes[-1], 3):
        shape = None
    else:
        shape = tuple(pw.signed64(pw.scalar(d, 1)) for d in pw.messages(shapes[-1], 2))
    return Tensor(alias, DTYPES.get(code, f"DT_{code}"), shape)
