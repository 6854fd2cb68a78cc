"""EML's model side in the HANA test server: table types, the AFL wrapper procedures,
the model configuration table, and PREDICT forwarded to TensorFlow Serving over gRPC.

Real behaviour followed:

- ``CREATE TYPE t AS TABLE (...)``; ``SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE(area, function,
  schema, procedure, signature_table)`` reads the signature table (POSITION, SCHEMA_NAME,
  TYPE_NAME, PARAMETER_TYPE) and creates ``schema.procedure`` with those table types as its
  parameters; ``..._DROP(schema, procedure)`` removes it. Both need the role
  AFLPM_CREATOR_ERASER_EXECUTE (SAP tutorial mlb-hxe-setup-basic grants it to ML_USER for
  this; without a privilege HANA answers 258, "insufficient privilege").
- PREDICT's parameters are the parameter table, one table per input tensor, then the
  output table: SAP's Iris tutorial (sap-tutorials mlb-hxe-tensorflow-iris, step 6) wraps
  ('in' x 5, 'out') for four inputs, "the parameter table for the input data follows
  exactly the SavedModel SignatureDef ... using the alphabetical order from the tensor
  names". So the n input tables are the signature's inputs in alias order (one column a
  value, N columns for a [-1, N] tensor), and the output table's columns take the output
  tensors one after another in alias order, by position (TT_IRIS_RESULTS:
  PREDICTED_CLASS_ID, PROBABILITIES0..2; hxe-aws-eml-05: "The model outputs are all
  merged into one result table"). Rows come back in the order of the input rows.
- The call reads ('Model', 'NAME[%signature]') (hxe-aws-eml-05: 'iris%predict', "By
  default the serving_default model signature is used"), ('RemoteSource', 'SRC') and
  ('Deadline', ms) from its parameter table; the model must be in EML_MODEL_CONFIGURATION
  as the last UpdateModelConfiguration loaded it. EML learns the signature from TF
  Serving's GetModelMetadata and sends one Predict (batch = rows) to the remote source's
  server:port, its deadline the gRPC timeout.
- dtypes as SAP's tutorials give them: FLOAT columns carry DT_FLOAT, INTEGER DT_INT64
  (HANA 2 SPS03 on), BLOB DT_STRING inputs, VARCHAR DT_STRING outputs.

EML's own error texts are not published: the test server answers with 2048 (how HANA
reports errors raised in AFL procedures) and a sentence of its own.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .results import (
    CallResult,
    HanaError,
    Outcome,
    RowCount,
    duplicate_name,
    insufficient_privilege,
    invalid_procedure_name,
)
from .sqltext import Params, ident, qname
from .state import AFL_SCHEMA, CREATOR_ERASER_ROLE, EML_CONFIG_TABLE, State, Table
from .types import TypeCode

if TYPE_CHECKING:
    from .catalogue import SqlSession

WRAPPER_PREFIX = "AFL WRAPPER "


def _literal(token: str) -> str:
    token = token.strip()
    if token.startswith("'") and token.endswith("'"):
        return token[1:-1].replace("''", "'")
    return ident(token)


class EmlModelMixin:
    """Statements for :class:`~tests.hana_server.catalogue.Catalogue`."""

    _state: State

    if TYPE_CHECKING:  # the Catalogue's

        def _table(self, s: SqlSession, token: str, privilege: str = "SELECT") -> Table: ...
        def _owned_schema(self, s: SqlSession, schema: str) -> None: ...

    def _create_type(self, s: SqlSession, p: Params, token: str, body: str) -> Outcome:
        schema, name = qname(token, s.schema)
        self._owned_schema(s, schema)
        if (schema, name) in self._state.types or (schema, name) in self._state.tables:
            raise duplicate_name("type", name, 288)
        # Column parsing is CREATE TABLE's: build the type as a table, then move it.
        create = self._create_table  # type: ignore[attr-defined]
        create(s, p, token, body)
        self._state.types[(schema, name)] = self._state.tables.pop((schema, name))
        return RowCount(0)

    def _drop_type(self, s: SqlSession, p: Params, token: str) -> Outcome:
        key = qname(token, s.schema)
        if key not in self._state.types:
            raise HanaError(9, f"invalid type name: {key[1]}")  # not an object the user has
        self._owned_schema(s, key[0])
        del self._state.types[key]
        return RowCount(0)

    def _delete(self, s: SqlSession, p: Params, token: str, where: str | None) -> Outcome:
        from .framing import FunctionCode
        from .sqltext import parse_where

        table = self._table(s, token, "DELETE")
        names = [c.name for c in table.columns]
        conds = parse_where(where or "", p)
        keep = [
            r
            for r in table.rows
            if not all(c.matches(dict(zip(names, r, strict=True))) for c in conds)
        ]
        gone = len(table.rows) - len(keep)
        table.rows[:] = keep
        return RowCount(gone, FunctionCode.DELETE)

    # -- AFL wrappers ---------------------------------------------------------------------

    def _wrapper_call(self, s: SqlSession, name: str, argv: list[str]) -> Outcome | None:
        """SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE / _DROP; None for other procedures."""
        if name not in ("AFLLANG_WRAPPER_PROCEDURE_CREATE", "AFLLANG_WRAPPER_PROCEDURE_DROP"):
            return None
        if s.user != "SYSTEM" and not self._state.has_role(s.user, CREATOR_ERASER_ROLE):
            raise insufficient_privilege(
                f"Not authorized: {CREATOR_ERASER_ROLE} is not granted to {s.user}"
            )
        if name == "AFLLANG_WRAPPER_PROCEDURE_CREATE":
            area, function, schema, proc = (_literal(a) for a in argv[:4])
            if (area, function) != ("EML", "PREDICT") or len(argv) != 5:
                raise HanaError(423, f"AFL error: no function {area}.{function} here")
            self._owned_schema(s, schema)
            rows = sorted(self._table(s, argv[4]).rows, key=lambda r: r[0])
            types = []
            for _pos, tschema, tname, kind in rows:
                if (tschema, tname) not in self._state.types:
                    raise HanaError(423, f"AFL error: table type {tschema}.{tname} not found")
                types.append((tschema, tname, str(kind).upper()))
            kinds = [t[2] for t in types]
            if len(kinds) < 3 or kinds != ["IN"] * (len(kinds) - 1) + ["OUT"]:
                raise HanaError(
                    423, "AFL error: PREDICT needs (params IN, one IN per input tensor, OUT)"
                )
            if (schema, proc) in self._state.procedures:
                raise duplicate_name("procedure", proc, 329)
            self._state.procedures[(schema, proc)] = f"{WRAPPER_PREFIX}{area}.{function}"
            self._state.wrappers[(schema, proc)] = types
            return CallResult()
        schema, proc = (_literal(a) for a in argv[:2])
        if (schema, proc) not in self._state.wrappers:
            raise invalid_procedure_name(f"{schema}.{proc}")
        self._owned_schema(s, schema)
        del self._state.wrappers[(schema, proc)]
        del self._state.procedures[(schema, proc)]
        return CallResult()

    def _predict(self, s: SqlSession, key: tuple[str, str], argv: list[str]) -> Outcome:
        """A call of an EML PREDICT wrapper: params, one table per input, output."""
        self._eml_allowed(s)  # type: ignore[attr-defined]
        if len(argv) != len(self._state.wrappers[key]):
            raise HanaError(1281, f"wrong number of arguments for {key[0]}.{key[1]}")
        params = {str(k): str(v) for k, v in self._table(s, argv[0]).rows}
        tables = [self._table(s, a) for a in argv[1:-1]]
        out = self._table(s, argv[-1], "INSERT")
        model, _, signature = params.get("Model", "").partition("%")
        source = self._state.remote_sources.get(params.get("RemoteSource", ""))
        if source is None:
            raise HanaError(2048, "EML: RemoteSource parameter missing or unknown")
        if model not in self._state.eml_loaded:
            raise HanaError(
                2048, f"EML: model {model} is not configured (UpdateModelConfiguration)"
            )
        deadline = float(params.get("Deadline", "10000")) / 1000
        columns = [[(c.name, c.type_code) for c in t.columns] for t in tables]
        rows = [t.rows for t in tables]
        result = predict(
            source.host, source.port, model, signature or "serving_default", columns, rows,
            deadline,
        )  # fmt: skip
        if result and len(result[0]) != len(out.columns):
            raise HanaError(
                2048,
                f"EML: the model gives {len(result[0])} values a row, the output table has "
                f"{len(out.columns)} columns",
            )
        out.rows.extend(tuple(r) for r in result)
        return CallResult()

    def _loaded_models(self) -> list[str]:
        """The models of EML_MODEL_CONFIGURATION that name a remote source."""
        table = self._state.tables.get((AFL_SCHEMA, EML_CONFIG_TABLE))
        if table is None or len(table.columns) < 3:
            return []
        return [str(r[0]) for r in table.rows if r[1] == "RemoteSource"]


def _channel_call(host: str, port: int, method: str, request: Any, response: Any, t: float) -> Any:
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    import grpc

    channel = grpc.insecure_channel(f"{host}:{port}", options=[("grpc.enable_http_proxy", 0)])
    try:
        call = channel.unary_unary(
            method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response.FromString,
        )
        return call(request, timeout=t)
    except grpc.RpcError as exc:
        raise HanaError(
            2048, f"EML: TensorFlow Serving: {exc.code().name}: {exc.details()}"
        ) from None
    finally:
        channel.close()


def signature_of(
    host: str, port: int, model: str, signature: str, deadline: float
) -> tuple[list[tuple[str, int, int]], list[str]]:
    """GetModelMetadata's signature: its inputs as (alias, dtype, rank) and its output
    aliases, each in alias order."""
    from checks import tf_serving_proto as pb
    from steps.models import tf_proto as tp  # the message declarations only

    request = pb.message_class("GetModelMetadataRequest")(metadata_field=["signature_def"])
    request.model_spec.name = model
    answer = _channel_call(
        host, port, pb.GET_MODEL_METADATA, request,
        pb.message_class("GetModelMetadataResponse"), deadline,
    )  # fmt: skip
    packed = next(e.value.value for e in answer.metadata if e.key == "signature_def")
    found = tp.parse("SignatureDefMap", packed).signature_def
    if signature not in found:
        raise HanaError(2048, f"EML: model {model} has no signature {signature}")
    sig = found[signature]
    inputs = [
        (a, sig.inputs[a].dtype, len(sig.inputs[a].tensor_shape.dim))
        for a in sorted(sig.inputs, key=str.encode)
    ]
    return inputs, sorted(sig.outputs, key=str.encode)


def predict(
    host: str,
    port: int,
    model: str,
    signature: str,
    columns: list[list[tuple[str, TypeCode]]],
    rows: list[list[tuple[Any, ...]]],
    deadline: float = 10.0,
) -> list[list[Any]]:
    """One gRPC Predict: input table i is the signature's input i; the output row values in
    output alias order. Errors are EML's sentences (2048)."""
    from checks import tf_serving_proto as pb
    from tests.fakes.tf_tensors import fill, read

    inputs, _ = signature_of(host, port, model, signature, deadline)
    if len(inputs) != len(columns):
        raise HanaError(
            2048,
            f"EML: signature {signature} of {model} has {len(inputs)} inputs, the call "
            f"gives {len(columns)} input tables",
        )
    batch = {len(r) for r in rows}
    if len(batch) > 1:
        raise HanaError(2048, "EML: the input tables have different numbers of rows")
    n = batch.pop() if batch else 0
    request = pb.message_class("PredictRequest")()
    request.model_spec.name, request.model_spec.signature_name = model, signature
    for (alias, dtype, rank), cols, table in zip(inputs, columns, rows, strict=True):
        values = [_to_tensor(v, dtype) for row in table for v in row]
        shape = (n, len(cols)) if rank == 2 else (n,)
        fill(request.inputs.add(key=alias).value, dtype, shape, values)
    response = _channel_call(
        host, port, pb.PREDICT, request, pb.message_class("PredictResponse"), deadline
    )
    outputs = {e.key: read(e.value) for e in response.outputs}
    result: list[list[Any]] = [[] for _ in range(n)]
    for alias in sorted(outputs, key=str.encode):
        dtype, shape, values = outputs[alias]
        per_row = len(values) // n if n else 0
        for i in range(n):
            result[i] += [_from_tensor(v, dtype) for v in values[i * per_row : (i + 1) * per_row]]
    return result


def _to_tensor(value: Any, dtype: int) -> Any:
    if dtype == 7:
        return value if isinstance(value, bytes) else str(value).encode()
    return int(value) if dtype == 9 else float(value)


def _from_tensor(value: Any, dtype: int) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return int(value) if dtype in (3, 9) else float(value)
