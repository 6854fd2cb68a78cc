"""A TensorFlow SavedModel on disk: is it one, and what are its signatures.

Layout (https://www.tensorflow.org/guide/saved_model, "The SavedModel format on disk"):
``saved_model.pb`` (or ``saved_model.pbtxt``) and a ``variables/`` folder; TensorFlow
Serving loads a model from ``{base_path}/{version}/`` with a numeric version folder
(https://www.tensorflow.org/tfx/serving/serving_config). The file is a SavedModel message
(:mod:`steps.models.tf_proto`, parsed by protobuf): the ``serve`` meta graph's signatures,
its MetaInfoDef's ``tensorflow_version``, and whether ``tf.saved_model.save`` wrote it (a
TF2 SavedModel has an ``object_graph_def``; TF1's SavedModelBuilder writes none).

TF2 adds the signature ``__saved_model_init_op`` (tensorflow/python/saved_model/
signature_constants.py, INIT_OP_SIGNATURE_KEY): it runs the model's initialisers, no
inputs, not a callable signature, so it is not one here. Tensors are listed by alias in
byte order: SAP's Iris tutorial (sap-tutorials mlb-hxe-tensorflow-iris, step 6) notes that
TF Serving gives the signature "using the alphabetical order from the tensor names", and
EML's table parameters follow that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steps.models import tf_proto as tp

SERVE_TAG = "serve"
DEFAULT_SIGNATURE = "serving_default"
INIT_OP_SIGNATURE = "__saved_model_init_op"

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
    20: "DT_RESOURCE",
    21: "DT_VARIANT",
    22: "DT_UINT32",
    23: "DT_UINT64",
}
DTYPE_NUMBERS = {v: k for k, v in DTYPES.items()}


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


@dataclass(frozen=True)
class SavedModelInfo:
    signatures: dict[str, Signature]
    tensorflow_version: str  # MetaInfoDef.tensorflow_version, "" when the file has none
    tf2: bool  # written by tf.saved_model.save (an object graph, functions)


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
    if not (folder / "variables").is_dir() and _restores_variables(folder / "saved_model.pb"):
        return (
            f"{folder} has saved_model.pb but no variables/ folder: copy the whole export "
            "folder, variables/ included"
        )
    return None


def _restores_variables(pb: Path) -> bool:
    """Whether TF Serving's loader would restore variables for this model: its serve graph
    names a restore op (SaverDef.restore_op_name). A graph without variables has none, and
    its variables/ folder is empty (SavedModelBuilder) or gone (git keeps no empty folder):
    the loader then restores nothing and serves it (tensorflow/cc/saved_model/loader.cc,
    RunRestore). A file protobuf cannot read is read_savedmodel's to say."""
    try:
        graph = serve_graph(tp.parse("SavedModel", pb.read_bytes()))
    except (OSError, tp.DecodeError, SavedModelError):
        return False
    return bool(graph.saver_def.restore_op_name)


def read_savedmodel(folder: Path) -> SavedModelInfo:
    """What ``folder/saved_model.pb`` says of its ``serve`` meta graph."""
    pb = folder / "saved_model.pb"
    try:
        data = pb.read_bytes()
    except OSError as exc:
        raise SavedModelError(f"{pb}: cannot read it ({exc.strerror})") from None
    try:
        return parse_savedmodel(data)
    except tp.DecodeError:
        raise SavedModelError(
            f"{pb} is not a SavedModel protocol buffer (protobuf cannot parse it): export "
            "the model again, or copy the file again if it was cut short"
        ) from None


def read_signatures(folder: Path) -> dict[str, Signature]:
    return read_savedmodel(folder).signatures


def serve_graph(saved_model: Any) -> Any:
    """The ``serve`` MetaGraphDef of a parsed SavedModel message."""
    if not saved_model.meta_graphs:
        raise SavedModelError("the SavedModel has no meta graph")
    chosen = next((g for g in saved_model.meta_graphs if SERVE_TAG in g.meta_info_def.tags), None)
    if chosen is None:
        raise SavedModelError(
            f"the SavedModel has no meta graph tagged '{SERVE_TAG}', which TensorFlow Serving "
            "loads; export it with tags=['serve']"
        )
    return chosen


def parse_savedmodel(data: bytes) -> SavedModelInfo:
    graph = serve_graph(tp.parse("SavedModel", data))
    return SavedModelInfo(
        signatures=signatures_of(graph.signature_def),
        tensorflow_version=graph.meta_info_def.tensorflow_version,
        tf2=graph.HasField("object_graph_def"),
    )


def parse_signatures(data: bytes) -> dict[str, Signature]:
    return parse_savedmodel(data).signatures


def parse_signature_map(data: bytes) -> dict[str, Signature]:
    """A SignatureDefMap, as GetModelMetadata sends it; DecodeError when it is not one."""
    return signatures_of(tp.parse("SignatureDefMap", data).signature_def)


def signatures_of(signature_defs: Any) -> dict[str, Signature]:
    return {
        name: Signature(
            name=name,
            method=sig.method_name,
            inputs=_tensors(sig.inputs),
            outputs=_tensors(sig.outputs),
        )
        for name, sig in sorted(signature_defs.items())
        if name != INIT_OP_SIGNATURE
    }


def _tensors(infos: Any) -> tuple[Tensor, ...]:
    return tuple(_tensor(alias, infos[alias]) for alias in sorted(infos, key=str.encode))


def _tensor(alias: str, info: Any) -> Tensor:
    shape: tuple[int, ...] | None
    if not info.HasField("tensor_shape") or info.tensor_shape.unknown_rank:
        shape = None
    else:
        shape = tuple(d.size for d in info.tensor_shape.dim)
    return Tensor(alias, DTYPES.get(info.dtype, f"DT_{info.dtype}"), shape)
