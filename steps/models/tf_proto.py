"""The SavedModel messages emlsetup reads, declared here (not generated) and parsed by
protobuf, as :mod:`checks.tf_serving_proto` declares TF Serving's.

Full names and field numbers are TensorFlow's (checked against the descriptors TensorFlow
2.21 compiles from them): ``tensorflow/core/protobuf/saved_model.proto`` (SavedModel),
``meta_graph.proto`` (MetaGraphDef, MetaInfoDef, SignatureDef, TensorInfo, SignatureDefMap
as TF Serving's ``get_model_metadata.proto`` wraps it), ``saver.proto`` (SaverDef),
``tensor_bundle.proto`` (BundleEntryProto) and ``tensorflow/core/framework/``
``{graph,node_def,attr_value,tensor,tensor_shape,function,op_def}.proto``; nested messages
(MetaInfoDef, Dim, ListValue, ArgDef) are declared at the top level, which the wire format
cannot tell. A DataType is
declared as its int32 number (the same varint on the wire); fields emlsetup never reads are
left out (protobuf keeps them as unknown fields). The files are proto3, so protobuf refuses
a string field that is not UTF-8: every malformed file is a ``DecodeError``, one sentence.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

__all__ = ["DecodeError", "message_class", "parse"]

_F = descriptor_pb2.FieldDescriptorProto
PACKAGE = "tensorflow"
_S = f".{PACKAGE}."
_OPT, _REP = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_STR, _BYTES, _I32, _I64, _BOOL, _MSG = (
    _F.TYPE_STRING,
    _F.TYPE_BYTES,
    _F.TYPE_INT32,
    _F.TYPE_INT64,
    _F.TYPE_BOOL,
    _F.TYPE_MESSAGE,
)

# (name, number, type, repeated, message type or "", oneof index or None); a map field is
# (name, number, "map", key type, value type or message name)
_Field = tuple[Any, ...]
_M: dict[str, tuple[list[_Field], list[str]]] = {
    "SavedModel": (
        [
            ("saved_model_schema_version", 1, _I64, False, ""),
            ("meta_graphs", 2, _MSG, True, "MetaGraphDef"),
        ],
        [],
    ),
    "MetaGraphDef": (
        [
            ("meta_info_def", 1, _MSG, False, "MetaInfoDef"),
            ("graph_def", 2, _MSG, False, "GraphDef"),
            ("saver_def", 3, _MSG, False, "SaverDef"),
            ("signature_def", 5, "map", _STR, "SignatureDef"),
            # SavedObjectGraph: written by tf.saved_model.save (TF2) only; its content is
            # not read, its presence tells a TF2 SavedModel.
            ("object_graph_def", 7, _MSG, False, "SavedObjectGraph"),
        ],
        [],
    ),
    "SavedObjectGraph": ([], []),
    "MetaInfoDef": (
        [
            ("meta_graph_version", 1, _STR, False, ""),
            ("tags", 4, _STR, True, ""),
            ("tensorflow_version", 5, _STR, False, ""),
            ("tensorflow_git_version", 6, _STR, False, ""),
        ],
        [],
    ),
    "SignatureDef": (
        [
            ("inputs", 1, "map", _STR, "TensorInfo"),
            ("outputs", 2, "map", _STR, "TensorInfo"),
            ("method_name", 3, _STR, False, ""),
        ],
        [],
    ),
    "SignatureDefMap": ([("signature_def", 1, "map", _STR, "SignatureDef")], []),
    "TensorInfo": (
        [
            ("name", 1, _STR, False, "", 0),
            ("dtype", 2, _I32, False, ""),
            ("tensor_shape", 3, _MSG, False, "TensorShapeProto"),
        ],
        ["encoding"],
    ),
    "TensorShapeProto": (
        [("dim", 2, _MSG, True, "Dim"), ("unknown_rank", 3, _BOOL, False, "")],
        [],
    ),
    "Dim": ([("size", 1, _I64, False, ""), ("name", 2, _STR, False, "")], []),
    "SaverDef": (
        [
            ("filename_tensor_name", 1, _STR, False, ""),
            ("save_tensor_name", 2, _STR, False, ""),
            ("restore_op_name", 3, _STR, False, ""),
        ],
        [],
    ),
    "GraphDef": (
        [("node", 1, _MSG, True, "NodeDef"), ("library", 2, _MSG, False, "FunctionDefLibrary")],
        [],
    ),
    "NodeDef": (
        [
            ("name", 1, _STR, False, ""),
            ("op", 2, _STR, False, ""),
            ("input", 3, _STR, True, ""),
            ("device", 4, _STR, False, ""),
            ("attr", 5, "map", _STR, "AttrValue"),
        ],
        [],
    ),
    "AttrValue": (
        [
            ("list", 1, _MSG, False, "ListValue", 0),
            ("s", 2, _BYTES, False, "", 0),
            ("i", 3, _I64, False, "", 0),
            ("f", 4, _F.TYPE_FLOAT, False, "", 0),
            ("b", 5, _BOOL, False, "", 0),
            ("type", 6, _I32, False, "", 0),
            ("shape", 7, _MSG, False, "TensorShapeProto", 0),
            ("tensor", 8, _MSG, False, "TensorProto", 0),
            ("placeholder", 9, _STR, False, "", 0),
            ("func", 10, _MSG, False, "NameAttrList", 0),
        ],
        ["value"],
    ),
    "ListValue": (
        [
            ("s", 2, _BYTES, True, ""),
            ("i", 3, _I64, True, ""),
            ("f", 4, _F.TYPE_FLOAT, True, ""),
            ("b", 5, _BOOL, True, ""),
            ("type", 6, _I32, True, ""),
            ("shape", 7, _MSG, True, "TensorShapeProto"),
            ("tensor", 8, _MSG, True, "TensorProto"),
        ],
        [],
    ),
    "NameAttrList": (
        [("name", 1, _STR, False, ""), ("attr", 2, "map", _STR, "AttrValue")],
        [],
    ),
    "TensorProto": (
        [
            ("dtype", 1, _I32, False, ""),
            ("tensor_shape", 2, _MSG, False, "TensorShapeProto"),
            ("version_number", 3, _I32, False, ""),
            ("tensor_content", 4, _BYTES, False, ""),
            ("float_val", 5, _F.TYPE_FLOAT, True, ""),
            ("double_val", 6, _F.TYPE_DOUBLE, True, ""),
            ("int_val", 7, _I32, True, ""),
            ("string_val", 8, _BYTES, True, ""),
            ("int64_val", 10, _I64, True, ""),
            ("bool_val", 11, _BOOL, True, ""),
        ],
        [],
    ),
    "FunctionDefLibrary": ([("function", 1, _MSG, True, "FunctionDef")], []),
    "FunctionDef": (
        [
            ("signature", 1, _MSG, False, "OpDef"),
            ("node_def", 3, _MSG, True, "NodeDef"),
            ("ret", 4, "map", _STR, _STR),
        ],
        [],
    ),
    "OpDef": (
        [
            ("name", 1, _STR, False, ""),
            ("input_arg", 2, _MSG, True, "ArgDef"),
            ("output_arg", 3, _MSG, True, "ArgDef"),
        ],
        [],
    ),
    "ArgDef": ([("name", 1, _STR, False, ""), ("type", 3, _I32, False, "")], []),
    "BundleEntryProto": (
        [
            ("dtype", 1, _I32, False, ""),
            ("shape", 2, _MSG, False, "TensorShapeProto"),
            ("shard_id", 3, _I32, False, ""),
            ("offset", 4, _I64, False, ""),
            ("size", 5, _I64, False, ""),
        ],
        [],
    ),
}


def _add_field(msg: Any, spec: _Field) -> None:
    name, number, kind = spec[0], spec[1], spec[2]
    if kind == "map":
        key, value = spec[3], spec[4]
        entry = msg.nested_type.add(name="".join(p.title() for p in name.split("_")) + "Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=key, label=_OPT)
        value_field = entry.field.add(name="value", number=2, label=_OPT)
        if isinstance(value, str):
            value_field.type, value_field.type_name = _MSG, _S + value
        else:
            value_field.type = value
        msg.field.add(
            name=name, number=number, type=_MSG, label=_REP,
            type_name=f"{_S}{msg.name}.{entry.name}",
        )  # fmt: skip
        return
    field = msg.field.add(name=name, number=number, type=kind, label=_REP if spec[3] else _OPT)
    if spec[4]:
        field.type_name = _S + spec[4]
    if len(spec) > 5:
        field.oneof_index = spec[5]
    if kind in (_F.TYPE_FLOAT, _F.TYPE_DOUBLE, _I32, _I64, _BOOL) and spec[3]:
        field.options.packed = True  # proto3's default for repeated scalars


def _build() -> dict[str, Any]:
    f = descriptor_pb2.FileDescriptorProto(name="emlsetup/tensorflow_savedmodel.proto")
    f.package, f.syntax = PACKAGE, "proto3"
    for name, (fields, oneofs) in _M.items():
        msg = f.message_type.add(name=name)
        for oneof in oneofs:
            msg.oneof_decl.add(name=oneof)
        for spec in fields:
            _add_field(msg, spec)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return {
        n: message_factory.GetMessageClass(pool.FindMessageTypeByName(PACKAGE + "." + n))
        for n in _M
    }


_CLASSES = _build()


def message_class(name: str) -> Any:
    """A message class by its short name (``SavedModel``)."""
    return _CLASSES[name]


def parse(name: str, data: bytes) -> Any:
    """``data`` as message ``name``; :class:`DecodeError` when it is not one."""
    message = _CLASSES[name]()
    message.ParseFromString(data)
    return message
