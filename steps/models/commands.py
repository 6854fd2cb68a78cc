"""``emlsetup model add | list | remove | test``: a SavedModel from a folder to an answer
from SQL, each phase idempotent (it reads the system first) and journaled (journal.py).

add: check the SavedModel -> copy to {export}/NAME/N (owned by the admin) -> config.cnf ->
reload TF Serving -> version N AVAILABLE -> signature (GetModelMetadata) -> HANA row ->
EML reload (Status 0 OK) -> EML_CHECKDESTINATION_PROC lists NAME -> PREDICT wrapper.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from steps.core.engine import SqlBackend
from steps.core.session import Session
from steps.models import config_text as ct
from steps.models import hana_sql as hs
from steps.models import journal as jn
from steps.models.checkpoints import reached
from steps.models.copying import copy_version, same_tree
from steps.models.hana_types import table_types
from steps.models.savedmodel import DEFAULT_SIGNATURE, Signature, layout_problem, read_signatures
from steps.models.serving import ServingClient

SHIPPED = Path(__file__).resolve().parent / "half_plus_two" / "1"


UPDATED = "config.cnf updated"


class ModelError(Exception):
    """One sentence with the fix; exit 1."""


def choose_signature(sigs: dict[str, Signature], model: str) -> Signature:
    if DEFAULT_SIGNATURE in sigs:
        return sigs[DEFAULT_SIGNATURE]
    if len(sigs) == 1:
        return next(iter(sigs.values()))
    raise ModelError(
        f"model {model} has no '{DEFAULT_SIGNATURE}' signature and several others "
        f"({', '.join(sorted(sigs))}); export it with a serving_default signature"
    )


@dataclass
class ModelOps:
    session: Session
    sql: SqlBackend | None
    out: TextIO
    timeout_s: float = 60.0
    serving: ServingClient = field(init=False)
    restart: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        s = self.session.settings.serving
        self.serving = ServingClient(s.host, s.port)
        self.folder = self.session.store.folder
        self.journal = jn.load(self.folder)
        self.settled = False  # set by record()

    # -- places --------------------------------------------------------------------------
    @property
    def export(self) -> str:
        return self.session.settings.expand(self.session.settings.serving.export_dir)

    def local(self, target: str) -> Path:
        return self.session.host.path(target)

    @property
    def config_file(self) -> Path:
        return self.local(f"{self.export}/config.cnf")

    def admin(self) -> Any:
        from checks.system import read_passwd

        users = read_passwd(self.session.host.path("/etc/passwd"))
        return users.get(self.session.settings.admin.user)

    # -- journal -------------------------------------------------------------------------
    def record(self, command: str, model: str, **kw: Any) -> jn.ModelRecord:
        last = next(
            (r for r in reversed(self.journal.records) if (r.command, r.model) == (command, model)),
            None,
        )
        # The same command finished last time: what the system shows is that command's end,
        # not a half-done one (which HANA's catalogue alone cannot tell).
        self.settled = last is not None and last.status == "done"
        old = self.journal.interrupted(command, model)
        if old is not None and (old.version, old.source) != (
            kw.get("version"),
            kw.get("source", ""),
        ):
            old.status = "abandoned"  # another version or folder: a new command, not a resume
            old = None
        if old is not None:
            where = next((p.name for p in old.phases if p.status != "done"), "the start")
            self.out.write(f"Resuming the interrupted `model {command} {model}` at {where}.\n")
            return old
        rec = jn.ModelRecord(command=command, model=model, **kw)
        self.journal.records.append(rec)
        jn.save(self.folder, self.journal)
        return rec

    @contextlib.contextmanager
    def phase(self, rec: jn.ModelRecord, name: str) -> Iterator[jn.Phase]:
        ph = rec.phase(name)
        jn.save(self.folder, self.journal)
        reached(f"{name}: begins")
        try:
            yield ph
        except Exception as exc:
            ph.status, ph.said = "failed", str(exc)
            rec.status = "failed"
            jn.save(self.folder, self.journal)
            raise
        ph.status = "done"
        jn.save(self.folder, self.journal)
        reached(f"{name}: done")
        self.out.write(f"  {name}: {ph.said}\n")
        self.out.flush()  # progress as it happens, also into a pipe

    def finish(self, rec: jn.ModelRecord, result: str) -> None:
        rec.status, rec.result, rec.finished = "done", result, jn._now()
        jn.save(self.folder, self.journal)

    # -- SQL -----------------------------------------------------------------------------
    def _sql(self) -> SqlBackend:
        if self.sql is None:
            raise ModelError(
                "no HANA access: set EMLSETUP_ML_USER_PASSWORD or hana.ml_user_key, then "
                "run the same command again"
            )
        return self.sql

    def count(self, query: str, *params: str) -> int:
        rows = self._sql().query("ml_user", query, params)
        return int(rows[0][0]) if rows else 0

    def run_sql(self, statements: list[str]) -> list[list[tuple[Any, ...]]]:
        """Each statement committed on its own: a kill between two leaves the first done,
        and every phase reads HANA before it writes, so the next run goes on from there."""
        out = []
        for statement in statements:
            out += self._sql().execute_all("ml_user", [statement])
            reached(f"sql done: {statement}")
        return out

    # -- add -----------------------------------------------------------------------------
    def add(self, name: str, source: Path, version: int) -> jn.ModelRecord:
        rec = self.record("add", name, version=version, source=str(source))
        target = f"{self.export}/{name}"
        with self.phase(rec, "check SavedModel") as ph:
            problem = layout_problem(source)
            if problem:
                raise ModelError(problem)
            sig = choose_signature(read_signatures(source), name)
            table_types(sig, name)  # an unsupported dtype stops here, before any copy
            ph.said = f"{source}: signature {sig.name}, {_shape(sig)}"
        with self.phase(rec, "copy") as ph:
            ph.said = self.copy(source, self.local(f"{target}/{version}"))
            ph.changed = ph.said.startswith("copied")
        with self.phase(rec, "config.cnf") as ph:
            ph.said = self.edit_config(lambda text: ct.add_model(text, name, target))
            ph.changed = ph.said == UPDATED
        with self.phase(rec, "reload TF Serving") as ph:
            if self.serving.state(name, version) == "AVAILABLE":
                ph.said = f"TF Serving serves {name} version {version} already"
            else:
                ph.said, ph.changed = self.reload(), True
        with self.phase(rec, "AVAILABLE") as ph:
            self.serving.wait_available(name, version, self.timeout_s)
            ph.said = f"{name} version {version} is AVAILABLE"
        with self.phase(rec, "signature") as ph:
            sig = choose_signature(self.serving.signatures(name, version), name)
            inputs, outputs = table_types(sig, name)
            ph.said = f"GetModelMetadata: {sig.name}, {_shape(sig)}"
        self.register(rec, name)
        with self.phase(rec, "PREDICT wrapper") as ph:
            ph.said = self.wrapper(name, sig, inputs, outputs)
            ph.changed = ph.said.endswith("created")
        changes = sum(p.changed for p in rec.phases)
        self.finish(
            rec,
            f"{name} version {version} is served and callable from SQL "
            f"({changes} change{'' if changes == 1 else 's'})",
        )
        return rec

    def copy(self, source: Path, dest: Path) -> str:
        shown = self.session.host.unmap(dest)  # the path on the server, not under --root
        if dest.exists():
            if same_tree(source, dest):
                return f"{shown} is already there with the same files"
            raise ModelError(
                f"{shown} exists with other files: it is left as it is; give another "
                "--version, or remove that folder yourself"
            )
        copy_version(source, dest, self.admin())
        return f"copied to {shown}"

    def edit_config(self, edit: Callable[[str], str]) -> str:
        path = self.config_file
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise ModelError(
                f"{path} does not exist: run step 6 first (emlsetup run --only-step 6)"
            ) from None
        new = edit(text)
        if new == text:
            return "config.cnf already says so"
        tmp = path.with_name(f".{path.name}.emlsetup-new")
        tmp.unlink(missing_ok=True)
        tmp.write_text(new)
        st = path.stat()
        os.chmod(tmp, st.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(tmp, st.st_uid, st.st_gid)
        reached("config.cnf: the new text written next to it")
        os.replace(tmp, path)
        reached("config.cnf: renamed into place")
        return UPDATED

    def reload(self) -> str:
        entries = ct.models(self.config_file.read_text())
        if self.serving.reload(entries):
            reached("reload TF Serving: HandleReloadConfigRequest answered")
            return f"HandleReloadConfigRequest: serving {', '.join(e.name for e in entries)}"
        if self.restart is not None:
            self.restart()
            return "restarted TensorFlow Serving (it has no HandleReloadConfigRequest)"
        from steps.models.restart import restart_server

        return restart_server(self.session)

    def register(self, rec: jn.ModelRecord, name: str) -> None:
        with self.phase(rec, "HANA model row") as ph:
            there = bool(self.count(hs.COUNT_ROW, name, "RemoteSource"))
            if there:
                ph.said = f"{hs.CONFIG_TABLE} has {name} already"
            else:
                self.run_sql([hs.register(name)])
                ph.said = f"{name} -> RemoteSource TensorFlow in {hs.CONFIG_TABLE}"
                ph.changed = True
        with self.phase(rec, "UpdateModelConfiguration") as ph:
            # After a kill or a failure the row may be there but never loaded: reload then.
            if there and self.settled and self.destinations().get(name) == "OK":
                ph.said = f"EML has {name} loaded already"
            else:
                ph.said, ph.changed = self.reload_eml(), True
        with self.phase(rec, "EML_CHECKDESTINATION_PROC") as ph:
            listed = self.destinations()
            if listed.get(name) != "OK":
                raise ModelError(
                    f"EML_CHECKDESTINATION_PROC does not list {name} as OK "
                    f"({listed.get(name, 'missing')}); check the remote source and TF Serving"
                )
            ph.said = f"lists {name}: OK"

    def destinations(self) -> dict[str, str]:
        """{model: status} as EML_CHECKDESTINATION_PROC lists its loaded configuration."""
        rows = self.run_sql(hs.CHECK_DESTINATION)[-1]
        return {str(r[0]): str(r[1]) for r in rows}

    def reload_eml(self) -> str:
        rows = self.run_sql(hs.RELOAD)[-1]
        if [tuple(str(v) for v in r) for r in rows] != [("Status", "0", "OK")]:
            shown = "; ".join(" ".join(str(v) for v in r) for r in rows) or "no rows"
            raise ModelError(
                f"UpdateModelConfiguration answered {shown}, not Status 0 OK; check that "
                "TF Serving answers (emlsetup check --step 6)"
            )
        return "Status 0 OK"

    def wrapper(
        self,
        name: str,
        sig: Signature,
        inputs: list[tuple[str, str]],
        outputs: list[tuple[str, str]],
    ) -> str:
        obj = hs.Objects(name)
        if self.count(hs.COUNT_PROCEDURE, hs.SCHEMA, obj.procedure):
            return f"{hs.SCHEMA}.{obj.procedure} exists already"
        for table, cols in obj.types(inputs, outputs):
            if not self.count(hs.COUNT_OBJECT, hs.SCHEMA, table):
                self.run_sql([f"CREATE TYPE {hs.SCHEMA}.{table} AS TABLE ({cols})"])
        for table, cols in obj.tables(inputs, outputs):
            if not self.count(hs.COUNT_OBJECT, hs.SCHEMA, table):
                self.run_sql([f"CREATE COLUMN TABLE {hs.SCHEMA}.{table} ({cols})"])
        self.run_sql(
            [
                f"TRUNCATE TABLE {hs.SCHEMA}.{obj.signature_table}",
                *obj.signature_rows(),
                *obj.param_rows(sig.name),
            ]
        )
        self.run_sql([obj.create_wrapper()])
        return f"{hs.SCHEMA}.{obj.procedure}(params, input, output) created"


def _shape(sig: Signature) -> str:
    def side(tensors: tuple[Any, ...]) -> str:
        return ", ".join(f"{t.alias} {t.dtype} {t.shape_text}" for t in tensors)

    return f"in: {side(sig.inputs)}; out: {side(sig.outputs)}"
