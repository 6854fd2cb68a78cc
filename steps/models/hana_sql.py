"""The SQL of a model in HANA, after SAP's EML tutorials:

- registration: a row ("Model", "Parameter", "Value") = (NAME, 'RemoteSource', 'TensorFlow')
  in ``_SYS_AFL.EML_MODEL_CONFIGURATION`` (sap-tutorials mlb-hxe-tensorflow-iris step 5;
  github.com/kshinkub/handson_20180307 eml_register_model.sql names the columns), then EML's
  configuration reload (step 7's ``EML_DATA.UPDATE_CONFIGURATION``, Status 0 OK);
- the PREDICT wrapper (mlb-hxe-tensorflow-iris step 6): a table type for the parameters
  ("Parameter"/"Value"), one per input tensor, one for the outputs; a signature table
  (POSITION INTEGER, SCHEMA_NAME NVARCHAR(256), TYPE_NAME NVARCHAR(256), PARAMETER_TYPE
  VARCHAR(7)) with rows 1 params 'in', 2..n+1 the inputs 'in', n+2 the output 'out'; and
  ``CALL SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE('EML', 'PREDICT', schema, procedure, table)``
  (``SYS.AFLLANG_WRAPPER_PROCEDURE_DROP(schema, procedure)`` removes it);
- a call: parameters ('Model', 'NAME%signature') (hxe-aws-eml-05: 'iris%predict'; "By
  default the serving_default model signature is used"), ('RemoteSource', 'TensorFlow'),
  ('Deadline', ms) and ``CALL EML_DATA.PREDICT_NAME(params, inputs..., output) WITH
  OVERVIEW``; the output rows come in the order of the input rows (hxe-aws-eml-05).

Nothing reaches the SQL text unchecked: object names come from a model name that
:func:`check_name` passed (letters, digits, _), a column name is a delimited identifier
made by :func:`ident` from a tensor alias that hana_types.ALIAS_RE passed, and every value
is a string literal made by :func:`string` (a quote doubled, as SQL writes it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from steps.models.hana_types import Layout

SCHEMA = "EML_DATA"
SOURCE = "TensorFlow"
CONFIG_TABLE = "_SYS_AFL.EML_MODEL_CONFIGURATION"
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
# 'NAME%signature' goes into a VARCHAR(100) "Value" with the model name (at most 40).
SIGNATURE_RE = re.compile(r"[A-Za-z0-9_.-]{1,59}")
PARAMS_COLUMNS = '"Parameter" VARCHAR(100), "Value" VARCHAR(100)'
SIGNATURE_COLUMNS = (
    "POSITION INTEGER, SCHEMA_NAME NVARCHAR(256), TYPE_NAME NVARCHAR(256), "
    "PARAMETER_TYPE VARCHAR(7)"
)


def check_name(name: str) -> str | None:
    """None for a usable model name, else the sentence."""
    if NAME_RE.fullmatch(name):
        return None
    shown = repr(name) if len(name) <= 60 else f"{name[:40] + '...'!r} ({len(name)} characters)"
    return (
        f"model name {shown}: use a letter, then letters, digits or _ (at most 40): it "
        "names the folder, the TF Serving model and HANA objects"
    )


def check_signature(name: str) -> str | None:
    if SIGNATURE_RE.fullmatch(name):
        return None
    return (
        f"signature name {name!r} cannot go into EML's 'Model' parameter (NAME%signature): "
        "export the model with a signature named with letters, digits, _, . or - (at most 59)"
    )


def ident(name: str) -> str:
    """A column name as a delimited identifier (its case kept)."""
    if not re.fullmatch(r"[A-Za-z0-9_]{1,127}", name):
        raise ValueError(f"not a checked column name: {name!r}")
    return f'"{name}"'


def string(value: str) -> str:
    """A SQL string literal."""
    if any(ord(c) < 0x20 for c in value):
        raise ValueError("a control character in a SQL string")
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Objects:
    """The HANA objects of one model, all in EML_DATA."""

    model: str

    def __post_init__(self) -> None:
        if check_name(self.model):
            raise ValueError(check_name(self.model))

    @property
    def stem(self) -> str:
        return self.model.upper()

    @property
    def params_type(self) -> str:
        return f"TT_{self.stem}_PARAMS"

    def input_type(self, i: int) -> str:
        return f"TT_{self.stem}_INPUT_{i}"

    @property
    def output_type(self) -> str:
        return f"TT_{self.stem}_OUTPUT"

    @property
    def signature_table(self) -> str:
        return f"{self.stem}_SIGNATURE"

    @property
    def procedure(self) -> str:
        return f"PREDICT_{self.stem}"

    @property
    def params_table(self) -> str:
        return f"{self.stem}_PARAMS"

    def input_table(self, i: int) -> str:
        return f"{self.stem}_INPUT_{i}"

    @property
    def output_table(self) -> str:
        return f"{self.stem}_OUTPUT"

    def input_tables(self, n: int) -> list[str]:
        return [self.input_table(i) for i in range(1, n + 1)]

    def types(self, lay: Layout) -> list[tuple[str, str]]:
        """(name, column list) of the table types, in the wrapper's parameter order."""
        ins = [(self.input_type(i + 1), _columns(t)) for i, t in enumerate(lay.inputs)]
        return [(self.params_type, PARAMS_COLUMNS), *ins, (self.output_type, _columns(lay.outputs))]

    def tables(self, lay: Layout) -> list[tuple[str, str]]:
        """(name, column list) of the signature table and of the tables a call uses."""
        (_, params), *ins, (_, outs) = self.types(lay)
        inputs = [(self.input_table(i + 1), cols) for i, (_, cols) in enumerate(ins)]
        return [
            (self.signature_table, SIGNATURE_COLUMNS),
            (self.params_table, params),
            *inputs,
            (self.output_table, outs),
        ]

    def owns(self, name: str) -> bool:
        """Is this table or type name one of this model's (earlier layouts' included)?"""
        s = re.escape(self.stem)
        return bool(re.fullmatch(rf"(TT_)?{s}_(PARAMS|OUTPUT|INPUT(_\d+)?)|{s}_SIGNATURE", name))

    def signature_rows(self, n_inputs: int) -> list[str]:
        t = f"{SCHEMA}.{self.signature_table}"
        types = [self.params_type, *(self.input_type(i) for i in range(1, n_inputs + 1))]
        rows = [(pos, name, "in") for pos, name in enumerate(types, start=1)]
        rows.append((n_inputs + 2, self.output_type, "out"))
        return [
            f"INSERT INTO {t} VALUES ({pos}, {string(SCHEMA)}, {string(name)}, {string(kind)})"
            for pos, name, kind in rows
        ]

    def create_wrapper(self) -> str:
        return (
            f"CALL SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE('EML', 'PREDICT', {string(SCHEMA)}, "
            f"{string(self.procedure)}, {SCHEMA}.{self.signature_table})"
        )

    def drop_wrapper(self) -> str:
        return (
            f"CALL SYS.AFLLANG_WRAPPER_PROCEDURE_DROP({string(SCHEMA)}, {string(self.procedure)})"
        )

    def model_value(self, signature: str) -> str:
        """The 'Model' parameter: NAME%signature."""
        if check_signature(signature):
            raise ValueError(check_signature(signature))
        return f"{self.model}%{signature}"

    def param_rows(self, signature: str, deadline_ms: int) -> list[str]:
        t = f"{SCHEMA}.{self.params_table}"
        values = [
            ("Model", self.model_value(signature)),
            ("RemoteSource", SOURCE),
            ("Deadline", str(int(deadline_ms))),
        ]
        return [
            f"TRUNCATE TABLE {t}",
            *(f"INSERT INTO {t} VALUES ({string(k)}, {string(v)})" for k, v in values),
        ]

    def call(self, n_inputs: int) -> str:
        tables = [self.params_table, *self.input_tables(n_inputs), self.output_table]
        args = ", ".join(f"{SCHEMA}.{t}" for t in tables)
        return f"CALL {SCHEMA}.{self.procedure}({args}) WITH OVERVIEW"


