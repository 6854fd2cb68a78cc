"""``model test``, ``model list`` and ``model remove`` on top of :class:`ModelOps`."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from typing import Any

from checks.sql import SqlFailure
from steps.core import files
from steps.models import config_text as ct
from steps.models import hana_sql as hs
from steps.models import inputs as ins
from steps.models import journal as jn
from steps.models import wrapper
from steps.models.commands import ModelOps
from steps.models.errors import ModelError
from steps.models.precheck import case_twin


def input_tables(ops: ModelOps, obj: hs.Objects, have: wrapper.Existing) -> list[str]:
    """The wrapper's input tables, 1..n, as the catalogue holds them."""
    found = {
        int(m.group(1))
        for n, is_type in have.objects.items()
        if not is_type and (m := re.fullmatch(rf"{re.escape(obj.stem)}_INPUT_(\d+)", n))
    }
    return obj.input_tables(max(found)) if found and found == set(range(1, max(found) + 1)) else []


def called(ops: ModelOps, name: str) -> tuple[hs.Objects, wrapper.Existing, list[str]]:
    """The model's objects as `model test` and `model sql` need them, or the sentence."""
    obj = hs.Objects(name)
    have = wrapper.existing(ops, obj)
    twin = case_twin(ops, name)
    if have.procedure and have.owner not in ("", name):
        raise ModelError(
            f"{hs.SCHEMA}.{obj.procedure} belongs to model {have.owner}, not {name} (the "
            "names differ in case only)"
        )
    if not have.procedure:
        hint = f" ({twin} differs in case only)" if twin else ""
        raise ModelError(
            f"{hs.SCHEMA}.{obj.procedure} does not exist{hint}: run `emlsetup model add {name} "
            "PATH` first"
        )
    tables = input_tables(ops, obj, have)
    if not tables:
        raise ModelError(
            f"{hs.SCHEMA}.{obj.procedure} was made by an older emlsetup (one input table): run "
            f"`emlsetup model add {name} PATH` again, which makes it anew"
        )
    return obj, have, tables


def files_are_there(ops: ModelOps, name: str) -> None:
    """TF Serving answers only from a version folder holding saved_model.pb; with none (the
    folder deleted or moved by hand) EML's answer would be a bare NOT_FOUND."""
    for e in ops.entries():
        folder = ops.local(e.base_path)
        if e.name != name or not folder.is_dir():
            continue
        if any((v / "saved_model.pb").is_file() for v in folder.iterdir() if v.name.isdigit()):
            return
    base = next((e.base_path for e in ops.entries() if e.name == name), "")
    raise ModelError(
        f"{name}'s files are gone{f' from {base}' if base else ''} (no version folder with "
        f"saved_model.pb), so TF Serving cannot answer for it: add it again (`emlsetup model "
        f"add {name} PATH`) or remove it (`emlsetup model remove {name}`)"
    )


def test(ops: ModelOps, name: str, given: list[tuple[str, str]] | None = None) -> jn.ModelRecord:
    """Rows from SQL through EML to TF Serving and back; the answer in the record."""
    rec = ops.record("test", name)
    with ops.phase(rec, "PREDICT wrapper") as ph:
        obj, have, tables = called(ops, name)
        deadline = ops.query(
            f'SELECT "Value" FROM {hs.SCHEMA}.{obj.params_table} WHERE "Parameter" = ?',
            "Deadline",
        )
        if not deadline or str(deadline[0][0]) != str(ops.deadline_ms):
            signature = have.model_value.partition("%")[2] or "serving_default"
            ops.run_sql(obj.param_rows(signature, ops.deadline_ms))
        inputs = f"{len(tables)} input{'' if len(tables) == 1 else 's'}"
        ph.said = f"{hs.SCHEMA}.{obj.procedure} exists ({have.model_value}, {inputs})"
    with ops.phase(rec, "predict") as ph:
        files_are_there(ops, name)
        columns = [wrapper.columns_of(ops, t) for t in tables]
        literal_rows, shown = ins.rows(columns, given or [])
        result = wrapper.call(ops, obj, len(tables), literal_rows)
        if len(result) != len(shown):
            raise ModelError(
                f"{obj.procedure} gave {len(result)} rows for {len(shown)}; see "
                "tensorflow_model_server.log"
            )
        out = [c for c, _ in wrapper.columns_of(ops, obj.output_table)]
        ph.said = ins.answer(out, result, shown)
    ops.finish(rec, ph.said)
    return rec


