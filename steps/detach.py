"""``python -m steps.detach EXIT_FILE LOG -- COMMAND...``

Runs a long command (the 2-4 hour Bazel build) so that it survives the wizard and the SSH
session: the runner starts this wrapper in a session of its own; the command's output is
appended to LOG and, when it ends, its exit status is written to EXIT_FILE. The wizard, or
the next one after a crash, follows LOG and waits for EXIT_FILE.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import sh


def write_exit(path: Path, code: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{code}\n")
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: python -m steps.detach EXIT_FILE LOG -- COMMAND...", file=sys.stderr)
        return 2
    exit_file, log, command = Path(argv[0]), Path(argv[1]), argv[3:]
    # The interrupt meant for the build reaches the whole process group; the wrapper must
    # live on to record the exit status. A handler (not SIG_IGN, which exec would pass on to
    # the build) keeps it alive.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGHUP, lambda *_: None)
    with log.open("ab", buffering=0) as out:
        try:
            proc = sh.Command(command[0])(
                *command[1:],
                _out=out,
                _err_to_out=True,
                _ok_code=list(range(256)),
                _in=os.devnull,
                _bg=True,
                _bg_exc=False,
            )
            proc.wait()
            code = int(proc.exit_code)
        except sh.SignalException as exc:
            code = 128 + abs(int(exc.exit_code))  # sh reports a signal as -N; shells say 128+N
        except (sh.CommandNotFound, OSError) as exc:
            out.write(f"{command[0]}: cannot run it: {exc}\n".encode())
            code = 127
    write_exit(exit_file, code)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
