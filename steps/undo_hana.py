"""How `emlsetup undo` reverses step 7 and the models `emlsetup model add` made, as data:
SQL, each statement after a catalogue lookup that shows its object is there.

Order: the models first (their wrappers, tables and types live in EML_DATA), then step 7's
objects in reverse, the schema only when nothing else is in it (DROP SCHEMA ... RESTRICT:
"drops the schema only when dependent objects do not exist", SAP HANA SQL reference, DROP
SCHEMA), then the remote source, then the grants SYSTEM gave (REVOKE <role> FROM <grantee>,
REVOKE <privilege>,... ON <object> FROM <grantee>, SAP HANA SQL reference, REVOKE). Nothing
is dropped with CASCADE: what an admin made in EML_DATA by hand stays.
"""

from __future__ import annotations

from typing import Literal

from checks.spec import FileHasLine, SqlCount
from steps.core.model import DropModelObjects, RemoveModelEntry, Sql, Undo
from steps.models.hana_sql import CONFIG_TABLE, COUNT_OBJECT, COUNT_PROCEDURE, COUNT_ROW, SCHEMA
from steps.step6_start_serving import CONFIG
from steps.step7_configure_eml import (
    CREATOR_ROLE,
    CREATOR_ROLE_GRANTED,
    REMOTE_SOURCE,
    ROLE,
    ROLE_GRANTED,
)

Role = Literal["system", "ml_user"]
_PRIVILEGES = "SELECT, UPDATE, DELETE, INSERT"


def _count(
    name: str,
    role: Role,
    query: str,
    *params: str,
    expect: int = 1,
    op: Literal["==", ">="] = ">=",
) -> SqlCount:
    return SqlCount(name=name, role=role, query=query, params=list(params), count_column=True,
                    op=op, expect=expect)  # fmt: skip


def _table(name: str) -> SqlCount:
    return _count(f"{SCHEMA}.{name} exists", "ml_user", COUNT_OBJECT, SCHEMA, name)


def _procedure(name: str) -> SqlCount:
    return _count(f"{SCHEMA}.{name} exists", "ml_user", COUNT_PROCEDURE, SCHEMA, name)


def _sql(id: str, statement: str, only_if: SqlCount, role: Role = "ml_user") -> Sql:
    return Sql(id=id, title=statement, role=role, statements=[statement], only_if=[only_if],
               idempotent=True)  # fmt: skip


# HANA must answer as both users before anything of step 7 can be told gone or not.
READS = [
    _count("HANA answers as {system_user}", "system",
           'SELECT COUNT(*) FROM "SYS"."USERS" WHERE USER_NAME = ?', "{ml_user}", expect=0),
    _count("HANA answers as {ml_user}", "ml_user",
           'SELECT COUNT(*) FROM "SYS"."SCHEMAS" WHERE SCHEMA_NAME = ?', SCHEMA, expect=0),
]  # fmt: skip


def _drop(kind: str, name: str) -> Sql:
    check = _procedure(name) if kind == "PROCEDURE" else _table(name)
    ident = "".join(c for c in name.lower() if c.isalnum() or c == "_")
    return _sql(f"drop-{ident}", f"DROP {kind} {SCHEMA}.{name}", check)


_M = "{model_upper}"
MODELS = [
    Undo(
        per_model=True,
        reverses=["PREDICT wrapper"],
        title="Drop the PREDICT wrapper of {model}, its tables and table types",
        reads=READS,
        present_when=[
            _procedure(f"PREDICT_{_M}"),
            *[_table(f"{_M}_{t}") for t in ("SIGNATURE", "PARAMS", "OUTPUT")],
        ],
        do=[
            DropModelObjects(
                id="drop-model", title="drop the wrapper, tables and types", model="{model}"
            )
        ],
    ),  # fmt: skip
    Undo(
        per_model=True,
        reverses=["HANA model row"],
        title="Delete the row of {model} from " + CONFIG_TABLE,
        reads=READS,
        present_when=[
            _count("{model} in " + CONFIG_TABLE, "ml_user", COUNT_ROW, "{model}", "RemoteSource")
        ],  # fmt: skip
        do=[
            _sql(
                "delete-model-row",
                f"DELETE FROM {CONFIG_TABLE} WHERE \"Model\" = '{{model}}'",
                _count(
                    "{model} in " + CONFIG_TABLE, "ml_user", COUNT_ROW, "{model}", "RemoteSource"
                ),
            )
        ],  # fmt: skip
    ),
    Undo(
        per_model=True,
        reverses=["config.cnf"],
        title="Take {model} out of " + CONFIG,
        present_when=[
            FileHasLine(
                name="config.cnf lists {model}",
                path=CONFIG,
                line='name: "{model}"',
                alike=r'name:\s*"{model}"',
            )
        ],
        do=[
            RemoveModelEntry(
                id="config-entry",
                title="remove {model} from config.cnf",
                path=CONFIG,
                model="{model}",
            )
        ],
    ),  # fmt: skip
]