def listing(ops: ModelOps) -> list[dict[str, Any]]:
    """Every model config.cnf serves, what HANA knows of it, and the last test's answer
    since it was last added (a test from before a `model remove` is not this model's)."""
    out = []
    unreachable = ""  # HANA's sentence once asking failed: the files are still listed
    for e in ops.entries():
        row: dict[str, Any] = {"model": e.name, "base_path": e.base_path}
        folder = ops.local(e.base_path)
        row["versions"] = (
            sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())
            if folder.is_dir()
            else []
        )
        if ops.sql is not None and not unreachable:
            obj = hs.Objects(e.name) if hs.check_name(e.name) is None else None
            try:
                row["hana_row"] = bool(ops.count(hs.COUNT_ROW, e.name, "RemoteSource"))
                row["wrapper"] = bool(
                    obj and ops.count(hs.COUNT_PROCEDURE, hs.SCHEMA, obj.procedure)
                )
            except SqlFailure as exc:
                unreachable = str(exc)
                row.pop("hana_row", None)
        if unreachable:
            row["hana_error"] = unreachable
        records = [r for r in ops.journal.records if r.model == e.name]
        removed = max(
            (i for i, r in enumerate(records) if r.command == "remove" and r.status == "done"),
            default=-1,
        )
        tests = [r for r in records[removed + 1 :] if r.command == "test"]
        row["last_test"] = tests[-1].result if tests else ""
        out.append(row)
    return out


def remove(ops: ModelOps, name: str) -> jn.ModelRecord:
    """Out of HANA (wrapper, its tables and types, the row, EML reload), out of TF Serving
    (config.cnf, reload), and its folder moved aside to {export}/.removed/, so that the
    same version can be added again and nothing of the admin's is deleted."""
    rec = ops.record("remove", name)
    obj = hs.Objects(name)
    folder = ops.local(f"{ops.export}/{name}")
    with ops.phase(rec, "check") as ph:
        have = wrapper.existing(ops, obj)
        row = bool(ops.count(hs.COUNT_ROW, name, "RemoteSource"))
        listed = [e.name for e in ops.entries()]
        ours = have.owner in ("", name) and bool(have.procedure or have.objects)
        if not (name in listed or row or ours or folder.exists()):
            twin = case_twin(ops, name)
            raise ModelError(
                f"there is no model {name}: config.cnf lists {', '.join(listed) or 'none'}"
                + (f" ({twin} differs in case only)" if twin else "")
                + "; nothing was removed"
            )
        ph.said = f"{name}: {'in config.cnf' if name in listed else 'not in config.cnf'}"
    with ops.phase(rec, "PREDICT wrapper") as ph:
        gone = wrapper.drop(ops, obj, have) if ours else 0
        ph.said = (
            f"{hs.SCHEMA}.{obj.procedure} and {gone} tables and types dropped"
            if ours
            else ("no wrapper of its own")
        )
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
    with ops.phase(rec, "files") as ph:
        ph.said = move_aside(ops, name)
    ops.finish(rec, f"{name} is no longer served; {ph.said}")
    return rec


def move_aside(ops: ModelOps, name: str) -> str:
    folder = ops.local(f"{ops.export}/{name}")
    if not folder.exists():
        return f"no folder {ops.shown(folder)}"
    aside = ops.local(f"{ops.export}/.removed")
    files.ensure_dir(aside, ops.admin())
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    dest = aside / f"{name}-{stamp}"
    n = 1
    while dest.exists():
        n += 1
        dest = aside / f"{name}-{stamp}-{n}"
    os.rename(folder, dest)
    return f"its files moved to {ops.shown(dest)} (delete them when you no longer need them)"
