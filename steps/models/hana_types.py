"""TensorFlow tensor dtypes -> SAP HANA column types for EML's PREDICT table types.

SAP's EML guide ("SAP HANA External Machine Learning Library", SAP HANA Platform 2.0,
chapter "Models and Call Signatures": input and output tensors map to columns of the
wrapper's table types, one row per element of the first, batch, dimension) and SAP's
tutorial "Consume your Iris TensorFlow Model from SAP HANA, express edition"
(sap-tutorials hxe-aws-eml-05: DT_FLOAT features and probabilities as FLOAT columns, a
DT_STRING output as VARCHAR(100), DT_INT64 class ids as INTEGER); the MNIST hands-on
(github.com/kshinkub/handson_20180307 eml_scoring_create_table_type.sql) passes a DT_STRING
image as BLOB. HANA's FLOAT without precision is DOUBLE: a DT_FLOAT value fits exactly.
"""

from __future__ import annotations

from steps.models.savedmodel import Signature, Tensor

SQL_TYPES = {
    "DT_FLOAT": "DOUBLE",
    "DT_DOUBLE": "DOUBLE",
    "DT_HALF": "DOUBLE",
    "DT_INT8": "INTEGER",
    "DT_UINT8": "INTEGER",
    "DT_INT16": "INTEGER",
    "DT_UINT16": "INTEGER",
    "DT_INT32": "INTEGER",
    "DT_INT64": "BIGINT",
    "DT_STRING": "NVARCHAR(5000)",
}


class SignatureMappingError(ValueError):
    """One sentence: which tensor HANA cannot take, and what to do."""


def column_type(tensor: Tensor, model: str) -> str:
    sql = SQL_TYPES.get(tensor.dtype)
    if sql is None:
        raise SignatureMappingError(
            f"model {model}: tensor {tensor.alias!r} is {tensor.dtype}, which EML cannot map "
            f"to a HANA column (supported: {', '.join(sorted(SQL_TYPES))}); export the model "
            "with a supported dtype (e.g. cast to float32)"
        )
    if tensor.shape is not None and len(tensor.shape) > 2:
        raise SignatureMappingError(
            f"model {model}: tensor {tensor.alias!r} has shape {tensor.shape_text}; a HANA "
            "table holds one row per batch element with one value or one vector, so "
            "reshape it to [-1] or [-1, n]"
        )
    return sql


def columns(tensors: tuple[Tensor, ...], model: str) -> list[tuple[str, str]]:
    """(column, type) per tensor; a [-1, n] tensor with n > 1 gives n columns."""
    out = []
    for t in tensors:
        sql = column_type(t, model)
        width = t.shape[1] if t.shape is not None and len(t.shape) == 2 else 1
        if width > 1:
            out += [(f"{t.alias}_{i}", sql) for i in range(width)]
        else:
            out.append((t.alias, sql))
    return out


def table_types(sig: Signature, model: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The input and output table types' columns for ``sig``."""
    if not sig.inputs or not sig.outputs:
        raise SignatureMappingError(
            f"model {model}: signature {sig.name} has no "
            f"{'inputs' if not sig.inputs else 'outputs'}; PREDICT needs both"
        )
    return columns(sig.inputs, model), columns(sig.outputs, model)
