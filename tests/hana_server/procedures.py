"""Procedure calls: the user's procedures (their SQLScript bodies run) and EML's.

``CALL _SYS_AFL.EML_CTL_PROC('UpdateModelConfiguration', PARAMS, RESULT)`` and
``CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(PARAMS, RESULT)`` (RESULT in DAT364's layout,
see :meth:`ProcedureMixin._check_destination`) need the role
AFL__SYS_AFL_EML_EXECUTE, the Script Server, and a "TensorFlow" remote source whose
(host, port) accepts a TCP connection at call time. RESULT is a table (its rows are
inserted) or ``?`` (the rows come back as a result set, as HANA returns an output table
parameter bound to ``?``). A user procedure's body (``CREATE PROCEDURE``, compiled by
:mod:`.sqlscript`) runs at CALL: its cursors, FOR loops and EXEC statements.

Errors, as HANA numbers them (SAP HANA SQL Reference, "SQL Error Codes"): 258 insufficient
privilege, 259 invalid table name, 328 invalid procedure name, 1281 wrong number or types
of parameters in call. EML_CTL_PROC knows the action the tutorial uses,
``UpdateModelConfiguration`` (SAP HANA External Machine Learning Library guide, "Updating
the model configuration"); EML's own text for another action is not published, so the test
server answers it as HANA reports an error raised inside an AFL procedure: 2048 "column
store error" (as PAL's errors come back). A ``?`` for an *input* table parameter is refused
with 7 "feature not supported" (the test server's choice; hdbcli cannot bind a table).
"""

from __future__ import annotations

import re
import socket
from typing import TYPE_CHECKING, Any

from .results import (
    CallResult,
    HanaError,
    Outcome,
    ResultSet,
    insufficient_privilege,
    invalid_procedure_name,
    syntax_error,
)
from .sqlscript import (
    DeclareCursor,
    ForCursor,
    Nested,
    Simple,
    Token,
    concat,
    parse_create_procedure,
)
from .sqltext import Params, qname
from .state import AFL_SCHEMA, EML_ROLE, State, Table
from .types import Column, TypeCode

if TYPE_CHECKING:
    from .catalogue import SqlSession

