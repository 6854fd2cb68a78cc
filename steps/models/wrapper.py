"""A model's PREDICT wrapper in HANA (hana_sql.py has its SQL): made, compared with what
the catalogue holds, replaced when the signature changed, dropped; and called.

What is there is read from the catalogue (SYS.PROCEDURES, SYS.TABLES, SYS.TABLE_COLUMNS,
the parameter table's 'Model' row), never from the journal: a wrapper for another signature
or another version's tensors is replaced, the same one is left alone. Which model the
objects belong to is the parameter table's 'Model' value (NAME%signature): two model names
that differ in case only would share the objects, so such a name is refused (adding.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steps.models import hana_sql as hs
from steps.models.commands import ModelOps
from steps.models.errors import ModelError
from steps.models.hana_types import Column, Layout

# How SYS.TABLE_COLUMNS names the column types hana_types declares: FLOAT without a
# precision is a DOUBLE (SAP HANA SQL Reference, "Numeric Data Types"), and a catalogue
# that says FLOAT for it is read the same.
CATALOGUE_TYPE = {"FLOAT": "DOUBLE", "VARCHAR(100)": "VARCHAR"}
SAME_TYPE = {"FLOAT": "DOUBLE"}


@dataclass(frozen=True)
class Existing:
    """What the catalogue holds of one model's objects."""

    procedure: bool
    objects: dict[str, bool]  # name -> is a table type
    model_value: str  # the parameter table's 'Model' row, "" when none

    @property
    def owner(self) -> str:
        return self.model_value.partition("%")[0]


def existing(ops: ModelOps, obj: hs.Objects) -> Existing:
    rows = ops.query(hs.SCHEMA_OBJECTS, hs.SCHEMA)
    objects = {str(n): str(t).upper() == "TRUE" for n, t in rows if obj.owns(str(n))}
    value = ""
    if obj.params_table in objects and not objects[obj.params_table]:
        found = ops.query(
            f'SELECT "Value" FROM {hs.SCHEMA}.{obj.params_table} WHERE "Parameter" = ?', "Model"
        )
        value = str(found[0][0]) if found else ""
    return Existing(bool(ops.count(hs.COUNT_PROCEDURE, hs.SCHEMA, obj.procedure)), objects, value)


def columns_of(ops: ModelOps, name: str) -> list[tuple[str, str]]:
    """(column, catalogue type) of a table or table type, in column order."""
    rows = ops.query(hs.TABLE_COLUMNS, hs.SCHEMA, name)
    ordered = sorted(rows, key=lambda r: int(r[2]))
    return [(str(c), SAME_TYPE.get(str(t).upper(), str(t).upper())) for c, t, _ in ordered]


def wanted(cols: Sequence[Column] | str) -> list[tuple[str, str]]:
    if isinstance(cols, str):  # the fixed tables' column lists
        parts = [p.strip().split(" ", 1) for p in cols.split(", ")]
        return [(n.strip('"'), t.split("(")[0]) for n, t in parts]
    return [(c.name, CATALOGUE_TYPE.get(c.sql, c.sql)) for c in cols]


def _specs(obj: hs.Objects, lay: Layout) -> list[tuple[str, bool, list[tuple[str, str]]]]:
    """(name, is a type, columns) of every object the layout needs."""
    sides: list[Sequence[Column] | str] = [hs.PARAMS_COLUMNS, *lay.inputs, lay.outputs]
    types = [(n, True, wanted(s)) for (n, _), s in zip(obj.types(lay), sides, strict=True)]
    tables = [
        (obj.signature_table, False, wanted(hs.SIGNATURE_COLUMNS)),
        (obj.params_table, False, types[0][2]),
        *((obj.input_table(i + 1), False, w) for i, (_, _, w) in enumerate(types[1:-1])),
        (obj.output_table, False, types[-1][2]),
    ]
    return types + tables


