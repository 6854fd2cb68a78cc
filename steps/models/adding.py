"""``emlsetup model add NAME PATH``: a SavedModel from a folder to an answer from SQL.

check (precheck.py: nothing changes before it passed) -> copy to {export}/NAME/N (owned by
the admin) -> config.cnf -> reload TF Serving -> version N AVAILABLE -> signature
(GetModelMetadata) -> HANA row -> EML reload (Status 0 OK) -> PREDICT wrapper (one table
type per input tensor, replaced when the signature changed) -> EML_CHECKDESTINATION_PROC,
shown for information -> a PREDICT call, the proof. Each phase reads the system first and
is journaled: run again after a kill, it resumes. A failure takes back what this command
changed (rollback.py), or says what is left and how to finish it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from steps.models import config_text as ct
from steps.models import hana_sql as hs
from steps.models import inputs as ins
from steps.models import journal as jn
from steps.models import precheck, wrapper
from steps.models.commands import UPDATED, ModelOps, choose_signature
from steps.models.copying import copy_version, same_tree
from steps.models.errors import ModelError
from steps.models.hana_types import Layout, layout
from steps.models.rollback import NOTHING, roll_back
from steps.models.savedmodel import Signature


def add(
    ops: ModelOps,
    name: str,
    source: Path,
    version: int,
    signature: str = "",
    given: list[tuple[str, str]] | None = None,
) -> jn.ModelRecord:
    rec = ops.record("add", name, version=version, source=str(source), signature=signature)
    try:
        _add(ops, rec, name, source, version, given or [])
    except Exception as exc:
        back = roll_back(ops, rec)
        if not _sentence(exc):
            raise  # a bug: its traceback, after the rollback
        said = str(exc).rstrip(".")
        raise ModelError(f"{said}; {back}." if back == NOTHING else f"{said}. {back}") from None
    return rec


def _sentence(exc: Exception) -> bool:
    """One of the sentences the model commands end with (not a bug's exception)."""
    from steps.models.config_text import ConfigError
    from steps.models.hana_types import SignatureMappingError
    from steps.models.restart import RestartError
    from steps.models.savedmodel import SavedModelError
    from steps.models.serving import ServingError

    known = (ModelError, ConfigError, SavedModelError, SignatureMappingError, ServingError)
    return isinstance(exc, (*known, RestartError)) or type(exc).__name__ == "HanaError"


def _add(
    ops: ModelOps,
    rec: jn.ModelRecord,
    name: str,
    source: Path,
    version: int,
    given: list[tuple[str, str]],
) -> None:
    target = f"{ops.export}/{name}"
    with ops.phase(rec, "check") as ph:
        checked = precheck.savedmodel(ops, name, source, rec.signature)
        precheck.version(ops, name, version)
        ops._sql()  # HANA access, before any change
        precheck.name_free(ops, name, target)
        precheck.hana(ops, checked.layout)
        ph.said = f"{source}: signature {checked.signature.name}, {_shape(checked.signature)}"
    with ops.phase(rec, "copy") as ph:
        ph.said, ph.changed = copy(ops, rec, source, f"{target}/{version}")
    with ops.phase(rec, "config.cnf") as ph:
        if not any(e.name == name for e in ops.entries()):
            ops.intend(rec, "config")
        ph.said = ops.edit_config(lambda text: ct.add_model(text, name, target))
        ph.changed = ph.said == UPDATED
    with ops.phase(rec, "reload TF Serving") as ph:
        if ops.serving.state(name, version) == "AVAILABLE":
            ph.said = f"TF Serving serves {name} version {version} already"
        else:
            ph.said, ph.changed = ops.reload(), True
    with ops.phase(rec, "AVAILABLE") as ph:
        ops.serving.wait_available(name, version, ops.timeout_s)
        ph.said = f"{name} version {version} is AVAILABLE"
    with ops.phase(rec, "signature") as ph:
        sig = choose_signature(ops.serving.signatures(name, version), name, rec.signature)
        lay = layout(sig)
        if lay != checked.layout:
            raise ModelError(
                f"TF Serving gives {name} version {version} another signature than "
                f"{source} has ({_shape(sig)}): is another folder served under that name?"
            )
        ph.said = f"GetModelMetadata: {sig.name}, {_shape(sig)}"
    register(ops, rec, name)
    obj = hs.Objects(name)
    with ops.phase(rec, "PREDICT wrapper") as ph:
        ph.said, ph.changed = wrapper.ensure(ops, obj, lay, lambda: ops.intend(rec, "wrapper"))
    with ops.phase(rec, "EML_CHECKDESTINATION_PROC") as ph:
        ph.said = wrapper.check_destination(ops, obj)
    with ops.phase(rec, "PREDICT") as ph:
        ph.said = prove(ops, obj, lay, given)
    changes = sum(p.changed for p in rec.phases)
    ops.finish(
        rec,
        f"{name} version {version} is served and callable from SQL "
        f"({changes} change{'' if changes == 1 else 's'})",
    )


def copy(ops: ModelOps, rec: jn.ModelRecord, source: Path, target: str) -> tuple[str, bool]:
    dest = ops.local(target)
    shown = ops.shown(dest)  # the path on the server, not under --root
    if dest.exists():
        if same_tree(source, dest):
            return f"{shown} is already there with the same files", False
        raise ModelError(
            f"{shown} exists with other files: it is left as it is; give another --version, "
            f"or `emlsetup model remove {rec.model}` first (it moves the model's folder aside)"
        )
    ops.intend(rec, f"copy:{target}")
    copy_version(source, dest, ops.admin())
    return f"copied to {shown}", True


def register(ops: ModelOps, rec: jn.ModelRecord, name: str) -> None:
    with ops.phase(rec, "HANA model row") as ph:
        there = bool(ops.count(hs.COUNT_ROW, name, "RemoteSource"))
        if there:
            ph.said = f"{hs.CONFIG_TABLE} has {name} already"
        else:
            ops.intend(rec, "row")
            ops.run_sql([hs.register(name)])
            ph.said = f"{name} -> RemoteSource TensorFlow in {hs.CONFIG_TABLE}"
            ph.changed = True
    with ops.phase(rec, "UpdateModelConfiguration") as ph:
        # The row was there when the last add of this model ended: EML loaded it then (it
        # reads its configuration at start-up and at each reload). Otherwise, reload.
        if there and ops.settled:
            ph.said = f"EML has {name} loaded already"
        else:
            ph.said, ph.changed = ops.reload_eml(), True


def prove(ops: ModelOps, obj: hs.Objects, lay: Layout, given: list[tuple[str, str]]) -> str:
    """One PREDICT through the wrapper: what proves that SQL reaches the model."""
    tables = [wrapper.wanted(t) for t in lay.inputs]
    literal_rows, shown = ins.rows(tables, given)
    try:
        result = wrapper.call(ops, obj, len(lay.inputs), literal_rows)
    except Exception as exc:
        if type(exc).__name__ != "HanaError":
            raise
        hint = "" if given else "; give values it takes with --input COLUMN=VALUE"
        raise ModelError(f"the PREDICT call that proves the model failed: {exc}{hint}") from None
    if len(result) != len(shown):
        raise ModelError(
            f"{hs.SCHEMA}.{obj.procedure} gave {len(result)} rows for {len(shown)}; see "
            "tensorflow_model_server.log"
        )
    return ins.answer([c.name for c in lay.outputs], result, shown)


def _shape(sig: Signature) -> str:
    def side(tensors: tuple[Any, ...]) -> str:
        return ", ".join(f"{t.alias} {t.dtype} {t.shape_text}" for t in tensors)

    return f"in: {side(sig.inputs)}; out: {side(sig.outputs)}"
