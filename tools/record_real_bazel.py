"""Records Bazel 4.2.3's real output (Debian 12's bazel-bootstrap) for the cases of
tests/test_real_bazel.py into tests/fixtures/bazel, in that folder's format (README.md):
each stream's bytes, and every read with its time since the start and, last, the exit code.

    .venv/bin/python tools/record_real_bazel.py [--parts N] [--out DIR]

It builds tests/real_bazel_workspace.py's C++ workspace in a temporary folder (its own HOME,
so its own output base), piped as the wizard runs Bazel. Paths are then rewritten to the
tutorial's layout (/home/tmsadm/serving, /home/tmsadm); nothing else is changed. Needs
/usr/bin/bazel (apt-get install bazel-bootstrap); it takes minutes (a cold server and
builds); the machine it runs on sets the timing.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.real_bazel_workspace import (  # noqa: E402
    SYSTEM_PATH,
    install_wrapper,
    missing,
    part_source,
    set_salt,
    write_workspace,
)

FLAGS = ["-c", "opt", "--copt=-O3"]
# Called with everything read from stderr so far; acts once (an interrupt, a kill).
During = Callable[[str, subprocess.Popen[bytes]], bool | None]


class Recorder:
    def __init__(self, root: Path, out: Path, parts: int) -> None:
        self.ws, self.home, self.out = root / "serving", root / "home", out
        write_workspace(self.ws, parts=parts)
        self.bazel = str(install_wrapper(self.home / "bin"))
        self.env = {"PATH": SYSTEM_PATH, "HOME": str(self.home), "USER": "tmsadm",
                    "LANG": "C.UTF-8"}  # fmt: skip
        self.salt = 1

    def rewrite(self, text: str) -> str:
        return text.replace(str(self.ws), "/home/tmsadm/serving").replace(
            str(self.home), "/home/tmsadm"
        )

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([self.bazel, *args], cwd=self.ws, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)  # fmt: skip

    def record(self, name: str, args: list[str], during: During | None = None) -> int:
        proc = self.start(*args)
        start = time.monotonic()
        chunks: list[dict[str, object]] = []
        raw = {"stdout": "", "stderr": ""}
        sel = selectors.DefaultSelector()
        assert proc.stdout is not None and proc.stderr is not None
        sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
        sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
        acted = False
        while sel.get_map():
            for key, _ in sel.select():
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                text = self.rewrite(data.decode(errors="replace"))
                stream = str(key.data)
                raw[stream] += text
                chunks.append({"t": round(time.monotonic() - start, 3), "stream": stream,
                               "data": text})  # fmt: skip
                if during is not None and not acted and stream == "stderr":
                    acted = bool(during(raw["stderr"], proc))
        code = proc.wait()
        chunks.append({"t": round(time.monotonic() - start, 3), "exit": code})
        for stream, text in raw.items():
            (self.out / f"{name}.{stream}.raw").write_text(text)
        (self.out / f"{name}.chunks.jsonl").write_text(
            "".join(json.dumps(c) + "\n" for c in chunks)
        )
        print(f"{name}: exit {code} after {chunks[-1]['t']} s", flush=True)
        return code

    def dirty(self) -> None:
        self.salt += 1
        set_salt(self.ws, self.salt)

    def server_pid(self) -> int:
        (found,) = (self.home / ".cache" / "bazel").glob("*/*/server/server.pid.txt")
        return int(found.read_text())


def after_some_compiles(act: Callable[[subprocess.Popen[bytes]], None]) -> During:
    """Acts once Bazel's counter has moved two actions past its first compile line."""
    import re

    def during(stderr: str, proc: subprocess.Popen[bytes]) -> bool | None:
        done = [int(n) for n in re.findall(r"^\[(\d+) / \d+\] Compiling", stderr, re.M)]
        if done and done[-1] >= done[0] + 2:
            act(proc)
            return True
        return None

    return during


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=int, default=16)
    ap.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "bazel")
    args = ap.parse_args()
    if (why := missing()) is not None:
        print(f"record_real_bazel: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="record-bazel-") as tmp:
        rec = Recorder(Path(tmp), args.out, args.parts)
        targets = ["tensorflow_serving/..."]
        server = ["//tensorflow_serving/model_servers:tensorflow_model_server"]
        try:
            rec.record("20-real-cold-build", ["build", *FLAGS, *targets])
            rec.record("21-real-test-after-build", ["test", *FLAGS, *targets])
            rec.record("22-real-model-server-after-build", ["build", *FLAGS, *server])
            part = rec.ws / "tensorflow_serving" / "core" / "part_7.cc"
            part.write_text(part_source(7, broken=True))
            rec.record("23-real-compile-error", ["build", *FLAGS, *targets])
            part.write_text(part_source(7))
            rec.dirty()
            interrupt = after_some_compiles(lambda p: p.send_signal(signal.SIGINT))
            rec.record("24-real-interrupted", ["build", *FLAGS, *targets], interrupt)
            rec.record("25-real-rerun-after-interrupt", ["build", *FLAGS, *targets])
            rec.dirty()
            kill = after_some_compiles(lambda p: os.kill(rec.server_pid(), signal.SIGKILL))
            rec.record("26-real-server-killed", ["build", *FLAGS, *targets], kill)
            rec.record("27-real-rerun-after-server-killed", ["build", *FLAGS, *targets])
            record_lock_wait(rec, ["build", *FLAGS, *targets])
        finally:
            subprocess.run([rec.bazel, "shutdown"], cwd=rec.ws, env=rec.env, check=False)
    return 0


def record_lock_wait(rec: Recorder, args: list[str]) -> None:
    """Another client's command holds the output base (the workspace's //lock:hold waits
    for a file); the recorded build waits for it, then runs once it is let go."""
    marks = rec.ws / "lock-marks"
    holder = rec.start("build", *FLAGS, "//lock:hold")
    while not (marks / "holding").exists():
        if holder.poll() is not None:
            raise SystemExit(f"the lock holder ended first: exit {holder.returncode}")
        time.sleep(0.1)

    def release(stderr: str, proc: subprocess.Popen[bytes]) -> bool | None:
        if "Another command" in stderr:
            (marks / "release").touch()
            return True
        return None

    try:
        rec.record("28-real-lock-wait", args, release)
    finally:
        (marks / "release").touch()
        holder.wait()


if __name__ == "__main__":
    sys.exit(main())
