"""What every `emlsetup model ...` command stands on: the places (export folder,
config.cnf), the journal (journal.py: every phase saved before and after), HANA through the
ML user, and the reloads of TF Serving and of EML. The commands themselves are adding.py
(add), lifecycle.py (test, list, remove) and sql_script.py (sql).

The model commands need the settings, the target's paths and the run state; never the
whole plan (a restart reads step 6's recorded command from the run state, restart.py).
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
from steps.models.errors import ModelError
from steps.models.savedmodel import DEFAULT_SIGNATURE, Signature
from steps.models.serving import ServingClient

__all__ = ["SHIPPED", "ModelError", "ModelOps", "choose_signature"]

SHIPPED = Path(__file__).resolve().parent / "half_plus_two" / "1"
UPDATED = "config.cnf updated"


def choose_signature(sigs: dict[str, Signature], model: str, wanted: str = "") -> Signature:
    """``wanted`` (--signature), else serving_default, else the only one there is."""
    if wanted:
        if wanted not in sigs:
            raise ModelError(
                f"model {model} has no signature {wanted!r} (it has "
                f"{', '.join(sorted(sigs)) or 'none'}); give one of those to --signature"
            )
        return sigs[wanted]
    if DEFAULT_SIGNATURE in sigs:
        return sigs[DEFAULT_SIGNATURE]
    if len(sigs) == 1:
        return next(iter(sigs.values()))
    if not sigs:
        raise ModelError(f"model {model} has no signature: export it with a serving signature")
    raise ModelError(
        f"model {model} has no '{DEFAULT_SIGNATURE}' signature and several others "
        f"({', '.join(sorted(sigs))}); choose one with --signature"
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

    @property
    def deadline_ms(self) -> int:
        return self.session.settings.hana.eml_deadline_ms

    def local(self, target: str) -> Path:
        return self.session.host.path(target)

    @property
    def config_file(self) -> Path:
        return self.local(f"{self.export}/config.cnf")

    def shown(self, path: Path) -> str:
        """A path as it is on the server, not under --root."""
        return str(self.session.host.unmap(path))

    def admin(self) -> Any:
        from checks.system import read_passwd

        users = read_passwd(self.session.host.path("/etc/passwd"))
        return users.get(self.session.settings.admin.user)

    def entries(self) -> list[ct.ModelEntry]:
        """config.cnf's models ([] when there is no config.cnf)."""
        return ct.models(self.config_file.read_text()) if self.config_file.exists() else []

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
        same = ("version", "source", "signature")
        if old is not None and any(getattr(old, k) != kw.get(k, getattr(old, k)) for k in same):
            old.status = "abandoned"  # another version, folder or signature: a new command
            old = None
        if old is not None:
            where = next((p.name for p in old.phases if p.status != "done"), "the start")
            self.out.write(f"Resuming the interrupted `model {command} {model}` at {where}.\n")
            return old
        rec = jn.ModelRecord(command=command, model=model, **kw)
        self.journal.records.append(rec)
        jn.save(self.folder, self.journal)
        return rec

    def intend(self, rec: jn.ModelRecord, change: str) -> None:
        """Note a change before making it, so that a failure can undo it (rollback.py)."""
        if change not in rec.undo:
            rec.undo.append(change)
            jn.save(self.folder, self.journal)

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

    def query(self, query: str, *params: str) -> list[tuple[Any, ...]]:
        return self._sql().query("ml_user", query, params)

    def count(self, query: str, *params: str) -> int:
        rows = self.query(query, *params)
        return int(rows[0][0]) if rows else 0

    def run_sql(self, statements: list[str]) -> list[list[tuple[Any, ...]]]:
        """Each statement committed on its own: a kill between two leaves the first done,
        and every phase reads HANA before it writes, so the next run goes on from there."""
        out = []
        for statement in statements:
            out += self._sql().execute_all("ml_user", [statement])
            reached(f"sql done: {statement}")
        return out

    def hana_models(self) -> list[str]:
        """The models EML_MODEL_CONFIGURATION names (as RemoteSource rows)."""
        return [str(r[0]) for r in self.query(hs.MODEL_ROWS, "RemoteSource")]

    # -- config.cnf and the reloads --------------------------------------------------------
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
            served = ", ".join(e.name for e in entries) or "no model"
            return f"HandleReloadConfigRequest: serving {served}"
        if self.restart is not None:
            self.restart()
            return "restarted TensorFlow Serving (it has no HandleReloadConfigRequest)"
        from steps.models.restart import restart_server

        return restart_server(self.session)

    def reload_eml(self) -> str:
        rows = self.run_sql(hs.RELOAD)[-1]
        if [tuple(str(v) for v in r) for r in rows] != [("Status", "0", "OK")]:
            shown = "; ".join(" ".join(str(v) for v in r) for r in rows) or "no rows"
            raise ModelError(
                f"UpdateModelConfiguration answered {shown}, not Status 0 OK; check that "
                "TF Serving answers (emlsetup check --step 6)"
            )
        return "Status 0 OK"
