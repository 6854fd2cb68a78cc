"""``emlsetup model sql NAME``: the SQL an application runs to call the model, read from
HANA's catalogue (the wrapper as `model add` made it), ready to copy into hdbsql or an
application: fill the parameter table, put the rows into the input tables, CALL, read
the output (the statements of SAP's Iris tutorial, mlb-hxe-tensorflow-iris step 6)."""

from __future__ import annotations

from steps.models import hana_sql as hs
from steps.models import inputs as ins
from steps.models import wrapper
from steps.models.commands import ModelOps
from steps.models.lifecycle import called


def script(ops: ModelOps, name: str) -> str:
    obj, have, tables = called(ops, name)
    signature = have.model_value.partition("%")[2] or "serving_default"
    columns = [wrapper.columns_of(ops, t) for t in tables]
    outputs = wrapper.columns_of(ops, obj.output_table)
    user = ops.session.settings.hana.ml_user
    lines = [
        f"-- Model {name} (signature {signature}) from SQL, as {user} (or a user with "
        f"EXECUTE on {hs.SCHEMA}.{obj.procedure}).",
        "-- One row of each input table is one prediction; the output rows come in the "
        "input rows' order.",
        *(
            f"--   input {i}: {hs.SCHEMA}.{t} ({', '.join(f'{c} {k}' for c, k in cols)})"
            for i, (t, cols) in enumerate(zip(tables, columns, strict=True), start=1)
        ),
        f"--   output: {hs.SCHEMA}.{obj.output_table} "
        f"({', '.join(f'{c} {k}' for c, k in outputs)})",
        *(f"{s};" for s in obj.param_rows(signature, ops.deadline_ms)),
    ]
    for t, cols in zip(tables, columns, strict=True):
        names = ", ".join(hs.ident(c) for c, _ in cols)
        values = ", ".join(ins.literal(c, k, ins.smoke(k)) for c, k in cols)
        lines += [
            f"TRUNCATE TABLE {hs.SCHEMA}.{t};",
            f"INSERT INTO {hs.SCHEMA}.{t} ({names}) VALUES ({values});",
        ]
    out = f"{hs.SCHEMA}.{obj.output_table}"
    lines += [
        f"TRUNCATE TABLE {out};",
        f"{obj.call(len(tables))};",
        f"SELECT {', '.join(hs.ident(c) for c, _ in outputs)} FROM {out};",
    ]
    return "\n".join(lines) + "\n"
