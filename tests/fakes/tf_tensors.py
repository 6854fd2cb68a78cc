"""TensorProto values both ways, for the TF Serving stand-in and the HANA test server's EML.

tensorflow/core/framework/tensor.proto: a tensor's dtype, its shape, and its values in the
field of its type (float_val, double_val, int_val, int64_val, string_val, bool_val), or
packed little-endian in tensor_content (what TensorFlow's AsProtoTensorContent writes; a
DT_STRING tensor is never packed). The messages of checks.tf_serving_proto and of
steps.models.tf_proto have these fields alike, so these functions take either.
"""

from __future__ import annotations

import struct
from typing import Any

DT_FLOAT, DT_DOUBLE, DT_INT32, DT_STRING, DT_INT64, DT_BOOL = 1, 2, 3, 7, 9, 10
_PACKED = {DT_FLOAT: "f", DT_DOUBLE: "d", DT_INT32: "i", DT_INT64: "q", DT_BOOL: "?"}
_FIELD = {
    DT_FLOAT: "float_val",
    DT_DOUBLE: "double_val",
    DT_INT32: "int_val",
    DT_INT64: "int64_val",
    DT_STRING: "string_val",
    DT_BOOL: "bool_val",
}


def fill(proto: Any, dtype: int, shape: tuple[int, ...], values: list[Any]) -> None:
    """Write ``values`` (flat, row-major) as a tensor of ``dtype`` and ``shape``."""
    if dtype not in _FIELD:
        raise ValueError(f"dtype {dtype} is not one the stand-in writes")
    proto.dtype = dtype
    for size in shape:
        proto.tensor_shape.dim.add(size=size)
    field = getattr(proto, _FIELD[dtype])
    if dtype == DT_STRING:
        field.extend(v if isinstance(v, bytes) else str(v).encode() for v in values)
    elif dtype in (DT_FLOAT, DT_DOUBLE):
        field.extend(float(v) for v in values)
    elif dtype == DT_BOOL:
        field.extend(bool(v) for v in values)
    else:
        field.extend(int(v) for v in values)


def read(proto: Any) -> tuple[int, tuple[int, ...], list[Any]]:
    """(dtype, shape, flat values) of a TensorProto; one value fills a whole shape."""
    dtype = int(proto.dtype)
    shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
    count = 1
    for size in shape:
        count *= size
    if proto.tensor_content and dtype in _PACKED:
        code = _PACKED[dtype]
        values: list[Any] = list(
            struct.unpack(f"<{len(proto.tensor_content) // struct.calcsize(code)}{code}",
                          proto.tensor_content)
        )  # fmt: skip
    elif dtype in _FIELD:
        values = list(getattr(proto, _FIELD[dtype]))
    else:
        raise ValueError(f"dtype {dtype} is not one the stand-in reads")
    if len(values) == 1 and count != 1:
        values = values * count  # TensorFlow's rule: a single value is repeated
    return dtype, shape, values
