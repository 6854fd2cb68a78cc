"""A sandboxed server ready for `emlsetup model ...`: the tutorial's steps 2, 6 and 7 done
by the real CLI against the HANA test server (real hdbcli) and the gRPC TF Serving
stand-in; SavedModels written by real TensorFlow in tests/fixtures/savedmodels/models
(tests/real_tf/write_savedmodels.py; TensorFlow's answers in its manifest.json)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.fakelib import install_tool
from tests.hana_server import Catalogue, HanaTestServer
from tests.real_tf.written import COMMITTED
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env

FIXTURES = COMMITTED.base / "models"
EXPORT = "/home/tmsadm/export"


@dataclass
class Bench:
    sb: Sandbox
    cat: Catalogue
    srv: HanaTestServer
    env: dict[str, str]

    def cli(self, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
        return self.sb.run_cli(*map(str, args), env={**self.env, **env})

    def ok(self, *args: str | Path, **env: str) -> str:
        done = self.cli(*args, **env)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        return done.stdout

    def failed(self, *args: str | Path, **env: str) -> str:
        """The one line a refused command says (exit 1, no traceback)."""
        done = self.cli(*args, **env)
        assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
        assert "Traceback" not in done.stdout + done.stderr
        (line,) = [x for x in done.stdout.splitlines() if x.startswith("Failed: ")]
        return line

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        return self.srv.query(query, "ML_USER", ML_PW)

    def target(self, path: str) -> Path:
        return self.sb.target(path)

    def objects(self, stem: str) -> list[str]:
        """The EML_DATA tables and types whose names start with ``stem``."""
        rows = self.sql("SELECT TABLE_NAME FROM SYS.TABLES WHERE SCHEMA_NAME = 'EML_DATA'")
        return sorted(str(r[0]) for r in rows if stem in str(r[0]))

    def snapshot(self) -> tuple[bytes, list[tuple[Any, ...]], list[str], list[str]]:
        """What a refused `model add` must leave as it was: config.cnf, the model rows,
        the EML_DATA objects and the export folder's entries."""
        rows = self.sql("SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION")
        export = self.target(EXPORT)
        return (
            (export / "config.cnf").read_bytes(),
            rows,
            self.objects(""),
            sorted(str(p.relative_to(export)) for p in export.rglob("*")),
        )


def ready(sandbox: Sandbox, **catalogue: Any) -> Iterator[Bench]:
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW}, **catalogue)
    with HanaTestServer(cat) as srv:
        install_tool(sandbox.fakebin, "tensorflow_model_server")
        bench = Bench(sandbox, cat, srv, hana_env(sandbox, srv))
        for args in (["--only-step", "2"], ["--from-step", "6"]):
            bench.ok("run", "--yes", *args)
        yield bench
