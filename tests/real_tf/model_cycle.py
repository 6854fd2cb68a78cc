"""``emlsetup model add / test / remove`` on SavedModels real TensorFlow wrote, against the
stand-ins (the HANA test server with its EML, the gRPC TF Serving stand-in), as
tests/test_model_commands.py sets them up: steps 2, 6 and 7 done, the model server on PATH.

One lane (sandbox + HANA server) serves every model of a test module: each model is added,
tested and removed in turn, or refused, and leaves nothing behind, so they do not meet.
What each model answers is compared with real TensorFlow's own answer to the same input
(``manifest.json`` of tests/real_tf/write_savedmodels.py, read by written.py).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.fakelib import install_tool
from tests.hana_server import Catalogue, HanaTestServer
from tests.real_tf import adapter
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env

EXPORT = "/home/tmsadm/export"
# A TF Serving that loads models written by TensorFlow 2.x: the newest tag emlsetup knows
# (steps/serving_build.py). TensorFlow's version guide ("Compatibility of graphs and
# checkpoints"): GraphDef backward compatibility holds within a major version, so TF
# Serving 1.8.0 (the tutorial's, emlsetup's default) is not promised to load them.
SERVING_2X = "2.20.0"
TUTORIAL_SERVING = "1.8.0"


@dataclass
class Lane:
    sb: Sandbox
    srv: HanaTestServer
    env: dict[str, str]

    def cli(self, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        return self.sb.run_cli(*args, env={**self.env, **settings})

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.srv.query(sql, "ML_USER", ML_PW)

    def config_text(self) -> str:
        config = self.sb.target(f"{EXPORT}/config.cnf")
        return config.read_text() if config.exists() else ""

    def export(self, name: str) -> Path:
        return self.sb.target(f"{EXPORT}/{name}")

    def left_behind(self, name: str) -> list[str]:
        """What the system still holds for ``name``: HANA objects and config.cnf's entry."""
        left = adapter.hana_objects(self.query, name)
        if re.search(rf'name:\s*"{re.escape(name)}"', self.config_text(), re.I):
            left.append("config.cnf entry")
        return left

    def statements(self) -> list[str]:
        return [s.sql for s in self.srv.statements]

    def clear(self) -> None:
        """After a test, whatever it passed or failed: every model still in config.cnf or
        HANA removed and its files deleted, so that one model's leftovers never fail the next
        (the lane is shared to keep it fast). Nothing to do when the test left nothing."""
        names = set(re.findall(r'name:\s*"([^"]+)"', self.config_text()))
        names |= {str(r[0]) for r in self.query("SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION")}
        for name in sorted(names):
            self.cli("model", "remove", name)
        for folder in self.sb.target(EXPORT).glob("*/"):
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def lane(folder: Path, serving_ref: str = SERVING_2X) -> Iterator[Lane]:
    """A sandboxed server with the tutorial's steps 2, 6 and 7 done (step 5's build skipped:
    the gRPC stand-in is on PATH) and HANA's EML configured, models served by ``serving_ref``."""
    sb = Sandbox.create(folder)
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    try:
        with HanaTestServer(cat) as srv:
            install_tool(sb.fakebin, "tensorflow_model_server")
            env = hana_env(sb, srv, EMLSETUP_SERVING__REF=serving_ref)
            for args in (["--only-step", "2"], ["--from-step", "6"]):
                done = sb.run_cli("run", "--yes", *args, env=env)
                assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
            yield Lane(sb, srv, env)
    finally:
        sb.cleanup()


def _said(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"


def add_test_remove(
    ln: Lane, name: str, folder: Path, smoke: dict[str, Any], sample: dict[str, Any], *args: str
) -> tuple[str, str]:
    """Added, tested with its smoke row and with the sample rows given as ``--input`` (each
    answer is real TensorFlow's), removed, nothing left. Returns what add and test printed."""
    added = ln.cli("model", "add", name, str(folder), *args)
    assert added.returncode == 0, _said(added)
    tested = ln.cli("model", "test", name)
    assert tested.returncode == 0, _said(tested)
    assert_answer(tested.stdout, smoke)
    rows = ln.cli("model", "test", name, *adapter.model_test_arguments(sample["inputs"]))
    assert rows.returncode == 0, _said(rows)
    assert_answer(rows.stdout, sample)
    removed = ln.cli("model", "remove", name)
    assert removed.returncode == 0, _said(removed)
    assert ln.left_behind(name) == [], removed.stdout
    return added.stdout, tested.stdout


def assert_answer(stdout: str, answer: dict[str, Any]) -> None:
    """``model test``'s answer is real TensorFlow's ``answer["outputs"]`` for the same rows,
    column by column in EML's order (outputs by position): each string as it is, each
    number to 5 significant digits (printed rounded; the stand-in computes in float32 as
    TensorFlow does)."""
    outputs = answer["outputs"]
    n_rows = len(next(iter(outputs.values())))
    want = [adapter.row_values({a: v[i] for a, v in outputs.items()}) for i in range(n_rows)]
    names = adapter.columns({a: v[0] for a, v in outputs.items()})
    got = adapter.answer_rows(stdout, names, n_rows)
    assert got is not None, (names, n_rows, stdout[-2000:])
    for have_row, want_row in zip(got, want, strict=True):
        for have, value in zip(have_row, want_row, strict=True):
            if isinstance(value, str):
                assert have == value, (have_row, want_row)
            else:
                assert math.isclose(float(have), value, rel_tol=1e-4, abs_tol=1e-6), (
                    have_row, want_row,
                )  # fmt: skip


CHANGES = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "GRANT", "CALL SYS.AFLLANG")


def refused_add(ln: Lane, name: str, folder: Path, *args: str, **settings: str) -> str:
    """``model add`` refuses what the files alone show it cannot serve, before any change:
    no SQL that changes HANA sent, config.cnf not even rewritten. Returns the sentence."""
    config = ln.sb.target(f"{EXPORT}/config.cnf")
    stamp = config.stat().st_mtime_ns if config.exists() else None
    sent = len(ln.statements())
    sentence = assert_refused(
        ln, name, ln.cli("model", "add", name, str(folder), *args, **settings)
    )
    changed = [q for q in ln.statements()[sent:] if q.lstrip().upper().startswith(CHANGES)]
    assert changed == [], changed
    assert (config.stat().st_mtime_ns if config.exists() else None) == stamp, "config.cnf"
    return sentence


def assert_refused(ln: Lane, name: str, done: subprocess.CompletedProcess[str]) -> str:
    """Refused: exit 1, one sentence on its own line (no traceback), nothing added: no files
    under the export folder, no config.cnf entry, nothing in HANA. Returns the sentence."""
    assert done.returncode == 1, _said(done)
    assert "Traceback" not in done.stdout + done.stderr, _said(done)
    failed = [line for line in done.stdout.splitlines() if line.startswith("Failed: ")]
    assert len(failed) == 1, _said(done)
    sentence = failed[0].removeprefix("Failed: ")
    assert not re.search(r"[.!?]\s+[A-Z]", sentence), f"more than one sentence: {sentence}"
    assert ln.left_behind(name) == [], _said(done)
    assert not ln.export(name).exists(), f"{ln.export(name)} was left after the refusal"
    return sentence
