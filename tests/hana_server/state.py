"""The simulated database state, and the SYS views computed from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .types import Column, TypeCode

EML_ROLE = "AFL__SYS_AFL_EML_EXECUTE"
#: Creating and dropping AFL wrapper procedures needs it (SAP tutorial mlb-hxe-setup-basic,
#: step 4: "GRANT AFLPM_CREATOR_ERASER_EXECUTE TO ML_USER"; SAS's in-database guide for
#: SAP HANA: "AFLPM_CREATOR_ERASER_EXECUTE" to publish AFL procedures from SPS09 on).
CREATOR_ERASER_ROLE = "AFLPM_CREATOR_ERASER_EXECUTE"
AFL_SCHEMA = "_SYS_AFL"
EML_CONFIG_TABLE = "EML_MODEL_CONFIGURATION"
EML_FUNCTION_NAMES = [
    "CHECKDESTINATION",
    "CTL",
    "PREDICT",
    "PREDICT_WITH_TENSORS",
    "REGRESS",
    "CLASSIFY",
]


@dataclass
class Table:
    """A user table: its columns, rows and owner."""

    columns: list[Column]
    owner: str
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class RemoteSource:
    """A remote source (only the grpc adapter's server and port matter)."""

    adapter: str
    host: str
    port: int
    owner: str


@dataclass
class State:
    """Everything statements can change. Names are stored in catalogue spelling."""

    afl_installed: bool = True
    afl_functions: int = 6
    script_server: bool = True
    users: set[str] = field(default_factory=set)
    roles: set[tuple[str, str]] = field(default_factory=set)  # (grantee, role)
    # (grantee, schema, object, privilege); schema/object "" for system privileges
    privileges: set[tuple[str, str, str, str]] = field(default_factory=set)
    schemas: dict[str, str] = field(default_factory=dict)  # name -> owner
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    procedures: dict[tuple[str, str], str] = field(default_factory=dict)  # -> body
    remote_sources: dict[str, RemoteSource] = field(default_factory=dict)
    # System privileges SYSTEM holds (EFFECTIVE_PRIVILEGES); ROLE ADMIN lets it grant roles.
    admin_privileges: set[str] = field(default_factory=lambda: {"ROLE ADMIN", "CATALOG READ"})
    # EML models (tests/hana_server/eml_models.py)
    types: dict[tuple[str, str], Table] = field(default_factory=dict)  # CREATE TYPE ... AS TABLE
    wrappers: dict[tuple[str, str], list[tuple[str, str, str]]] = field(default_factory=dict)
    eml_loaded: list[str] = field(default_factory=list)  # read by UpdateModelConfiguration
    # M_DATABASE.VERSION: 2.00.045 is HANA 2 SPS04 (HANA version numbers: 2.00.<SPS><rev>).
    version: str = "2.00.045.00.1575639312"

    def has_role(self, user: str, role: str) -> bool:
        """Is ``role`` granted to ``user``?"""
        return (user, role) in self.roles


def _nv(name: str, length: int = 256) -> Column:
    return Column(name, TypeCode.NVARCHAR, length)


def _big(name: str) -> Column:
    return Column(name, TypeCode.BIGINT, 19)


View = tuple[list[Column], list[tuple[Any, ...]]]


def _afl_areas(s: State) -> View:
    rows = [(1001, "EML", "2.0")] if s.afl_installed else []
    return [_big("AREA_OID"), _nv("AREA_NAME"), _nv("SDK_VERSION")], rows


def _afl_packages(s: State) -> View:
    rows = [("EML", 1002, "EML", "2.0")] if s.afl_installed else []
    cols = [_nv("AREA_NAME"), _big("PACKAGE_OID"), _nv("PACKAGE_NAME"), _nv("PACKAGE_VERSION")]
    return cols, rows


def _afl_functions(s: State) -> View:
    names = [*EML_FUNCTION_NAMES, *(f"FUNCTION_{i}" for i in range(7, s.afl_functions + 1))]
    rows = (
        [("EML", "EML", names[i], 2000 + i) for i in range(s.afl_functions)]
        if s.afl_installed
        else []
    )
    cols = [_nv("AREA_NAME"), _nv("PACKAGE_NAME"), _nv("FUNCTION_NAME"), _big("FUNCTION_OID")]
    return cols, rows


def _granted_roles(s: State) -> View:
    rows = sorted((g, "USER", r, "SYSTEM") for g, r in s.roles)
    cols = [_nv("GRANTEE"), _nv("GRANTEE_TYPE"), _nv("ROLE_NAME"), _nv("GRANTOR")]
    return cols, rows


def _granted_privileges(s: State) -> View:
    rows = [
        (g, "USER", sch or None, obj or None, "TABLE" if obj else "SYSTEMPRIVILEGE", p)
        for g, sch, obj, p in sorted(s.privileges)  # system privileges have no schema (NULL)
    ]
    cols = [
        _nv("GRANTEE"),
        _nv("GRANTEE_TYPE"),
        _nv("SCHEMA_NAME"),
        _nv("OBJECT_NAME"),
        _nv("OBJECT_TYPE"),
        _nv("PRIVILEGE"),
    ]
    return cols, rows


def _remote_sources(s: State) -> View:
    rows = [(n, r.adapter, "", r.owner) for n, r in sorted(s.remote_sources.items())]
    return [
        _nv("REMOTE_SOURCE_NAME"),
        _nv("ADAPTER_NAME"),
        _nv("CONNECTION_INFO"),
        _nv("OWNER_NAME"),
    ], rows


def _schemas(s: State) -> View:
    return [_nv("SCHEMA_NAME"), _nv("SCHEMA_OWNER")], sorted(s.schemas.items())


def _tables(s: State) -> View:
    # Table types are in SYS.TABLES too, with IS_USER_DEFINED_TYPE 'TRUE' (as in HANA).
    rows = sorted((sch, name, "COLUMN", "FALSE") for (sch, name) in s.tables)
    rows += sorted((sch, name, "ROW", "TRUE") for (sch, name) in s.types)
    cols = [_nv("SCHEMA_NAME"), _nv("TABLE_NAME"), _nv("TABLE_TYPE"), _nv("IS_USER_DEFINED_TYPE")]
    return cols, rows


def _table_columns(s: State) -> View:
    # A table type's columns are listed like a table's (it is in SYS.TABLES too). No public
    # source shows whether HANA does: the product does not depend on it (a type whose
    # columns it cannot read is made again, steps/models/wrapper.py).
    rows = [
        (sch, name, c.name, i + 1, c.type_code.name)
        for (sch, name), t in sorted({**s.tables, **s.types}.items())
        for i, c in enumerate(t.columns)
    ]
    cols = [_nv("SCHEMA_NAME"), _nv("TABLE_NAME"), _nv("COLUMN_NAME"), _big("POSITION")]
    return [*cols, _nv("DATA_TYPE_NAME")], rows


def _procedures(s: State) -> View:
    rows = sorted((sch, name) for (sch, name) in s.procedures)
    return [_nv("SCHEMA_NAME"), _nv("PROCEDURE_NAME")], rows


def _users(s: State) -> View:
    return [_nv("USER_NAME")], sorted((u,) for u in s.users)


def _volumes(s: State) -> View:
    return [Column("VOLUME_ID", TypeCode.INTEGER, 10), _nv("SERVICE_NAME")], [(2, "indexserver")]


def _services(s: State) -> View:
    """M_SERVICES of the tenant (SAP HANA SQL reference, "M_SERVICES System View"): the
    scriptserver row exists only once `ALTER DATABASE <tenant> ADD 'scriptserver'` ran."""
    names = ["indexserver", *(["scriptserver"] if s.script_server else [])]
    rows = [
        ("hxehost", 39040 + 2 * i, name, 4000 + i, "", "YES", 39041 + 2 * i, "NONE")
        for i, name in enumerate(names)
    ]
    cols = [
        _nv("HOST", 64),
        Column("PORT", TypeCode.INTEGER, 10),
        _nv("SERVICE_NAME", 32),
        Column("PROCESS_ID", TypeCode.INTEGER, 10),
        _nv("DETAIL"),
        _nv("ACTIVE_STATUS", 16),
        Column("SQL_PORT", TypeCode.INTEGER, 10),
        _nv("COORDINATOR_TYPE", 16),
    ]
    return cols, rows


def _database(s: State) -> View:
    """M_DATABASE (SAP HANA SQL reference, "M_DATABASE System View"): one row."""
    cols = [_nv("SYSTEM_ID", 3), _nv("DATABASE_NAME", 256), _nv("HOST", 64), _nv("VERSION", 32)]
    return cols, [("HXE", "HXE", "hxehost", s.version)]


def _effective_privileges(s: State) -> View:
    """EFFECTIVE_PRIVILEGES (SAP HANA SQL reference): one row per privilege a user holds,
    directly or through a role; system privileges have OBJECT_TYPE SYSTEMPRIVILEGE."""
    held = {("SYSTEM", "", "", p, "TRUE") for p in s.admin_privileges}
    held |= {(g, sch, obj, p, "FALSE") for g, sch, obj, p in s.privileges}
    rows = sorted(
        (u, u, "USER", "TABLE" if o else "SYSTEMPRIVILEGE", sch or None, o or None, p, g, "TRUE")
        for u, sch, o, p, g in held
    )
    cols = [
        _nv("USER_NAME"),
        _nv("GRANTEE"),
        _nv("GRANTEE_TYPE"),
        _nv("OBJECT_TYPE"),
        _nv("SCHEMA_NAME"),
        _nv("OBJECT_NAME"),
        _nv("PRIVILEGE"),
        _nv("IS_GRANTABLE", 5),
        _nv("IS_VALID", 5),
    ]
    return cols, rows


#: The SYS views the test server knows, computed from the state on every query.
SYS_VIEWS: dict[str, Callable[[State], View]] = {
    "AFL_AREAS": _afl_areas,
    "AFL_PACKAGES": _afl_packages,
    "AFL_FUNCTIONS": _afl_functions,
    "GRANTED_ROLES": _granted_roles,
    "GRANTED_PRIVILEGES": _granted_privileges,
    "REMOTE_SOURCES": _remote_sources,
    "SCHEMAS": _schemas,
    "TABLES": _tables,
    "TABLE_COLUMNS": _table_columns,
    "PROCEDURES": _procedures,
    "USERS": _users,
    "M_VOLUMES": _volumes,
    "M_SERVICES": _services,
    "EFFECTIVE_PRIVILEGES": _effective_privileges,
    "M_DATABASE": _database,
}
