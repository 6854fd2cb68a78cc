"""EML's model side in the HANA test server: table types, the AFL wrapper procedures,
the model configuration table, and PREDICT forwarded to TensorFlow Serving over gRPC.

Real behaviour followed (sources in steps/models/hana_sql.py): ``CREATE TYPE t AS TABLE
(...)``; ``SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE(area, function, schema, procedure,
signature_table)`` reads the signature table (POSITION, SCHEMA_NAME, TYPE_NAME,
PARAMETER_TYPE) and creates ``schema.procedure`` whose parameters have those table types;
``..._DROP(schema, procedure)`` removes it. A call of an EML PREDICT wrapper reads
('Model', 'NAME[%signature]') and ('RemoteSource', 'SRC') from its parameter table, sends
a gRPC ``PredictionService/Predict`` with one tensor per input column (batch = rows) to the
remote source's server:port (the same configuration step 7 creates), and writes the output
tensors into the output table, row for row (SAP tutorial hxe-aws-eml-05: "The output
result ... is sorted the same way as in the input"). The model must be in
EML_MODEL_CONFIGURATION as loaded by the last UpdateModelConfiguration, else EML fails.
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
    invalid_procedure_name,
)
from .sqltext import Params, ident, qname
from .state import AFL_SCHEMA, EML_CONFIG_TABLE, State, Table

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
        from .framing import FunctionCode

        return RowCount(gone, FunctionCode.DELETE)

    # -- AFL wrappers ---------------------------------------------------------------------

    def _wrapper_call(self, s: SqlSession, name: str, argv: list[str]) -> Outcome | None:
        """SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE / _DROP; None for other procedures."""
        if name == "AFLLANG_WRAPPER_PROCEDURE_CREATE":
            area, function, schema, proc = (_literal(a) for a in argv[:4])
            if (area, function) != ("EML", "PREDICT") or len(argv) != 5:
                raise HanaError(423, f"AFL error: no function {area}.{function} here")
            self._owned_schema(s, schema)
            sig = self._table(s, argv[4])
            rows = sorted(sig.rows, key=lambda r: r[0])
            types = []
            for _pos, tschema, tname, kind in rows:
                if (tschema, tname) not in self._state.types:
                    raise HanaError(423, f"AFL error: table type {tschema}.{tname} not found")
                types.append((tschema, tname, str(kind).upper()))
            if [t[2] for t in types] != ["IN", "IN", "OUT"]:
                raise HanaError(423, "AFL error: PREDICT needs (params IN, data IN, result OUT)")
            if (schema, proc) in self._state.procedures:
                raise duplicate_name("procedure", proc, 329)
            self._state.procedures[(schema, proc)] = f"{WRAPPER_PREFIX}{area}.{function}"
            self._state.wrappers[(schema, proc)] = types
            return CallResult()
        if name == "AFLLANG_WRAPPER_PROCEDURE_DROP":
            schema, proc = (_literal(a) for a in argv[:2])
            if (schema, proc) not in self._state.wrappers:
                raise invalid_procedure_name(f"{schema}.{proc}")
            self._owned_schema(s, schema)
            del self._state.wrappers[(schema, proc)]
            del self._state.procedures[(schema, proc)]
            return CallResult()
        return None

    def _predict(self, s: SqlSession, key: tuple[str, str], argv: list[str]) -> Outcome:
        """A call of an EML PREDICT wrapper: params, input, output tables."""
        self._eml_allowed(s)  # type: ignore[attr-defined]
        if len(argv) != 3:
            raise HanaError(1281, f"wrong number of arguments for {key[0]}.{key[1]}")
        params = dict(self._table(s, argv[0]).rows)
        data = self._table(s, argv[1])
        out = self._table(s, argv[2], "INSERT")
        model, _, signature = str(params.get("Model", "")).partition("%")
        source = self._state.remote_sources.get(str(params.get("RemoteSource", "")))
        if source is None:
            raise HanaError(2048, "EML: RemoteSource parameter missing or unknown")
        if model not in self._state.eml_loaded:
            raise HanaError(
                2048, f"EML: model {model} is not configured (UpdateModelConfiguration)"
            )
        inputs = {c.name.lower(): [r[i] for r in data.rows] for i, c in enumerate(data.columns)}
        outputs = predict(source.host, source.port, model, signature or "serving_default", inputs)
        names = [c.name.lower() for c in out.columns]
        missing = [n for n in names if n not in outputs]
        if missing:
            raise HanaError(2048, f"EML: the model gave no output {missing[0]}")
        out.rows.extend(zip(*(outputs[n] for n in names), strict=True))
        return CallResult()

    def _loaded_models(self) -> list[str]:
        """The models of EML_MODEL_CONFIGURATION that name a remote source."""
        table = self._state.tables.get((AFL_SCHEMA, EML_CONFIG_TABLE))
        if table is None or len(table.columns) < 3:
            return []
        return [str(r[0]) for r in table.rows if r[1] == "RemoteSource"]


def predict(
    host: str, port: int, model: str, signature: str, inputs: dict[str, list[Any]]
) -> dict[str, list[Any]]:
    """One gRPC Predict; {output alias: one value per row}. Errors are EML's sentences."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    import grpc

    from checks import tf_serving_proto as pb

    request = pb.message_class("PredictRequest")()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    for alias, values in inputs.items():
        tensor = request.inputs.add(key=alias).value
        tensor.dtype = 1  # DT_FLOAT
        tensor.tensor_shape.dim.add(size=len(values))
        tensor.tensor_shape.dim.add(size=1)
        tensor.float_val.extend(float(v) for v in values)
    channel = grpc.insecure_channel(f"{host}:{port}", options=[("grpc.enable_http_proxy", 0)])
    try:
        call = channel.unary_unary(
            pb.PREDICT,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=pb.message_class("PredictResponse").FromString,
        )
        response = call(request, timeout=10)
    except grpc.RpcError as exc:
        raise HanaError(
            2048, f"EML: TensorFlow Serving: {exc.code().name}: {exc.details()}"
        ) from None
    finally:
        channel.close()
    return {e.key: [float(v) for v in e.value.float_val] for e in response.outputs}
