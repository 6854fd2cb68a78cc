"""The simulated HANA tenant: configuration, state, and the statements it understands.

Statements are recognised by pattern (see :mod:`.sqltext`), not executed by a SQL engine.
Anything unrecognised is error 257 (sql syntax error) so a test notices new SQL at once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .coltypes import column_type
from .eml_models import EmlModelMixin
from .framing import FunctionCode
from .procedures import ADMIN, ProcedureMixin
from .results import (
    HanaError,
    Outcome,
    ResultSet,
    RowCount,
    duplicate_name,
    duplicate_table,
    insufficient_privilege,
    invalid_procedure_name,
    invalid_schema_name,
    invalid_table_name,
    syntax_error,
)
from .sqlscript import parse_create_procedure, syntax_error_near
from .sqltext import IDENT, QNAME, Params, count_placeholders, ident, normalise, parse_where, qname
from .sqltext import split_values as _values
from .state import (
    AFL_SCHEMA,
    CREATOR_ERASER_ROLE,
    EML_CONFIG_TABLE,
    EML_ROLE,
    SYS_VIEWS,
    RemoteSource,
    State,
    Table,
)
from .types import Column, TypeCode

__all__ = ["Catalogue", "SqlSession", "count_placeholders", "function_code_for"]

SYSTEM_PRIVILEGES = {"CREATE REMOTE SOURCE", "CREATE SCHEMA", "CATALOG READ", "DATA ADMIN"}
#: What the ML user holds before step 7: the system privileges the "Prepare your SAP HANA,
#: express edition instance for Machine Learning" tutorial grants it
#: (https://developers.sap.com/tutorials/mlb-hxe-setup-basic.html), which step 7's CREATE
#: REMOTE SOURCE and CREATE SCHEMA need.
ML_USER_PRIVILEGES = ("CREATE REMOTE SOURCE", "CREATE SCHEMA", "CATALOG READ", "DATA ADMIN")


@dataclass
class SqlSession:
    """Who is connected and their current schema (SET SCHEMA)."""

    user: str
    schema: str


def function_code_for(sql: str) -> int:
    """The reply function code a statement gets (used for PREPARE replies)."""
    word = normalise(sql).lstrip("{ ").split(" ", 1)[0].upper()
    return {
        "SELECT": FunctionCode.SELECT,
        "INSERT": FunctionCode.INSERT,
        "UPDATE": FunctionCode.UPDATE,
        "DELETE": FunctionCode.DELETE,
        "CALL": FunctionCode.DBPROCEDURECALL,
    }.get(word, FunctionCode.DDL)


class Catalogue(ProcedureMixin, EmlModelMixin):
    """A HANA tenant as far as the wizard can see it. ``state`` is mutated by statements."""

    def __init__(
        self,
        tenant: str = "HXE",
        users: dict[str, str] | None = None,
        afl_installed: bool = True,
        afl_functions: int = 6,
        ml_user_has_role: bool = False,
        remote_source: tuple[str, int] | None = None,
        script_server: bool = True,
        models: list[str] | None = None,
        ml_user: str | None = None,
        ml_user_privileges: tuple[str, ...] = ML_USER_PRIVILEGES,
        ml_user_roles: tuple[str, ...] = (),  # e.g. AFLPM_CREATOR_ERASER_EXECUTE
        version: str | None = None,  # M_DATABASE.VERSION
    ) -> None:
        self.tenant = tenant
        self.users = dict(users or {ADMIN: "Manager1", "ML_USER": "Secret1"})
        self.models = list(models if models is not None else ["mnist"])
        self.ml_user = ml_user or next((u for u in self.users if u != ADMIN), ADMIN)
        self.lock = threading.RLock()
        self._state = State(afl_installed, afl_functions, script_server, set(self.users))
        for user in self.users:
            self._state.schemas[user.upper()] = user
        self._state.schemas.update({"SYS": "SYS", AFL_SCHEMA: "SYS"})
        if afl_installed:
            # ("Model", "Parameter", "Value"): github.com/kshinkub/handson_20180307
            # eml_register_model.sql; SAP tutorial hxe-aws-eml-05 inserts three values.
            cols = [
                Column("Model", TypeCode.NVARCHAR, 256),
                Column("Parameter", TypeCode.VARCHAR, 100),
                Column("Value", TypeCode.VARCHAR),
            ]
            self._state.tables[(AFL_SCHEMA, EML_CONFIG_TABLE)] = Table(cols, "SYS")
        for role in ((EML_ROLE,) if ml_user_has_role else ()) + ml_user_roles:
            self._state.roles.add((self.ml_user, role))
        if version is not None:
            self._state.version = version
        for privilege in ml_user_privileges if self.ml_user != ADMIN else ():
            self._state.privileges.add((self.ml_user, "", "", privilege))
        if remote_source is not None:
            host, port = remote_source
            self._state.remote_sources["TensorFlow"] = RemoteSource("grpc", host, port, ADMIN)
        self._sync: Callable[[], None] | None = None
        self._raw_sql = ""
        self._build_rules()

    def _build_rules(self) -> None:
        """The statement patterns and their handlers (rebuilt after unpickling)."""
        rules: list[tuple[str, Callable[..., Outcome]]] = [
            (rf"SELECT (.+?) FROM ({QNAME})(?: WHERE (.+))?", self._select),
            (rf"SET SCHEMA ({IDENT})", self._set_schema),
            (rf"GRANT (.+?) ON ({QNAME}) TO ({IDENT})", self._grant_object),
            (rf"GRANT (.+?) TO ({IDENT})", self._grant),
            (
                rf"CREATE REMOTE SOURCE ({IDENT}) ADAPTER ({IDENT}) CONFIGURATION '([^']*)'"
                r"(?: WITH CREDENTIAL TYPE '[^']*' USING '[^']*')?",
                self._create_remote_source,
            ),
            (rf"CREATE SCHEMA ({IDENT})", self._create_schema),
            (rf"CREATE (?:COLUMN |ROW )?TABLE ({QNAME}) ?\((.*)\)", self._create_table),
            (r"CREATE PROCEDURE .*", self._create_procedure),
            (rf"TRUNCATE TABLE ({QNAME})", self._truncate),
            (rf"INSERT INTO ({QNAME})(?: ?\(([^)]*)\))? VALUES ?\((.*)\)", self._insert),
            (rf"CREATE TYPE ({QNAME}) AS TABLE ?\((.*)\)", self._create_type),
            (rf"DROP TYPE ({QNAME})", self._drop_type),
            (rf"DELETE FROM ({QNAME})(?: WHERE (.+))?", self._delete),
            (rf"DROP (TABLE|PROCEDURE) ({QNAME})", self._drop_object),
            (
                rf"DROP (SCHEMA|REMOTE SOURCE) ({IDENT})(?: (CASCADE|RESTRICT))?",
                self._drop_container,
            ),
            (rf"REVOKE (.+?) ON ({QNAME}) FROM ({IDENT})", self._revoke_object),
            (rf"REVOKE (.+?) FROM ({IDENT})", self._revoke),
            (
                rf"\{{? ?CALL ({QNAME}) ?\((.*?)\)(?: WITH OVERVIEW)?(?: WITH HINT ?\(.*\))? ?\}}?",
                self._call,
            ),
        ]
        self._compiled = [(re.compile(p, re.I | re.S), f) for p, f in rules]

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (the server process gets a copy): no lock, rules or sync hook."""
        data = dict(self.__dict__)
        for key in ("lock", "_compiled", "_sync"):
            data.pop(key, None)
        return data

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)
        self.lock = threading.RLock()
        self._sync = None
        self._build_rules()

    @property
    def state(self) -> State:
        """The simulated state, brought up to date with a running server's changes."""
        if self._sync is not None:
            self._sync()
        return self._state

    @state.setter
    def state(self, value: State) -> None:
        self._state = value

    # -- users ----------------------------------------------------------------------------

    def canonical_user(self, name: str) -> str:
        """The configured spelling of a user name (login is case-insensitive here)."""
        return next((u for u in self.users if u.upper() == name.upper()), name)

    def password_of(self, name: str) -> str | None:
        """The user's password, None for an unknown user."""
        return self.users.get(self.canonical_user(name))

    def session(self, user: str) -> SqlSession:
        """A new session's context: the user's own schema is current."""
        return SqlSession(user, user.upper())

    # -- dispatch -------------------------------------------------------------------------

    def _match(self, sql: str) -> tuple[re.Match[str], Callable[..., Outcome]]:
        text = normalise(sql)
        for pattern, handler in self._compiled:
            m = pattern.fullmatch(text)
            if m:
                return m, handler
        # A known statement with something after it (CREATE REMOTE SOURCE ... 'x' junk):
        # HANA names the first token it could not take (error 257, "incorrect syntax near").
        ends = [m.end() for p, _ in self._compiled if (m := p.match(text)) and m.end() > 0]
        if ends:
            end = max(ends)
            rest = text[end:].lstrip()
            near = re.match(r"'(?:[^']|'')*'|\"[^\"]*\"|\w+|\S", rest)
            if near:
                raise syntax_error_near(text, len(text) - len(rest), near.group(0))
        raise syntax_error(sql)

    def check_syntax(self, sql: str) -> None:
        """Error 257 unless the statement is one the catalogue understands."""
        self._match(sql)

    def execute(self, session: SqlSession, sql: str, params: tuple[Any, ...] = ()) -> Outcome:
        """Run one statement for ``session``; raises :class:`HanaError`."""
        m, handler = self._match(sql)
        with self.lock:
            self._raw_sql = sql  # the statement as sent (procedure bodies keep their lines)
            return handler(session, Params(params), *m.groups())

    # -- helpers --------------------------------------------------------------------------

    def _need_admin(self, s: SqlSession, what: str) -> None:
        if s.user != ADMIN:
            raise insufficient_privilege(f"Not authorized to {what}")

    def _table(self, s: SqlSession, token: str, privilege: str = "SELECT") -> Table:
        schema, name = qname(token, s.schema)
        table = self._state.tables.get((schema, name))
        if table is None:
            raise invalid_table_name(f"{name}: line 1 col 1")
        allowed = (
            s.user == ADMIN
            or self._state.schemas.get(schema) == s.user
            or (s.user, schema, name, privilege) in self._state.privileges
        )
        if not allowed:
            raise insufficient_privilege(f"Not authorized on {schema}.{name}")
        return table

    def _view(self, s: SqlSession, token: str) -> tuple[list[Column], list[tuple[Any, ...]]]:
        schema, name = qname(token, s.schema)
        if (schema, name) in self._state.tables or (schema != "SYS" and name not in SYS_VIEWS):
            table = self._table(s, token)
            return table.columns, table.rows
        if name not in SYS_VIEWS:
            raise invalid_table_name(f"{name}: line 1 col 1")
        return SYS_VIEWS[name](self.state)

    # -- statements -----------------------------------------------------------------------

    def _select(self, s: SqlSession, p: Params, what: str, src: str, where: str | None) -> Outcome:
        columns, rows = self._view(s, src)
        if any(c.type_code == TypeCode.BLOB for c in columns) and what.strip() == "*":
            raise HanaError(7, "feature not supported: a BLOB in a result set (test server)")
        names = [c.name for c in columns]
        conds = parse_where(where or "", p)
        for c in conds:
            if c.column not in names:
                raise HanaError(260, f"invalid column name: {c.column}: line 1 col 1")
        hits = [r for r in rows if all(c.matches(dict(zip(names, r, strict=True))) for c in conds)]
        what = what.strip()
        if re.fullmatch(r"COUNT ?\( ?\* ?\)", what, re.I):
            return ResultSet([Column("COUNT(*)", TypeCode.BIGINT, 19)], [(len(hits),)])
        if what == "*":
            return ResultSet(columns, hits)
        wanted = [ident(w) for w in what.split(",")]
        missing = [w for w in wanted if w not in names]
        if missing:
            raise HanaError(260, f"invalid column name: {missing[0]}: line 1 col 8")
        idx = [names.index(w) for w in wanted]
        return ResultSet([columns[i] for i in idx], [tuple(r[i] for i in idx) for r in hits])

    def _set_schema(self, s: SqlSession, p: Params, name: str) -> Outcome:
        schema = ident(name)
        if schema not in self._state.schemas:
            raise invalid_schema_name(schema)
        s.schema = schema
        return RowCount(0)

    def _grant_object(self, s: SqlSession, p: Params, privs: str, obj: str, to: str) -> Outcome:
        self._need_admin(s, "grant privileges")
        schema, name = qname(obj, s.schema)
        if (schema, name) not in self._state.tables:
            raise invalid_table_name(f"{name}: line 1 col 1")
        grantee = self._grantee(to)
        for priv in privs.split(","):
            self._state.privileges.add((grantee, schema, name, priv.strip().upper()))
        return RowCount(0)

    def _grantee(self, token: str) -> str:
        grantee = self.canonical_user(ident(token))
        if grantee not in self._state.users:
            raise HanaError(332, f"invalid user name: {ident(token)}")
        return grantee

    def _grant(self, s: SqlSession, p: Params, what: str, to: str) -> Outcome:
        self._need_admin(s, "grant roles or privileges")
        grantee = self._grantee(to)
        what = normalise(what).upper()
        if what in (EML_ROLE, CREATOR_ERASER_ROLE) and self._state.afl_installed:
            self._state.roles.add((grantee, what))
        elif all(w.strip() in SYSTEM_PRIVILEGES for w in what.split(",")):
            for w in what.split(","):
                self._state.privileges.add((grantee, "", "", w.strip()))
        else:
            raise HanaError(389, f"invalid role name: {what}")
        return RowCount(0)

    def _need_system_privilege(self, s: SqlSession, privilege: str) -> None:
        """SAP HANA SQL Reference, CREATE SCHEMA / CREATE REMOTE SOURCE: "requires the system
        privilege ..."; without it HANA answers 258 (ERR_SQL_INSUFF_PRIV)."""
        if s.user != ADMIN and (s.user, "", "", privilege) not in self._state.privileges:
            raise insufficient_privilege(f"Not authorized: {privilege} is not granted")

    def _create_remote_source(
        self, s: SqlSession, p: Params, name: str, adapter: str, config: str
    ) -> Outcome:
        self._need_system_privilege(s, "CREATE REMOTE SOURCE")
        source = ident(name)
        if source in self._state.remote_sources:
            raise duplicate_name("remote source", source, 288)
        settings = dict(kv.split("=", 1) for kv in config.split(";") if "=" in kv)
        try:
            host, port = settings["server"].strip(), int(settings["port"])
        except (KeyError, ValueError):
            raise HanaError(403, f"invalid remote source configuration: {config}") from None
        self._state.remote_sources[source] = RemoteSource(ident(adapter), host, port, s.user)
        return RowCount(0)

    def _create_schema(self, s: SqlSession, p: Params, name: str) -> Outcome:
        self._need_system_privilege(s, "CREATE SCHEMA")
        schema = ident(name)
        if schema in self._state.schemas:
            raise duplicate_name("schema", schema, 386)
        self._state.schemas[schema] = s.user
        return RowCount(0)

    def _owned_schema(self, s: SqlSession, schema: str) -> None:
        if schema not in self._state.schemas:
            raise invalid_schema_name(schema)
        if s.user != ADMIN and self._state.schemas[schema] != s.user:
            raise insufficient_privilege(f"Not authorized to create objects in {schema}")

    def _create_table(self, s: SqlSession, p: Params, token: str, body: str) -> Outcome:
        schema, name = qname(token, s.schema)
        self._owned_schema(s, schema)
        if (schema, name) in self._state.tables:
            raise duplicate_table(name)
        columns: list[Column] = []
        for spec in re.split(r",(?![^(]*\))", body):
            m = re.match(rf"\s*({IDENT})\s+([A-Za-z]+)(?:\s*\((\d+)[^)]*\))?", spec)
            if not m:
                raise syntax_error(f"column definition {spec!r}")
            type_code = column_type(m.group(2))
            length = int(m.group(3) or (10 if type_code == TypeCode.INTEGER else 5000))
            columns.append(Column(ident(m.group(1)), type_code, length, name, schema))
        self._state.tables[(schema, name)] = Table(columns, s.user)
        return RowCount(0)

    def _create_procedure(self, s: SqlSession, p: Params) -> Outcome:
        """The body is compiled here, as HANA does: broken structure is 257 now, not at CALL."""
        header = parse_create_procedure(self._raw_sql)
        schema, name = header.name if len(header.name) == 2 else [s.schema, header.name[0]]
        self._owned_schema(s, schema)
        if (schema, name) in self._state.procedures:
            raise duplicate_name("procedure", name, 329)
        self._state.procedures[(schema, name)] = self._raw_sql
        return RowCount(0)

    def _truncate(self, s: SqlSession, p: Params, token: str) -> Outcome:
        self._table(s, token, "DELETE").rows.clear()
        return RowCount(0)

    def _insert(
        self, s: SqlSession, p: Params, token: str, cols: str | None, values: str
    ) -> Outcome:
        table = self._table(s, token, "INSERT")
        row = [p.value(v) for v in _values(values)]
        names = [c.name for c in table.columns]
        if cols:
            given = dict(zip([ident(c) for c in cols.split(",")], row, strict=False))
            row = [given.get(n) for n in names]
        if len(row) != len(names):
            raise HanaError(270, "not enough values: " + values)
        table.rows.append(tuple(row))
        return RowCount(1, FunctionCode.INSERT)

    def _drop_object(self, s: SqlSession, p: Params, kind: str, token: str) -> Outcome:
        key = qname(token, s.schema)
        store: dict[tuple[str, str], Any] = (
            self._state.tables if kind.upper() == "TABLE" else self._state.procedures
        )
        if key not in store:
            if kind.upper() == "TABLE":
                raise invalid_table_name(key[1])
            raise invalid_procedure_name(key[1])
        self._owned_schema(s, key[0])
        del store[key]
        return RowCount(0)

    def _drop_container(
        self, s: SqlSession, p: Params, kind: str, token: str, option: str | None = None
    ) -> Outcome:
        """DROP SCHEMA ... RESTRICT "drops the schema only when dependent objects do not
        exist" (SAP HANA SQL reference, DROP SCHEMA); the error code is not published: 417
        here, and the product checks the schema is empty before it asks."""
        name = ident(token)
        if kind.upper() == "SCHEMA":
            self._owned_schema(s, name)
            held = [k for store in (self._state.tables, self._state.procedures,
                                    self._state.types) for k in store if k[0] == name]  # fmt: skip
            if held and (option or "").upper() == "RESTRICT":
                raise HanaError(417, f"can't drop without CASCADE specification: {held[0][1]}")
            del self._state.schemas[name]
            for store in (self._state.tables, self._state.procedures, self._state.types):
                for key in [k for k in store if k[0] == name]:
                    del store[key]
        elif self._state.remote_sources.pop(name, None) is None:
            raise HanaError(474, f"invalid remote source name: {name}")
        return RowCount(0)

    # -- REVOKE (SAP HANA SQL reference, REVOKE: REVOKE <role>,... FROM <grantee>; REVOKE
    # <system privilege>,... FROM <grantee>; REVOKE <privilege>,... ON <object> FROM
    # <grantee>). What HANA answers for a grant that is not there is not published: nothing
    # happens here, and the product looks in GRANTED_ROLES / GRANTED_PRIVILEGES first.

    def _revoke_object(self, s: SqlSession, p: Params, privs: str, obj: str, frm: str) -> Outcome:
        self._need_admin(s, "revoke privileges")
        schema, name = qname(obj, s.schema)
        grantee = self._grantee(frm)
        for priv in privs.split(","):
            self._state.privileges.discard((grantee, schema, name, priv.strip().upper()))
        return RowCount(0)

    def _revoke(self, s: SqlSession, p: Params, what: str, frm: str) -> Outcome:
        self._need_admin(s, "revoke roles or privileges")
        grantee = self._grantee(frm)
        for w in normalise(what).upper().split(","):
            self._state.roles.discard((grantee, w.strip()))
            self._state.privileges.discard((grantee, "", "", w.strip()))
        return RowCount(0)
