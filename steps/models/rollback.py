"""A failed `model add` takes back what it changed, newest first, and says what it could not.

The changes are the record's ``undo`` list (journal.py), each written before the change was
made, so a failure in the middle of one is covered too; each undo reads the system first
(a copy that is not there is not removed, a row that is not there is not deleted). Only
this command's own changes go: a model that was served before keeps its entry and row.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from steps.models import config_text as ct
from steps.models import hana_sql as hs
from steps.models import journal as jn
from steps.models import wrapper
from steps.models.commands import UPDATED, ModelOps
from steps.models.copying import partial_name


def _copy(ops: ModelOps, target: str) -> str:
    dest = ops.local(target)
    for path in (dest, partial_name(dest)):
        if path.exists():
            shutil.rmtree(path)
    model_dir = dest.parent
    if model_dir.is_dir() and not any(model_dir.iterdir()):
        model_dir.rmdir()
    return f"the copy {target}"


def _config(ops: ModelOps, name: str) -> str:
    said = ops.edit_config(lambda text: ct.remove_model(text, name))
    if said == UPDATED:
        ops.reload()
    return "the config.cnf entry (TF Serving reloaded)"


def _row(ops: ModelOps, name: str) -> str:
    if ops.count(hs.COUNT_ROW, name, "RemoteSource"):
        ops.run_sql([hs.unregister(name)])
        ops.reload_eml()
    return f"the {hs.CONFIG_TABLE} row (EML reloaded)"


def _wrapper(ops: ModelOps, name: str) -> str:
    obj = hs.Objects(name)
    have = wrapper.existing(ops, obj)
    if have.owner in ("", name):
        wrapper.drop(ops, obj, have)
    return f"{hs.SCHEMA}.{obj.procedure} and its tables and types"


def _left(token: str, name: str, source: str, version: int | None) -> str:
    again = f"emlsetup model add {name} {source} --version {version}"
    if token.startswith("copy:"):
        return f"the copy {token[5:]} (delete it, or run `{again}` again)"
    what = {
        "config": "the config.cnf entry",
        "row": f"the {hs.CONFIG_TABLE} row",
        "wrapper": f"the PREDICT wrapper {hs.SCHEMA}.{hs.Objects(name).procedure}",
    }[token]
    return f"{what} (`emlsetup model remove {name}` removes it, `{again}` finishes the add)"


# A refusal before any change stays one sentence: this ends it ("...; nothing was changed.").
NOTHING = "nothing was changed"


def roll_back(ops: ModelOps, rec: jn.ModelRecord) -> str:
    """Undo ``rec``'s changes; the sentence to add to the failure's (``NOTHING`` when there
    was no change: a clause of the failure's own sentence)."""
    if not rec.undo:
        return NOTHING
    steps: dict[str, Callable[[], str]] = {
        "config": lambda: _config(ops, rec.model),
        "row": lambda: _row(ops, rec.model),
        "wrapper": lambda: _wrapper(ops, rec.model),
    }
    undone, left = [], []
    for token in reversed(rec.undo):
        try:
            undone.append(steps[token]() if token in steps else _copy(ops, token[5:]))
        except Exception as exc:  # every failure is said, none stops the rest
            left.append(f"{_left(token, rec.model, rec.source, rec.version)}: {exc}")
    rec.status = "failed" if left else "rolled back"
    rec.result = "; ".join(left) if left else "rolled back"
    jn.save(ops.folder, ops.journal)
    said = f"Rolled back: {', '.join(undone)}." if undone else ""
    if left:
        said += f" Left: {'; '.join(left)}."
    return f"{said} {_served_again(ops, rec)}".strip()


def _served_again(ops: ModelOps, rec: jn.ModelRecord) -> str:
    """A model served before this add lost its wrapper with the rollback: how to make it
    again for the version TF Serving serves (its own folder is a source for `add`)."""
    if "wrapper" not in rec.undo or not any(e.name == rec.model for e in ops.entries()):
        return ""
    folder = ops.local(f"{ops.export}/{rec.model}")
    found = folder.iterdir() if folder.is_dir() else iter(())
    versions = sorted(int(p.name) for p in found if p.name.isdigit())
    if not versions:
        return ""
    v = versions[-1]
    return (
        f"To call version {v} from SQL again: emlsetup model add {rec.model} "
        f"{ops.export}/{rec.model}/{v} --version {v}"
    )
