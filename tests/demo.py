"""Try the wizard safely: a sandboxed SLES 12 SP2 "server" with stand-in tools, a HANA test
server, and a replayed real Bazel build, all in a temporary folder.

    .venv/bin/python -m tests.demo [--distro rhel7] [--speed 20] [--keep DIR]

Nothing outside the folder is touched. The HANA passwords of the demo are printed at start.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.hana_server import Catalogue, HanaTestServer
from tests.os_releases import OS_RELEASE
from tests.sandbox import REPO, Sandbox

SYSTEM_PW, ML_PW = "Demo-System1", "Demo-MlUser1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distro", default="sles12sp2", choices=sorted(OS_RELEASE))
    ap.add_argument("--speed", default="20", help="how much faster than real Bazel (default 20)")
    ap.add_argument("--keep", type=Path, help="use this folder and keep it afterwards")
    ap.add_argument("args", nargs="*", help="emlsetup arguments (default: the wizard)")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = opts.keep or Path(tmp)
        sb = Sandbox.create(folder / "sandbox", opts.distro)
        cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
        with HanaTestServer(cat) as srv:
            env = sb.env(
                FAKE_BAZEL_SPEED=opts.speed,
                EMLSETUP_HANA__ADDRESS="127.0.0.1",
                EMLSETUP_HANA__SQL_PORT=str(srv.port),
            )
            print(f"Sandbox in {sb.path}; HANA passwords: SYSTEM {SYSTEM_PW}, ML_USER {ML_PW}")
            try:
                return subprocess.call(sb.cli_argv(*opts.args), cwd=REPO, env=env)
            finally:
                sb.cleanup()


if __name__ == "__main__":
    sys.exit(main())