def ensure(ops: ModelOps, obj: hs.Objects, lay: Layout, undo: Any) -> tuple[str, bool]:
    """The wrapper for ``lay``: (what was done, whether HANA changed). ``undo()`` is called
    before the first change, so that a failure can take it back."""
    have = existing(ops, obj)
    value = obj.model_value(lay.signature)
    specs = _specs(obj, lay)
    same = {n: columns_of(ops, n) == cols for n, _, cols in specs if n in have.objects}
    extra = [n for n in have.objects if n not in {s[0] for s in specs}]
    tables_ok = all(same.get(n, False) for n, is_type, _ in specs if not is_type)
    if have.procedure and tables_ok and not extra and have.model_value == value:
        return f"{hs.SCHEMA}.{obj.procedure} exists already", False
    undo()
    said = f"{hs.SCHEMA}.{obj.procedure}({_arity(lay)}) created"
    if have.procedure:  # another signature or layout: all of it goes
        gone = drop(ops, obj, have)
        said = f"{hs.SCHEMA}.{obj.procedure} replaced for {value} ({gone} objects dropped)"
    else:  # a run cut short left some: what fits stays, the rest goes
        drop(ops, obj, have, keep={n for n, ok in same.items() if ok})
    have = existing(ops, obj)
    for name, cols in obj.types(lay):
        if name not in have.objects:
            ops.run_sql([f"CREATE TYPE {hs.SCHEMA}.{name} AS TABLE ({cols})"])
    for name, cols in obj.tables(lay):
        if name not in have.objects:
            ops.run_sql([f"CREATE COLUMN TABLE {hs.SCHEMA}.{name} ({cols})"])
    ops.run_sql(
        [
            f"TRUNCATE TABLE {hs.SCHEMA}.{obj.signature_table}",
            *obj.signature_rows(len(lay.inputs)),
            *obj.param_rows(lay.signature, ops.deadline_ms),
        ]
    )
    ops.run_sql([obj.create_wrapper()])
    return said, True


def _arity(lay: Layout) -> str:
    return ", ".join(["params", *(f"input {i + 1}" for i in range(len(lay.inputs))), "output"])


def drop(
    ops: ModelOps, obj: hs.Objects, have: Existing, keep: frozenset[str] | set[str] = frozenset()
) -> int:
    """Drop the wrapper and the model's tables and types (but ``keep``); how many."""
    if have.procedure:
        ops.run_sql([obj.drop_wrapper()])
    gone = 0
    for name, is_type in sorted(have.objects.items(), key=lambda kv: kv[1]):  # tables first
        if name in keep:
            continue
        ops.run_sql([f"DROP {'TYPE' if is_type else 'TABLE'} {hs.SCHEMA}.{name}"])
        gone += 1
    return gone


def check_destination(ops: ModelOps, obj: hs.Objects) -> str:
    """EML_CHECKDESTINATION_PROC for the model's parameter table, shown for information:
    its output layout is published (TechEd 2018 DAT364: ("Code" VARCHAR(10), "Longtext"
    VARCHAR(100))), what HANA writes into it is not; the PREDICT call proves the model."""
    call = f"CALL _SYS_AFL.EML_CHECKDESTINATION_PROC({hs.SCHEMA}.{obj.params_table}, ?)"
    try:
        rows = ops.run_sql([call])[-1]
    except ModelError:
        raise
    except Exception as exc:  # HANA's sentence (HanaError), for information too
        if type(exc).__name__ != "HanaError":
            raise
        return f"answered {exc} (for information; the PREDICT call below decides)"
    shown = "; ".join(" ".join(str(v) for v in r) for r in rows) or "no rows"
    return f"answered {shown} (for information; the PREDICT call below decides)"


def call(
    ops: ModelOps, obj: hs.Objects, n_inputs: int, rows: list[list[list[str]]]
) -> list[tuple[Any, ...]]:
    """PREDICT with ``rows[i]`` (SQL literals a row) in input table i; the output rows."""
    statements = []
    for i, table_rows in enumerate(rows, start=1):
        name = f"{hs.SCHEMA}.{obj.input_table(i)}"
        statements.append(f"TRUNCATE TABLE {name}")
        statements += [f"INSERT INTO {name} VALUES ({', '.join(r)})" for r in table_rows]
    out = f"{hs.SCHEMA}.{obj.output_table}"
    statements += [f"TRUNCATE TABLE {out}", obj.call(n_inputs), f"SELECT * FROM {out}"]
    return ops.run_sql(statements)[-1]
