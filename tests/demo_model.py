"""The demo's end-to-end model chain: a sandboxed server set up by `emlsetup run`, then
`emlsetup model add half_plus_two` and `emlsetup model test half_plus_two`, all against the
stand-ins (the gRPC TF Serving stand-in computes the shipped model's graph; the HANA test
server forwards EML's PREDICT to it), printing what the admin would see:

    .venv/bin/python -m tests.demo_model [--keep DIR] [--wizard]

``--wizard`` opens the wizard afterwards (its validation screen shows the smoke
prediction). Nothing outside the folder is touched.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import REPO, Sandbox

SYSTEM_PW, ML_PW = "Demo-System1", "Demo-MlUser1"
CHAIN = (
    ("run", "--yes"),
    ("model", "add", "half_plus_two"),
    ("model", "test", "half_plus_two"),
    ("model", "list"),
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="use this folder and keep it afterwards")
    ap.add_argument("--speed", default="200", help="how much faster than real Bazel")
    ap.add_argument("--wizard", action="store_true", help="open the wizard at the end")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = opts.keep or Path(tmp)
        sb = Sandbox.create(folder / "sandbox")
        cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
        with HanaTestServer(cat) as srv:
            env = sb.env(
                FAKE_BAZEL_SPEED=opts.speed,
                EMLSETUP_HANA__ADDRESS="127.0.0.1",
                EMLSETUP_HANA__SQL_PORT=str(srv.port),
                EMLSETUP_SYSTEM_PASSWORD=SYSTEM_PW,
                EMLSETUP_ML_USER_PASSWORD=ML_PW,
            )
            print(f"Sandbox in {sb.path}; HANA passwords: SYSTEM {SYSTEM_PW}, ML_USER {ML_PW}")
            try:
                for args in CHAIN:
                    print(f"\n$ emlsetup {' '.join(args)}", flush=True)
                    code = subprocess.call(sb.cli_argv(*args), cwd=REPO, env=env)
                    if code != 0:
                        return code
                if opts.wizard:
                    return subprocess.call(sb.cli_argv(), cwd=REPO, env=env)
                return 0
            finally:
                sb.cleanup()


if __name__ == "__main__":
    sys.exit(main())
