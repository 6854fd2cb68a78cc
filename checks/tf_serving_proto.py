"""The few TensorFlow Serving messages the wizard speaks, defined here (not generated).

Written for emlsetup from the field tables of tensorflow/serving at tag 1.8.0 (the tag the
wizard builds; unchanged in later releases except for additions):
``tensorflow_serving/apis/model.proto`` (ModelSpec),
``tensorflow_serving/apis/get_model_status.proto`` (GetModelStatusRequest / Response,
ModelVersionStatus and its State enum), ``tensorflow_serving/util/status.proto``
(StatusProto), ``tensorflow/core/lib/core/error_codes.proto`` (tensorflow.error.Code) and
``tensorflow_serving/apis/model_service.proto`` (the ModelService methods). Full names and
field numbers are upstream's, so these messages are wire-compatible with a real
``tensorflow_model_server``; nothing of upstream's files is copied.

The messages are built at import time from ``descriptor_pb2`` into a private descriptor
pool: no generated ``*_pb2`` module (whose protobuf version checks break across protobuf
releases) and no clash with an installed ``tensorflow-serving-api``. To speak more of TF
Serving (GetModelMetadata, Predict, HandleReloadConfigRequest for a "model add"), add its
messages to ``_MESSAGES`` and its method to ``METHODS``.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, wrappers_pb2

_F = descriptor_pb2.FieldDescriptorProto
_FILE = "emlsetup/tensorflow_serving_subset.proto"
_ERROR_FILE = "emlsetup/tensorflow_error_codes.proto"
PACKAGE = "tensorflow.serving"

#: tensorflow.error.Code (the same numbers as gRPC's status codes).
ERROR_CODES = {
    "OK": 0,
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}

#: ModelVersionStatus.State (ManagerState in tensorflow_serving/core/servable_state.h).
VERSION_STATES = {
    "UNKNOWN": 0,
    "START": 10,
    "LOADING": 20,
    "AVAILABLE": 30,
    "UNLOADING": 40,
    "END": 50,
}

# (name, number, type, label, type_name or "", oneof index or None)
_Field = tuple[str, int, int, int, str, int | None]
_OPT, _REP = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED

#: message name -> (fields, nested enums {name: values}, oneofs)
_MESSAGES: dict[str, tuple[list[_Field], dict[str, dict[str, int]], list[str]]] = {
    "ModelSpec": (
        [
            ("name", 1, _F.TYPE_STRING, _OPT, "", None),
            ("version", 2, _F.TYPE_MESSAGE, _OPT, ".google.protobuf.Int64Value", 0),
            ("signature_name", 3, _F.TYPE_STRING, _OPT, "", None),
            ("version_label", 4, _F.TYPE_STRING, _OPT, "", 0),
        ],
        {},
        ["version_choice"],
    ),
    "StatusProto": (
        [
            ("error_code", 1, _F.TYPE_ENUM, _OPT, ".tensorflow.error.Code", None),
            ("error_message", 2, _F.TYPE_STRING, _OPT, "", None),
        ],
        {},
        [],
    ),
    "GetModelStatusRequest": (
        [("model_spec", 1, _F.TYPE_MESSAGE, _OPT, f".{PACKAGE}.ModelSpec", None)],
        {},
        [],
    ),
    "ModelVersionStatus": (
        [
            ("version", 1, _F.TYPE_INT64, _OPT, "", None),
            ("state", 2, _F.TYPE_ENUM, _OPT, f".{PACKAGE}.ModelVersionStatus.State", None),
            ("status", 3, _F.TYPE_MESSAGE, _OPT, f".{PACKAGE}.StatusProto", None),
        ],
        {"State": VERSION_STATES},
        [],
    ),
    "GetModelStatusResponse": (
        [
            (
                "model_version_status",
                1,
                _F.TYPE_MESSAGE,
                _REP,
                f".{PACKAGE}.ModelVersionStatus",
                None,
            )
        ],
        {},
        [],
    ),
}

# For `emlsetup model` (i18): tensorflow/core/framework/{tensor,tensor_shape}.proto,
# tensorflow_serving/apis/{predict,get_model_metadata,model_management}.proto and
# tensorflow_serving/config/model_server_config.proto at 1.8.0. A map<string, V> field is
# declared as a repeated {1: key, 2: value} entry message, as maps are on the wire;
# google.protobuf.Any as its two fields (type_url, value); DataType as its int32 number.
_S = f".{PACKAGE}."
_MESSAGES.update(
    {
        "TensorShapeDim": (
            [
                ("size", 1, _F.TYPE_INT64, _OPT, "", None),
                ("name", 2, _F.TYPE_STRING, _OPT, "", None),
            ],
            {},
            [],
        ),
        "TensorShapeProto": (
            [
                ("dim", 2, _F.TYPE_MESSAGE, _REP, _S + "TensorShapeDim", None),
                ("unknown_rank", 3, _F.TYPE_BOOL, _OPT, "", None),
            ],
            {},
            [],
        ),
        "TensorProto": (
            [
                ("dtype", 1, _F.TYPE_INT32, _OPT, "", None),
                ("tensor_shape", 2, _F.TYPE_MESSAGE, _OPT, _S + "TensorShapeProto", None),
                ("version_number", 3, _F.TYPE_INT32, _OPT, "", None),
                ("tensor_content", 4, _F.TYPE_BYTES, _OPT, "", None),
                ("float_val", 5, _F.TYPE_FLOAT, _REP, "", None),
                ("double_val", 6, _F.TYPE_DOUBLE, _REP, "", None),
                ("int_val", 7, _F.TYPE_INT32, _REP, "", None),
                ("string_val", 8, _F.TYPE_BYTES, _REP, "", None),
                ("int64_val", 10, _F.TYPE_INT64, _REP, "", None),
                ("bool_val", 11, _F.TYPE_BOOL, _REP, "", None),
            ],
            {},
            [],
        ),
        "TensorMapEntry": (
            [
                ("key", 1, _F.TYPE_STRING, _OPT, "", None),
                ("value", 2, _F.TYPE_MESSAGE, _OPT, _S + "TensorProto", None),
            ],
            {},
            [],
        ),
        "PredictRequest": (
            [
                ("model_spec", 1, _F.TYPE_MESSAGE, _OPT, _S + "ModelSpec", None),
                ("inputs", 2, _F.TYPE_MESSAGE, _REP, _S + "TensorMapEntry", None),
                ("output_filter", 3, _F.TYPE_STRING, _REP, "", None),
            ],
            {},
            [],
        ),
        "PredictResponse": (
            [
                ("outputs", 1, _F.TYPE_MESSAGE, _REP, _S + "TensorMapEntry", None),
                ("model_spec", 2, _F.TYPE_MESSAGE, _OPT, _S + "ModelSpec", None),
            ],
            {},
            [],
        ),
        "AnyValue": (
            [
                ("type_url", 1, _F.TYPE_STRING, _OPT, "", None),
                ("value", 2, _F.TYPE_BYTES, _OPT, "", None),
            ],
            {},
            [],
        ),
        "AnyMapEntry": (
            [
                ("key", 1, _F.TYPE_STRING, _OPT, "", None),
                ("value", 2, _F.TYPE_MESSAGE, _OPT, _S + "AnyValue", None),
            ],
            {},
            [],
        ),
        "GetModelMetadataRequest": (
            [
                ("model_spec", 1, _F.TYPE_MESSAGE, _OPT, _S + "ModelSpec", None),
                ("metadata_field", 2, _F.TYPE_STRING, _REP, "", None),
            ],
            {},
            [],
        ),
        "GetModelMetadataResponse": (
            [
                ("model_spec", 1, _F.TYPE_MESSAGE, _OPT, _S + "ModelSpec", None),
                ("metadata", 2, _F.TYPE_MESSAGE, _REP, _S + "AnyMapEntry", None),
            ],
            {},
            [],
        ),
        "ModelConfig": (
            [
                ("name", 1, _F.TYPE_STRING, _OPT, "", None),
                ("base_path", 2, _F.TYPE_STRING, _OPT, "", None),
                ("model_platform", 4, _F.TYPE_STRING, _OPT, "", None),
            ],
            {},
            [],
        ),
        "ModelConfigList": (
            [("config", 1, _F.TYPE_MESSAGE, _REP, _S + "ModelConfig", None)],
            {},
            [],
        ),
        "ModelServerConfig": (
            [
                ("model_config_list", 1, _F.TYPE_MESSAGE, _OPT, _S + "ModelConfigList", 0),
                ("custom_model_config", 2, _F.TYPE_MESSAGE, _OPT, _S + "AnyValue", 0),
            ],
            {},
            ["config"],
        ),
        "ReloadConfigRequest": (
            [("config", 1, _F.TYPE_MESSAGE, _OPT, _S + "ModelServerConfig", None)],
            {},
            [],
        ),
        "ReloadConfigResponse": (
            [("status", 1, _F.TYPE_MESSAGE, _OPT, _S + "StatusProto", None)],
            {},
            [],
        ),
    }
)

#: gRPC method path -> (request message, response message)
METHODS: dict[str, tuple[str, str]] = {
    f"/{PACKAGE}.ModelService/GetModelStatus": ("GetModelStatusRequest", "GetModelStatusResponse"),
}
MODEL_SERVICE = f"{PACKAGE}.ModelService"
GET_MODEL_STATUS = f"/{MODEL_SERVICE}/GetModelStatus"
HANDLE_RELOAD_CONFIG = f"/{MODEL_SERVICE}/HandleReloadConfigRequest"
PREDICTION_SERVICE = f"{PACKAGE}.PredictionService"
PREDICT = f"/{PREDICTION_SERVICE}/Predict"
GET_MODEL_METADATA = f"/{PREDICTION_SERVICE}/GetModelMetadata"
METHODS.update(
    {
        HANDLE_RELOAD_CONFIG: ("ReloadConfigRequest", "ReloadConfigResponse"),
        PREDICT: ("PredictRequest", "PredictResponse"),
        GET_MODEL_METADATA: ("GetModelMetadataRequest", "GetModelMetadataResponse"),
    }
)


def _enum(name: str, values: dict[str, int]) -> descriptor_pb2.EnumDescriptorProto:
    enum = descriptor_pb2.EnumDescriptorProto(name=name)
    for key, number in values.items():
        enum.value.add(name=key, number=number)
    return enum


def _error_file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name=_ERROR_FILE, package="tensorflow.error")
    f.syntax = "proto3"
    f.enum_type.append(_enum("Code", ERROR_CODES))
    return f


def _serving_file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name=_FILE, package=PACKAGE)
    f.syntax = "proto3"
    f.dependency.extend([wrappers_pb2.DESCRIPTOR.name, _ERROR_FILE])
    for name, (fields, enums, oneofs) in _MESSAGES.items():
        msg = f.message_type.add(name=name)
        for oneof in oneofs:
            msg.oneof_decl.add(name=oneof)
        for enum_name, values in enums.items():
            msg.enum_type.append(_enum(enum_name, values))
        for fname, number, ftype, label, type_name, oneof_index in fields:
            field = msg.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                field.type_name = type_name
            if oneof_index is not None:
                field.oneof_index = oneof_index
    return f


def _build() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)
    pool.Add(_error_file())
    pool.Add(_serving_file())
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
        for name in _MESSAGES
    }


_CLASSES = _build()
ModelSpec: Any = _CLASSES["ModelSpec"]
StatusProto: Any = _CLASSES["StatusProto"]
GetModelStatusRequest: Any = _CLASSES["GetModelStatusRequest"]
ModelVersionStatus: Any = _CLASSES["ModelVersionStatus"]
GetModelStatusResponse: Any = _CLASSES["GetModelStatusResponse"]


def message_class(name: str) -> Any:
    """A message class by its short name (``GetModelStatusRequest``)."""
    return _CLASSES[name]


def state_name(number: int) -> str:
    """``AVAILABLE`` for 30; the number itself for a state this table does not know."""
    return next((k for k, v in VERSION_STATES.items() if v == number), str(number))
