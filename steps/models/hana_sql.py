"""The SQL of a model in HANA, after SAP's EML guide and tutorials:

- registration: a row ("Model", "Parameter", "Value") = (NAME, 'RemoteSource', 'TensorFlow')
  in ``_SYS_AFL.EML_MODEL_CONFIGURATION`` (SAP tutorial hxe-aws-eml-05 step 5;
  github.com/kshinkub/handson_20180307 eml_register_model.sql names the columns), then EML's
  configuration reload (step 7's ``EML_DATA.UPDATE_CONFIGURATION``, Status 0 OK) and
  ``EML_CHECKDESTINATION_PROC`` listing NAME;
- the PREDICT wrapper: three table types (parameters "Parameter"/"Value", the input
  tensors, the output tensors), a signature table (POSITION INTEGER, SCHEMA_NAME
  NVARCHAR(256), TYPE_NAME NVARCHAR(256), PARAMETER_TYPE VARCHAR(7)) with rows 1 params IN,
  2 inputs IN, 3 outputs OUT, and ``CALL SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE('EML',
  'PREDICT', schema, procedure, signature table)`` (hxe-aws-eml-05 step 6;
  ``SYS.AFLLANG_WRAPPER_PROCEDURE_DROP(schema, procedure)`` removes it);
- a call: parameters ('Model', 'NAME%signature'), ('RemoteSource', 'TensorFlow'),
  ('Deadline', ms) and ``CALL EML_DATA.PREDICT_NAME(params, input, output) WITH OVERVIEW``.

Every name built here comes from a model name checked by :func:`check_name`, so the SQL
never carries anything the admin typed unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMA = "EML_DATA"
SOURCE = "TensorFlow"
CONFIG_TABLE = "_SYS_AFL.EML_MODEL_CONFIGURATION"
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


def check_name(name: str) -> str | None:
    """None for a usable model name, else the sentence."""
    if NAME_RE.fullmatch(name):
        return None
    return (
        f"model name {name!r}: use a letter, then letters, digits or _ (at most 40): it "
        "names the folder, the TF Serving model and HANA objects"
    )


@dataclass(frozen=True)
class Objects:
    """The HANA objects of one model, all in EML_DATA."""

    model: str

    @property
    def stem(self) -> str:
        return self.model.upper()

    @property
    def params_type(self) -> str:
        return f"TT_{self.stem}_PARAMS"

    @property
    def input_type(self) -> str:
        return f"TT_{self.stem}_INPUT"

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

    @property
    def input_table(self) -> str:
        return f"{self.stem}_INPUT"

    @property
    def output_table(self) -> str:
        return f"{self.stem}_OUTPUT"

    def types(
        self, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """(name, column list) of the three table types, in signature order."""
        params = '"Parameter" VARCHAR(100), "Value" VARCHAR(100)'
        return [
            (self.params_type, params),
            (self.input_type, _columns(inputs)),
            (self.output_type, _columns(outputs)),
        ]

    def tables(
        self, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """(name, column list) of the tables a call reads and writes, and the signature's."""
        (_, params), (_, ins), (_, outs) = self.types(inputs, outputs)
        signature = (
            "POSITION INTEGER, SCHEMA_NAME NVARCHAR(256), TYPE_NAME NVARCHAR(256), "
            "PARAMETER_TYPE VARCHAR(7)"
        )
        return [
            (self.signature_table, signature),
            (self.params_table, params),
            (self.input_table, ins),
            (self.output_table, outs),
        ]

    def signature_rows(self) -> list[str]:
        t = self.signature_table
        return [
            f"INSERT INTO {SCHEMA}.{t} VALUES (1, '{SCHEMA}', '{self.params_type}', 'IN')",
            f"INSERT INTO {SCHEMA}.{t} VALUES (2, '{SCHEMA}', '{self.input_type}', 'IN')",
            f"INSERT INTO {SCHEMA}.{t} VALUES (3, '{SCHEMA}', '{self.output_type}', 'OUT')",
        ]

    def create_wrapper(self) -> str:
        return (
            f"CALL SYS.AFLLANG_WRAPPER_PROCEDURE_CREATE('EML', 'PREDICT', '{SCHEMA}', "
            f"'{self.procedure}', {SCHEMA}.{self.signature_table})"
        )

    def drop_wrapper(self) -> str:
        return f"CALL SYS.AFLLANG_WRAPPER_PROCEDURE_DROP('{SCHEMA}', '{self.procedure}')"

    def param_rows(self, signature: str, deadline_ms: int = 10000) -> list[str]:
        t = f"{SCHEMA}.{self.params_table}"
        return [
            f"TRUNCATE TABLE {t}",
            f"INSERT INTO {t} VALUES ('Model', '{self.model}%{signature}')",
            f"INSERT INTO {t} VALUES ('RemoteSource', '{SOURCE}')",
            f"INSERT INTO {t} VALUES ('Deadline', '{deadline_ms}')",
        ]

    def call(self) -> str:
        return (
            f"CALL {SCHEMA}.{self.procedure}({SCHEMA}.{self.params_table}, "
            f"{SCHEMA}.{self.input_table}, {SCHEMA}.{self.output_table}) WITH OVERVIEW"
        )


def _columns(columns: list[tuple[str, str]]) -> str:
    return ", ".join(f'"{name.upper()}" {sql}' for name, sql in columns)


def register(model: str) -> str:
    return f"INSERT INTO {CONFIG_TABLE} VALUES ('{model}', 'RemoteSource', '{SOURCE}')"


def unregister(model: str) -> str:
    return f"DELETE FROM {CONFIG_TABLE} WHERE \"Model\" = '{model}'"


RELOAD = [
    f"SET SCHEMA {SCHEMA}",
    "TRUNCATE TABLE UPDATE_CONFIGURATION_RESULT",
    "CALL UPDATE_CONFIGURATION()",
    "SELECT * FROM UPDATE_CONFIGURATION_RESULT",
]
CHECK_DESTINATION = [
    f"SET SCHEMA {SCHEMA}",
    "CALL _SYS_AFL.EML_CHECKDESTINATION_PROC(CHECK_PARAMS, ?)",
]
COUNT_ROW = f'SELECT COUNT(*) FROM {CONFIG_TABLE} WHERE "Model" = ? AND "Parameter" = ?'
COUNT_OBJECT = 'SELECT COUNT(*) FROM "SYS"."TABLES" WHERE SCHEMA_NAME = ? AND TABLE_NAME = ?'
COUNT_PROCEDURE = (
    'SELECT COUNT(*) FROM "SYS"."PROCEDURES" WHERE SCHEMA_NAME = ? AND PROCEDURE_NAME = ?'
)
