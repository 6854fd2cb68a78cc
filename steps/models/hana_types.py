"""TensorFlow tensors -> the columns of EML's PREDICT table types, as SAP documents them.

EML's PREDICT takes one table per input tensor and one output table (SAP tutorial
"Deploy a TensorFlow Iris Classifier in SAP HANA, express edition", sap-tutorials
mlb-hxe-tensorflow-iris, step 6: TT_IRIS_FEATURES_PETALLENGTH ... one type a tensor, in the
signature's alphabetical order, then TT_IRIS_RESULTS). A row is one element of the batch
(the first dimension, -1); a [-1, N] tensor is N columns (TT_IRIS_RESULTS has
PROBABILITIES0..2 for the [-1, 3] probabilities); the output tensors' columns follow one
another in the output table by position, in alias order (PREDICTED_CLASS_ID, then the
probabilities).

The dtype table has one row per (dtype, direction) that a public SAP source shows, the
source beside it; any other dtype is refused in one sentence naming what is supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from steps.models.savedmodel import Signature, Tensor

IRIS = "SAP tutorial mlb-hxe-tensorflow-iris, step 6"
FLOWERS = "SAP tutorial mlb-hxe-tensorflow-image-retraining, step 8"


@dataclass(frozen=True)
class Mapping:
    sql: str  # the column type
    source: str
    min_sps: int = 0  # the first HANA 2 support package stack that takes it


# (dtype, "in" | "out") -> column type, with its source.
DTYPE_TABLE: dict[tuple[str, str], Mapping] = {
    ("DT_FLOAT", "in"): Mapping("FLOAT", f"{IRIS}: TT_IRIS_FEATURES_SEPALLENGTH, a FLOAT"),
    ("DT_FLOAT", "out"): Mapping("FLOAT", f"{IRIS}: TT_IRIS_RESULTS PROBABILITIES0 FLOAT"),
    # The tutorial's pre-SPS03 export script casts predicted_class_id to float ("dt_int64
    # ... is not yet supported in HANA"); SAP blog "Machine Learning in a Box (week 8)",
    # 2018-05-14: "SPS03 brings the support of INT64 to SAP HANA EML".
    ("DT_INT64", "out"): Mapping(
        "INTEGER", f"{IRIS}: PREDICTED_CLASS_ID INTEGER for the DT_INT64 class id", 3
    ),
    ("DT_INT64", "in"): Mapping(
        "INTEGER", "SAP blog 'Machine Learning in a Box (week 8)': INT64 from SPS03 on", 3
    ),
    ("DT_STRING", "out"): Mapping(
        "VARCHAR(100)", f"{FLOWERS}: TT_FLOWERS_RESULTS (CLASS VARCHAR(100), ...)"
    ),
    ("DT_STRING", "in"): Mapping("BLOB", f"{FLOWERS}: TT_FLOWERS_FEATURES (IMAGE_BLOB BLOB)"),
}
SUPPORTED = (
    "DT_FLOAT (FLOAT), DT_INT64 (INTEGER, HANA 2 SPS03 or later) and DT_STRING (BLOB in, "
    "VARCHAR(100) out)"
)
# A column is a delimited identifier (case kept); these characters need no escaping in one.
ALIAS_RE = re.compile(r"[A-Za-z0-9_]{1,100}")


class SignatureMappingError(ValueError):
    """One sentence: which tensor HANA cannot take, and what to do."""


@dataclass(frozen=True)
class Column:
    name: str  # the column's name (case kept: it is always quoted)
    sql: str  # FLOAT, INTEGER, VARCHAR(100), BLOB
    tensor: Tensor
    index: int | None = None  # the element of a [-1, N] tensor


@dataclass(frozen=True)
class Layout:
    """The PREDICT tables of one signature."""

    signature: str
    inputs: tuple[tuple[Column, ...], ...]  # one table per input tensor
    outputs: tuple[Column, ...]  # one table

    @property
    def needs_sps(self) -> int:
        return max(
            (mapping(c.tensor, d).min_sps for d, cols in self._sides() for c in cols),
            default=0,
        )

    def _sides(self) -> list[tuple[str, tuple[Column, ...]]]:
        return [*(("in", t) for t in self.inputs), ("out", self.outputs)]


def mapping(tensor: Tensor, direction: str) -> Mapping:
    found = DTYPE_TABLE.get((tensor.dtype, direction))
    if found is None:
        raise SignatureMappingError(
            f"{direction}put tensor {tensor.alias!r} is {tensor.dtype}, which no SAP source "
            f"maps to a HANA column; EML takes {SUPPORTED}: cast it in the model's signature"
        )
    return found


def width(tensor: Tensor) -> int:
    """How many columns a tensor takes: 1 for [-1] and [-1, 1], N for [-1, N]."""
    shape = tensor.shape
    if shape is None or not 1 <= len(shape) <= 2 or any(d < 1 for d in shape[1:]):
        raise SignatureMappingError(
            f"tensor {tensor.alias!r} has shape {tensor.shape_text}; a HANA table holds one "
            "row per batch element with one value or a vector of known length, so export it "
            "as [-1] or [-1, n]"
        )
    return shape[1] if len(shape) == 2 else 1


def columns(tensor: Tensor, direction: str) -> tuple[Column, ...]:
    if not ALIAS_RE.fullmatch(tensor.alias):
        raise SignatureMappingError(
            f"tensor alias {tensor.alias!r} cannot name a HANA column here: use letters, "
            "digits and _ (at most 100) in the signature's aliases"
        )
    sql, n = mapping(tensor, direction).sql, width(tensor)
    if n == 1:
        return (Column(tensor.alias, sql, tensor),)
    return tuple(Column(f"{tensor.alias}_{i}", sql, tensor, i) for i in range(n))


def layout(sig: Signature) -> Layout:
    """The tables of ``sig``; one sentence for anything SAP's EML would not take."""
    if not sig.inputs or not sig.outputs:
        side = "inputs" if not sig.inputs else "outputs"
        raise SignatureMappingError(f"signature {sig.name} has no {side}; PREDICT needs both")
    inputs = tuple(columns(t, "in") for t in sig.inputs)
    outputs = tuple(c for t in sig.outputs for c in columns(t, "out"))
    names = [c.name for c in outputs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SignatureMappingError(
            f"signature {sig.name}: the output column {twice[0]} would be there twice (a "
            "vector's columns are ALIAS_0, ALIAS_1, ...): rename one of the outputs"
        )
    return Layout(sig.name, inputs, outputs)


def hana_sps(version: str) -> int | None:
    """The support package stack of a HANA 2 version string, as M_DATABASE.VERSION gives it:
    2.00.045.00.1575639312 -> 4 (its third part is the revision, whose tens are the SPS:
    "HANA 2.00.054 - Support Pack Stack 5, Revision 54", letstalksap.com "Decoding HANA DB
    Version"; medium.com "HANA version numbering explained"). None for another format."""
    m = re.match(r"2\.00\.(\d{3})\.", version)
    return int(m.group(1)) // 10 if m else None
