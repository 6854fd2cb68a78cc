"""The TensorFlow ops the TF Serving stand-in evaluates, in plain Python.

Each kernel does what TensorFlow's op of that name does (tensorflow/core/ops/math_ops.cc,
array_ops.cc, nn_ops.cc, string_ops.cc; semantics as the tf.raw_ops reference describes
them): NumPy-style broadcasting for the element-wise ones, float32 results for DT_FLOAT
(each value rounded to float32, as TensorFlow computes it), int64 for DT_INT64, bytes for
DT_STRING. A model using an op not here is an error naming the op: the stand-in never
guesses an answer.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DT_FLOAT, DT_DOUBLE, DT_INT32, DT_STRING, DT_INT64, DT_BOOL, DT_RESOURCE = 1, 2, 3, 7, 9, 10, 20


@dataclass
class Val:
    """A tensor: its dtype number, shape and flat row-major values."""

    dtype: int
    shape: tuple[int, ...]
    data: list[Any]


def f32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _cast(value: Any, dtype: int) -> Any:
    if dtype == DT_FLOAT:
        return f32(float(value))
    if dtype == DT_DOUBLE:
        return float(value)
    if dtype in (DT_INT32, DT_INT64):
        return int(value)
    if dtype == DT_BOOL:
        return bool(value)
    return value


def _count(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _strides(shape: tuple[int, ...]) -> list[int]:
    out, acc = [], 1
    for size in reversed(shape):
        out.append(acc)
        acc *= size
    return out[::-1]


def broadcast(a: Val, b: Val, fn: Callable[[Any, Any], Any], dtype: int | None = None) -> Val:
    rank = max(len(a.shape), len(b.shape))
    sa = (1,) * (rank - len(a.shape)) + a.shape
    sb = (1,) * (rank - len(b.shape)) + b.shape
    shape = []
    for x, y in zip(sa, sb, strict=True):
        if x != y and 1 not in (x, y):
            raise ValueError(f"Incompatible shapes: {list(a.shape)} vs. {list(b.shape)}")
        shape.append(max(x, y))
    out_dtype = dtype if dtype is not None else a.dtype
    ta, tb, to = _strides(sa), _strides(sb), _strides(tuple(shape))
    data = []
    for flat in range(_count(tuple(shape))):
        ia = ib = 0
        for axis, stride in enumerate(to):
            i = (flat // stride) % shape[axis]
            ia += (i if sa[axis] > 1 else 0) * ta[axis]
            ib += (i if sb[axis] > 1 else 0) * tb[axis]
        data.append(_cast(fn(a.data[ia], b.data[ib]), out_dtype))
    return Val(out_dtype, tuple(shape), data)


def _div(x: Any, y: Any) -> Any:
    return x / y if y else math.copysign(math.inf, x) if x else math.nan


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda x, y: x + y,
    "AddV2": lambda x, y: x + y,
    "BiasAdd": lambda x, y: x + y,
    "Sub": lambda x, y: x - y,
    "Mul": lambda x, y: x * y,
    "RealDiv": _div,
    "Maximum": max,
    "Minimum": min,
}
UNARY: dict[str, Callable[[Any], Any]] = {
    "Relu": lambda x: max(x, 0),
    "Neg": lambda x: -x,
    "Exp": math.exp,
    "Sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "Tanh": math.tanh,
    "Square": lambda x: x * x,
}


def _axis(value: Val, rank: int) -> list[int]:
    return [a + rank if a < 0 else a for a in value.data]


def matmul(a: Val, b: Val, attrs: dict[str, Any]) -> Val:
    if attrs.get("transpose_a"):
        a = _transpose(a)
    if attrs.get("transpose_b"):
        b = _transpose(b)
    (n, k), (k2, m) = a.shape, b.shape
    if k != k2:
        raise ValueError(
            f"Matrix size-incompatible: In[0]: {list(a.shape)}, In[1]: {list(b.shape)}"
        )
    data = [
        _cast(sum(a.data[i * k + j] * b.data[j * m + c] for j in range(k)), a.dtype)
        for i in range(n)
        for c in range(m)
    ]
    return Val(a.dtype, (n, m), data)


def _transpose(v: Val) -> Val:
    n, m = v.shape
    return Val(v.dtype, (m, n), [v.data[i * m + j] for j in range(m) for i in range(n)])


def reduce(op: str, v: Val, axes: Val, keep: bool) -> Val:
    dims = sorted(set(_axis(axes, len(v.shape))))
    shape = tuple(1 if i in dims else s for i, s in enumerate(v.shape))
    groups: dict[int, list[Any]] = {}
    strides, out_strides = _strides(v.shape), _strides(shape)
    for flat, value in enumerate(v.data):
        key = sum(
            (0 if i in dims else (flat // strides[i]) % v.shape[i]) * out_strides[i]
            for i in range(len(v.shape))
        )
        groups.setdefault(key, []).append(value)
    total = {"Sum": sum, "Max": max, "Min": min, "Mean": lambda xs: sum(xs) / len(xs)}[op]
    data = [_cast(total(groups[k]), v.dtype) for k in sorted(groups)]
    final = shape if keep else tuple(s for i, s in enumerate(v.shape) if i not in dims)
    return Val(v.dtype, final, data)


def softmax(v: Val) -> Val:
    width = v.shape[-1]
    out = []
    for start in range(0, len(v.data), width):
        row = v.data[start : start + width]
        top = max(row)
        exps = [math.exp(x - top) for x in row]
        out += [f32(e / sum(exps)) for e in exps]
    return Val(v.dtype, v.shape, out)


def argmax(v: Val, axis: Val, out_type: int) -> Val:
    if _axis(axis, len(v.shape)) != [len(v.shape) - 1]:
        raise ValueError("the stand-in's ArgMax takes the last axis only")
    width = v.shape[-1]
    rows = [v.data[i : i + width] for i in range(0, len(v.data), width)]
    return Val(out_type or DT_INT64, v.shape[:-1], [r.index(max(r)) for r in rows])


def concat(values: list[Val], axis: Val) -> Val:
    dim = _axis(axis, len(values[0].shape))[0]
    outer = _count(values[0].shape[:dim])
    data: list[Any] = []
    for i in range(outer):
        for v in values:
            inner = _count(v.shape[dim:])
            data += v.data[i * inner : (i + 1) * inner]
    shape = list(values[0].shape)
    shape[dim] = sum(v.shape[dim] for v in values)
    return Val(values[0].dtype, tuple(shape), data)


def reshape(v: Val, shape: Val) -> Val:
    dims = list(shape.data)
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = len(v.data) // known if known else 0
    return Val(v.dtype, tuple(dims), v.data)


def expand_dims(v: Val, axis: Val) -> Val:
    dim = _axis(axis, len(v.shape) + 1)[0]
    return Val(v.dtype, v.shape[:dim] + (1,) + v.shape[dim:], v.data)


def squeeze(v: Val, attrs: dict[str, Any]) -> Val:
    dims = [d + len(v.shape) if d < 0 else d for d in attrs.get("squeeze_dims", [])]
    shape = tuple(
        s for i, s in enumerate(v.shape) if not (s == 1 and (not dims or i in dims))
    )
    return Val(v.dtype, shape, v.data)


def string_join(values: list[Val], separator: bytes) -> Val:
    shape = max((v.shape for v in values), key=len)
    n = _count(shape)
    parts = [v.data * n if len(v.data) == 1 else v.data for v in values]
    data = [separator.join(p[i] for p in parts) for i in range(n)]
    return Val(DT_STRING, shape, data)


def string_to_number(v: Val, dtype: int) -> Val:
    out = []
    for text in v.data:
        try:
            out.append(_cast(float(text.decode()), dtype))
        except ValueError:
            # TensorFlow's words (string_to_number_op.cc), an INVALID_ARGUMENT
            raise ValueError(
                f"StringToNumberOp could not correctly convert string: {text.decode()}"
            ) from None
    return Val(dtype, v.shape, out)


def cast(v: Val, dtype: int) -> Val:
    return Val(dtype, v.shape, [_cast(x, dtype) for x in v.data])


def run(op: str, inputs: list[Val], attrs: dict[str, Any]) -> list[Val]:
    """The outputs of ``op`` for ``inputs``; ValueError for an op the stand-in lacks."""
    if op in BINARY:
        return [broadcast(inputs[0], inputs[1], BINARY[op])]
    if op in UNARY:
        v = inputs[0]
        return [Val(v.dtype, v.shape, [_cast(UNARY[op](x), v.dtype) for x in v.data])]
    if op in ("Identity", "StopGradient", "Snapshot", "PlaceholderWithDefault"):
        return [inputs[0]]
    if op == "IdentityN":
        return inputs
    simple: dict[str, Callable[[], Val]] = {
        "MatMul": lambda: matmul(inputs[0], inputs[1], attrs),
        "Softmax": lambda: softmax(inputs[0]),
        "ArgMax": lambda: argmax(inputs[0], inputs[1], attrs.get("output_type", DT_INT64)),
        "ConcatV2": lambda: concat(inputs[:-1], inputs[-1]),
        "Reshape": lambda: reshape(inputs[0], inputs[1]),
        "ExpandDims": lambda: expand_dims(inputs[0], inputs[1]),
        "Squeeze": lambda: squeeze(inputs[0], attrs),
        "Cast": lambda: cast(inputs[0], attrs["DstT"]),
        "StringJoin": lambda: string_join(inputs, attrs.get("separator", b"")),
        "StringToNumber": lambda: string_to_number(inputs[0], attrs.get("out_type", DT_FLOAT)),
    }
    if op in simple:
        return [simple[op]()]
    if op in ("Sum", "Max", "Min", "Mean"):
        return [reduce(op, inputs[0], inputs[1], bool(attrs.get("keep_dims")))]
    raise ValueError(f"the stand-in cannot evaluate op {op}")
