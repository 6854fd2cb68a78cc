"""``model test``, ``model list`` and ``model remove`` on top of :class:`ModelOps`."""

from __future__ import annotations

from typing import Any

from steps.models import config_text as ct
from steps.models import hana_sql as hs
from steps.models import journal as jn
from steps.models.commands import ModelError, ModelOps


def smoke_input(columns: list[tuple[str, Any]]) -> list[str]:
    """One row for the input table: 1.0 for numbers, 'a' for strings."""
    return ["'a'" if "CHAR" in str(sql) else "1.0" for _, sql in columns]


def test(ops: ModelOps, name: str) -> jn.ModelRecord:
    """One row from SQL through EML to TF Serving and back; the answer in the record."""
    rec = ops.record("test", name)
    obj = hs.Objects(name)
    with ops.phase(rec, "PREDICT wrapper") as ph:
        if not ops.count(hs.COUNT_PROCEDURE, hs.SCHEMA, obj.procedure):
            raise ModelError(
                f"{hs.SCHEMA}.{obj.procedure} does not exist: run `emlsetup model add {name} "
                "PATH` first"
            )
        ph.said = f"{hs.SCHEMA}.{obj.procedure} exists"
    with ops.phase(rec, "predict") as ph:
        cols = ops._sql().query(
            "ml_user",
            'SELECT COLUMN_NAME, DATA_TYPE_NAME FROM "SYS"."TABLE_COLUMNS" WHERE '
            "SCHEMA_NAME = ? AND TABLE_NAME = ?",
            (hs.SCHEMA, obj.input_table),
        )
        values = smoke_input([(str(c), str(t)) for c, t in cols])
        given = ", ".join(values)
        rows = ops.run_sql(
            [
                f"TRUNCATE TABLE {hs.SCHEMA}.{obj.input_table}",
                f"INSERT INTO {hs.SCHEMA}.{obj.input_table} VALUES ({given})",
                f"TRUNCATE TABLE {hs.SCHEMA}.{obj.output_table}",
                obj.call(),
                f"SELECT * FROM {hs.SCHEMA}.{obj.output_table}",
            ]
        )[-1]
        if not rows:
            raise ModelError(f"{obj.procedure} gave no rows; see tensorflow_model_server.log")
        answer = ", ".join(_show(v) for v in rows[0])
        ph.said = f"HANA asked TensorFlow and got {answer} for {', '.join(map(_show, values))}"
    ops.finish(rec, ph.said)
    return rec


def _show(value: Any) -> str:
    text = str(value).strip("'")
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def listing(ops: ModelOps) -> list[dict[str, Any]]:
    """Every model config.cnf serves, what HANA knows of it, and the last test's answer."""
    entries = ct.models(ops.config_file.read_text()) if ops.config_file.exists() else []
    out = []
    for e in entries:
        row: dict[str, Any] = {"model": e.name, "base_path": e.base_path}
        folder = ops.local(e.base_path)
        row["versions"] = (
            sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())
            if folder.is_dir()
            else []
        )
        if ops.sql is not None:
            obj = hs.Objects(e.name) if hs.check_name(e.name) is None else None
            row["hana_row"] = bool(ops.count(hs.COUNT_ROW, e.name, "RemoteSource"))
            row["wrapper"] = bool(obj and ops.count(hs.COUNT_PROCEDURE, hs.SCHEMA, obj.procedure))
        tests = [r for r in ops.journal.records if r.command == "test" and r.model == e.name]
        row["last_test"] = tests[-1].result if tests else ""
        out.append(row)
    return out


def remove(ops: ModelOps, name: str) -> jn.ModelRecord:
    """Out of HANA (wrapper, its tables and types, the row, EML reload) and out of TF
    Serving (config.cnf, reload). The model's files stay in the export folder."""
    rec = ops.record("remove", name)
    obj = hs.Objects(name)
    with ops.phase(rec, "PREDICT wrapper") as ph:
        if ops.count(hs.COUNT_PROCEDURE, hs.SCHEMA, obj.procedure):
            ops.run_sql([obj.drop_wrapper()])
            ph.said = f"{hs.SCHEMA}.{obj.procedure} dropped"
        else:
            ph.said = "no wrapper"
        kinds = [(t, "TABLE") for t, _ in obj.tables([], [])]
        kinds += [(t, "TYPE") for t, _ in obj.types([], [])]
        for table, kind in kinds:
            if ops.count(hs.COUNT_OBJECT, hs.SCHEMA, table):
                ops.run_sql([f"DROP {kind} {hs.SCHEMA}.{table}"])
    with ops.phase(rec, "HANA model row") as ph:
        if ops.count(hs.COUNT_ROW, name, "RemoteSource"):
            ops.run_sql([hs.unregister(name)])
            ph.said = f"deleted from {hs.CONFIG_TABLE}"
        else:
            ph.said = f"not in {hs.CONFIG_TABLE}"
    with ops.phase(rec, "UpdateModelConfiguration") as ph:
        ph.said = ops.reload_eml()
    with ops.phase(rec, "config.cnf") as ph:
        ph.said = ops.edit_config(lambda text: ct.remove_model(text, name))
    with ops.phase(rec, "reload TF Serving") as ph:
        ph.said = ops.reload()
    ops.finish(rec, f"{name} is no longer served; its files stay in {ops.export}/{name}")
    return rec
