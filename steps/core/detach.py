"""``python -m steps.core.detach EXIT_FILE LOG -- COMMAND...``

Runs a long command (the 2-4 hour Bazel build) so that it survives the wizard and the SSH
session: the runner starts this wrapper in a session of its own; the command's output is
appended to LOG and, when it ends, its exit status is written to EXIT_FILE. The wizard, or
the next one after a crash, follows LOG and waits for EXIT_FILE.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

# The wrapper lives as long as the build, on VMs where Bazel needs every MB: it uses the
# standard library only (12 MB resident, one thread, started in 30 ms; with sh, which
# brings asyncio along, it was 24 MB, three threads and 90 ms). The engine, which runs
# every other command, uses sh.


def write_exit(path: Path, code: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{code}\n")
    os.replace(tmp, path)


def run(command: list[str], out: int) -> int:
    """The command's exit status as a shell reports it (128+N for a signal), 127 when it
    cannot be started, with the reason in the log."""
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    except OSError as exc:
        os.write(out, f"{command[0]}: cannot run it: {exc.strerror or exc}\n".encode())
        return 127
    code = proc.wait()  # an interrupt (ours is a no-op handler) does not end the wait
    return 128 - code if code < 0 else code


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: python -m steps.core.detach EXIT_FILE LOG -- COMMAND...", file=sys.stderr)
        return 2
    exit_file, log, command = Path(argv[0]), Path(argv[1]), argv[3:]
    # The interrupt meant for the build reaches the whole process group; the wrapper must
    # live on to record the exit status. A handler (not SIG_IGN, which exec would pass on to
    # the build) keeps it alive.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGHUP, lambda *_: None)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        code = run(command, fd)
    finally:
        os.close(fd)
    write_exit(exit_file, code)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