STEP7 = [
    *MODELS,
    Undo(
        reverses=["check-params-row"],
        title="Delete the ('Model', '*') row of CHECK_PARAMS",
        reads=READS,
        present_when=[
            _count(
                "the ('Model', '*') row",
                "ml_user",
                f'SELECT COUNT(*) FROM "{SCHEMA}"."CHECK_PARAMS" WHERE "Parameter" = ?',
                "Model",
            )
        ],
        do=[
            Sql(
                id="delete-check-row",
                title="delete the row",
                role="ml_user",
                idempotent=True,
                statements=[
                    f"DELETE FROM {SCHEMA}.CHECK_PARAMS WHERE \"Parameter\" = 'Model' "
                    "AND \"Value\" = '*'"
                ],
            )
        ],
    ),  # fmt: skip
    *[
        Undo(
            reverses=[action],
            title=f"Drop {SCHEMA}.{name}",
            reads=READS,
            present_when=[_procedure(name) if kind == "PROCEDURE" else _table(name)],
            do=[_drop(kind, name)],
        )  # fmt: skip
        for action, kind, name in (
            ("check-params-table", "TABLE", "CHECK_PARAMS"),
            ("procedure", "PROCEDURE", "UPDATE_CONFIGURATION"),
            ("result-table", "TABLE", "UPDATE_CONFIGURATION_RESULT"),
            ("params-table", "TABLE", "UPDATE_CONFIGURATION_PARAMS"),
        )
    ],
    Undo(
        reverses=["schema"],
        title=f"Drop the schema {SCHEMA}",
        reads=READS,
        present_when=[
            _count(
                f"schema {SCHEMA} exists",
                "ml_user",
                'SELECT COUNT(*) FROM "SYS"."SCHEMAS" WHERE SCHEMA_NAME = ?',
                SCHEMA,
            )
        ],
        ours_when=[
            _count(
                f"{SCHEMA} holds no other table",
                "ml_user",
                'SELECT COUNT(*) FROM "SYS"."TABLES" WHERE SCHEMA_NAME = ?',
                SCHEMA,
                expect=0,
                op="==",
            ),
            _count(
                f"{SCHEMA} holds no other procedure",
                "ml_user",
                'SELECT COUNT(*) FROM "SYS"."PROCEDURES" WHERE SCHEMA_NAME = ?',
                SCHEMA,
                expect=0,
                op="==",
            ),
        ],
        do=[
            Sql(
                id="drop-schema",
                title="drop the schema",
                role="ml_user",
                idempotent=True,
                statements=[f"DROP SCHEMA {SCHEMA} RESTRICT"],
            )
        ],
    ),  # fmt: skip
    Undo(
        reverses=["remote-source"],
        title='Drop the remote source "TensorFlow"',
        reads=READS,
        present_when=[REMOTE_SOURCE],
        do=[_sql("drop-remote-source", 'DROP REMOTE SOURCE "TensorFlow"', REMOTE_SOURCE)],
    ),
    Undo(
        reverses=["grant-config"],
        title="Revoke {ml_user}'s access to " + CONFIG_TABLE,
        reads=READS,
        present_when=[
            _count(
                "{ml_user} may change " + CONFIG_TABLE,
                "system",
                'SELECT COUNT(*) FROM "SYS"."GRANTED_PRIVILEGES" WHERE GRANTEE = ? '
                "AND SCHEMA_NAME = ? AND OBJECT_NAME = ?",
                "{ml_user}",
                "_SYS_AFL",
                "EML_MODEL_CONFIGURATION",
            )
        ],
        do=[
            Sql(
                id="revoke-config",
                title="revoke",
                role="system",
                idempotent=True,
                statements=[f"REVOKE {_PRIVILEGES} ON {CONFIG_TABLE} FROM {{ml_user}}"],
            )
        ],
    ),  # fmt: skip
    Undo(
        reverses=["grant-creator-role"],
        title=f"Revoke {CREATOR_ROLE} from {{ml_user}}",
        reads=READS,
        present_when=[CREATOR_ROLE_GRANTED],
        do=[
            _sql(
                "revoke-creator-role",
                f"REVOKE {CREATOR_ROLE} FROM {{ml_user}}",
                CREATOR_ROLE_GRANTED,
                "system",
            )
        ],  # fmt: skip
    ),
    Undo(
        reverses=["grant-role"],
        title=f"Revoke {ROLE} from {{ml_user}}",
        reads=READS,
        present_when=[ROLE_GRANTED],
        do=[_sql("revoke-role", f"REVOKE {ROLE} FROM {{ml_user}}", ROLE_GRANTED, "system")],
    ),
]

UNDO = {7: STEP7}