ADMIN = "SYSTEM"
EML_PROCS = {"EML_CHECKDESTINATION_PROC": 2, "EML_CTL_PROC": 3}  # name -> parameters
EML_ACTIONS = {"UpdateModelConfiguration"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def split_args(text: str) -> list[str]:
    """A CALL's arguments: commas outside literals and parentheses."""
    if not text.strip():
        return []
    out, depth, current = [], 0, ""
    for piece in re.findall(r"'(?:[^']|'')*'|\"[^\"]*\"|[(),]|[^'\"(),]+", text):
        if piece == "," and depth == 0:
            out.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(piece, 0)
        current += piece
    return [*out, current.strip()]


def _source(sql: str, tokens: list[Token]) -> str:
    return sql[tokens[0].pos : tokens[-1].pos + len(tokens[-1].text)] if tokens else ""


class ProcedureMixin:
    """CALL handling for :class:`~tests.hana_server.catalogue.Catalogue`."""

    _state: State
    models: list[str]

    def _table(self, s: SqlSession, token: str, privilege: str = "SELECT") -> Table:
        raise NotImplementedError

    def execute(self, session: SqlSession, sql: str, params: tuple[Any, ...] = ()) -> Outcome:
        raise NotImplementedError

    if TYPE_CHECKING:  # tests/hana_server/eml_models.py

        def _wrapper_call(self, s: SqlSession, name: str, argv: list[str]) -> Outcome | None: ...
        def _predict(self, s: SqlSession, key: tuple[str, str], argv: list[str]) -> Outcome: ...
        def _loaded_models(self) -> list[str]: ...

    def _call(self, s: SqlSession, p: Params, token: str, args: str) -> Outcome:
        schema, name = qname(token, s.schema)
        argv = split_args(args)
        if schema == "SYS" and name.startswith("AFLLANG_WRAPPER_PROCEDURE_"):
            done = self._wrapper_call(s, name, argv)
            if done is not None:
                return done
        if (schema, name) in self._state.wrappers:
            return self._predict(s, (schema, name), argv)
        if schema == AFL_SCHEMA and name in EML_PROCS:
            self._eml_allowed(s)
            if len(argv) != EML_PROCS[name]:
                raise HanaError(1281, f"wrong number or types of parameters in call: {name}")
            if name == "EML_CHECKDESTINATION_PROC":
                asked = self._input_table(s, argv[0])
                return self._output(s, argv[1], self._check_destination(asked))
            self._action(p, argv[0])
            self._input_table(s, argv[1])
            return self._output(s, argv[2], self._update_configuration())
        source = self._state.procedures.get((schema, name))
        if source is None:
            raise invalid_procedure_name(f"{schema}.{name}")
        if s.user != ADMIN and self._state.schemas.get(schema) != s.user:
            raise insufficient_privilege(f"Not authorized to execute {schema}.{name}")
        header = parse_create_procedure(source)
        if len(argv) != len(header.params):
            raise HanaError(1281, f"wrong number or types of parameters in call: {name}")
        # Definer's rights: the body runs as its owner, in the procedure's schema. Scalar
        # OUT parameters come back empty (no OUTPUTPARAMETERS part in this server).
        self._run(type(s)(s.user, schema), source, header.body, {}, {})
        return CallResult()

    def _run(
        self,
        s: SqlSession,
        sql: str,
        body: list[Any],
        cursors: dict[str, str],
        rows: dict[str, dict[str, Any]],
    ) -> None:
        for st in body:
            if isinstance(st, DeclareCursor):
                cursors[st.name] = _source(sql, st.select)
            elif isinstance(st, ForCursor):
                if st.cursor not in cursors:
                    raise HanaError(1306, f"invalid cursor: {st.cursor}")
                result = self.execute(s, cursors[st.cursor])
                assert isinstance(result, ResultSet)
                names = [c.name.upper() for c in result.columns]
                for values in list(result.rows):
                    row = dict(zip(names, values, strict=True))
                    self._run(s, sql, st.body, cursors, {**rows, st.row: row})
            elif isinstance(st, Nested):
                if st.kind != "BEGIN":
                    raise HanaError(7, f"feature not supported by the test server: {st.kind}")
                self._run(s, sql, st.body, cursors, rows)
            elif isinstance(st, Simple) and st.tokens:
                first = st.tokens[0].word
                if first in ("EXEC", "EXECUTE"):
                    start = 2 if len(st.tokens) > 1 and st.tokens[1].word == "IMMEDIATE" else 1
                    self.execute(s, concat(st.tokens[start:], rows, sql))
                elif first in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "CALL"):
                    self.execute(s, _source(sql, st.tokens))

    def _action(self, p: Params, token: str) -> str:
        """EML_CTL_PROC's first argument: a literal or a bound ``?``."""
        if token != "?" and not token.startswith("'"):
            raise syntax_error(f"EML_CTL_PROC action must be a string: {token}")
        action = str(p.value(token))
        if action not in EML_ACTIONS:
            known = ", ".join(sorted(EML_ACTIONS))
            raise HanaError(
                2048,
                f"column store error: EML_CTL_PROC: unknown action '{action}' (known: {known})",
            )
        return action

    def _input_table(self, s: SqlSession, token: str) -> Table:
        if token == "?":
            raise HanaError(7, "feature not supported: a table parameter cannot be bound to ?")
        return self._table(s, token)

    def _output(self, s: SqlSession, token: str, result: ResultSet) -> Outcome:
        if token == "?":
            return CallResult([result])
        self._table(s, token, "INSERT").rows.extend(result.rows)
        return CallResult()

    def _eml_allowed(self, s: SqlSession) -> None:
        if not self._state.afl_installed:
            raise invalid_procedure_name("_SYS_AFL.EML_CHECKDESTINATION_PROC")
        if s.user != ADMIN and not self._state.has_role(s.user, EML_ROLE):
            raise insufficient_privilege(f"Not authorized: {EML_ROLE} is not granted")
        if not self._state.script_server:
            raise HanaError(2048, "column store error: scriptserver is not running on this tenant")

    def _model_server(self) -> tuple[bool, str]:
        source = self._state.remote_sources.get("TensorFlow")
        if source is None:
            return False, 'remote source "TensorFlow" does not exist'
        if not _reachable(source.host, source.port):
            return False, f"connection to model server {source.host}:{source.port} failed"
        return True, "OK"

    def _update_configuration(self) -> ResultSet:
        columns = [
            Column("Key", TypeCode.NVARCHAR, 256),
            Column("Value", TypeCode.INTEGER, 10),
            Column("Text", TypeCode.NVARCHAR),
        ]
        ok, text = self._model_server()
        if ok:
            self._state.eml_loaded = self._loaded_models()
        return ResultSet(columns, [("Status", 0 if ok else 1, text)])

    def _check_destination(self, asked: Table) -> ResultSet:
        """The output table as SAP's TechEd 2018 DAT364 exercise 7.1 declares it
        (github.com/cmog/TechEd2018_DAT364, MLLAB_Exercise_7.1.sql: ("Code" VARCHAR(10),
        "Longtext" VARCHAR(100))), one row per model asked for ('Model', NAME[%signature]
        or '*'). What HANA writes into it is not published: these codes and texts are the
        test server's own, so the product may show them, never depend on them."""
        columns = [Column("Code", TypeCode.VARCHAR, 10), Column("Longtext", TypeCode.VARCHAR, 100)]
        ok, text = self._model_server()
        wanted = [str(r[1]).partition("%")[0] for r in asked.rows if r and r[0] == "Model"]
        known = [*self.models, *(m for m in self._state.eml_loaded if m not in self.models)]
        names = known if "*" in wanted or not wanted else wanted
        rows: list[tuple[Any, ...]] = [
            ("OK", f"{m}: ready")
            if ok and m in known
            else ("ERROR", f"{m}: {text if not ok else 'not configured'}")
            for m in names
        ]
        return ResultSet(columns, rows)