def _columns(columns: tuple[object, ...]) -> str:
    return ", ".join(f"{ident(c.name)} {c.sql}" for c in columns)  # type: ignore[attr-defined]


def register(model: str) -> str:
    return (
        f"INSERT INTO {CONFIG_TABLE} VALUES ({string(Objects(model).model)}, "
        f"'RemoteSource', {string(SOURCE)})"
    )


def unregister(model: str) -> str:
    return f'DELETE FROM {CONFIG_TABLE} WHERE "Model" = {string(Objects(model).model)}'


RELOAD = [
    f"SET SCHEMA {SCHEMA}",
    "TRUNCATE TABLE UPDATE_CONFIGURATION_RESULT",
    "CALL UPDATE_CONFIGURATION()",
    "SELECT * FROM UPDATE_CONFIGURATION_RESULT",
]
COUNT_ROW = f'SELECT COUNT(*) FROM {CONFIG_TABLE} WHERE "Model" = ? AND "Parameter" = ?'
MODEL_ROWS = f'SELECT "Model" FROM {CONFIG_TABLE} WHERE "Parameter" = ?'
COUNT_OBJECT = 'SELECT COUNT(*) FROM "SYS"."TABLES" WHERE SCHEMA_NAME = ? AND TABLE_NAME = ?'
SCHEMA_OBJECTS = 'SELECT TABLE_NAME, IS_USER_DEFINED_TYPE FROM "SYS"."TABLES" WHERE SCHEMA_NAME = ?'
TABLE_COLUMNS = (
    'SELECT COLUMN_NAME, DATA_TYPE_NAME, POSITION FROM "SYS"."TABLE_COLUMNS" WHERE '
    "SCHEMA_NAME = ? AND TABLE_NAME = ?"
)
COUNT_PROCEDURE = (
    'SELECT COUNT(*) FROM "SYS"."PROCEDURES" WHERE SCHEMA_NAME = ? AND PROCEDURE_NAME = ?'
)
# AFLLANG_WRAPPER_PROCEDURE_CREATE / _DROP need this role (SAP tutorial mlb-hxe-setup-basic
# step 4 grants it to ML_USER; SAS's in-database guide for HANA lists it for publishing
# AFL procedures from SPS09 on).
CREATOR_ERASER_ROLE = "AFLPM_CREATOR_ERASER_EXECUTE"
HAS_ROLE = 'SELECT COUNT(*) FROM "SYS"."GRANTED_ROLES" WHERE GRANTEE = ? AND ROLE_NAME = ?'
# SAP HANA SQL reference, M_DATABASE: VERSION is e.g. 2.00.030.00.1522209842 (SPS03).
HANA_VERSION = 'SELECT VERSION FROM "SYS"."M_DATABASE"'
