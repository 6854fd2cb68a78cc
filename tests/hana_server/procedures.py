"""Procedure calls: the user's UPDATE_CONFIGURATION and the EML AFL procedures.

``CALL UPDATE_CONFIGURATION()`` (a procedure whose body calls
``_SYS_AFL.EML_CTL_PROC('UpdateModelConfiguration', ...)``) and
``CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(CHECK_PARAMS, ?)`` need the role
AFL__SYS_AFL_EML_EXECUTE, the Script Server, and a "TensorFlow" remote source whose
(host, port) accepts a TCP connection at call time.
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
from .sqltext import Params, qname
from .state import AFL_SCHEMA, EML_ROLE, State, Table
from .types import Column, TypeCode

if TYPE_CHECKING:
    from .catalogue import SqlSession

ADMIN = "SYSTEM"
EML_PROCS = {"EML_CHECKDESTINATION_PROC", "EML_CTL_PROC"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


class ProcedureMixin:
    """CALL handling for :class:`~tests.hana_server.catalogue.Catalogue`."""

    _state: State
    models: list[str]

    def _table(self, s: SqlSession, token: str, privilege: str = "SELECT") -> Table:
        raise NotImplementedError

    def _call(self, s: SqlSession, p: Params, token: str, args: str) -> Outcome:
        schema, name = qname(token, s.schema)
        if schema == AFL_SCHEMA and name in EML_PROCS:
            self._eml_allowed(s)
            argv = [a.strip() for a in args.split(",")]
            if name == "EML_CHECKDESTINATION_PROC":
                self._table(s, argv[0])
                return CallResult([self._check_destination()])
            if len(argv) < 3:
                raise syntax_error("EML_CTL_PROC needs (action, params, result)")
            self._update_configuration(s, argv[2])
            return CallResult()
        body = self._state.procedures.get((schema, name))
        if body is None:
            raise invalid_procedure_name(f"{schema}.{name}")
        if s.user != ADMIN and self._state.schemas.get(schema) != s.user:
            raise insufficient_privilege(f"Not authorized to execute {schema}.{name}")
        if "EML_CTL_PROC" in body.upper() and "UPDATEMODELCONFIGURATION" in body.upper():
            self._eml_allowed(s)
            result = re.search(r"UpdateModelConfiguration'+ ?, ?\w+ ?, ?(\w+)", body, re.I)
            target = result.group(1) if result else "UPDATE_CONFIGURATION_RESULT"
            self._update_configuration(type(s)(s.user, schema), target)
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

    def _update_configuration(self, s: SqlSession, result_table: str) -> None:
        table = self._table(s, result_table, "INSERT")
        ok, text = self._model_server()
        table.rows.append(("Status", 0 if ok else 1, text))

    def _check_destination(self) -> ResultSet:
        columns = [Column("Model", TypeCode.NVARCHAR, 256), Column("Status", TypeCode.NVARCHAR)]
        ok, text = self._model_server()
        rows: list[tuple[Any, ...]] = [(m, "OK") for m in self.models] if ok else [("*", text)]
        return ResultSet(columns, rows)
