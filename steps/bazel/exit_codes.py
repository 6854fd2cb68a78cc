"""What a Bazel exit code means, said as one sentence with the next thing to do.

The wizard's user is an SAP admin, not a Bazel user: after a 2-hour build ends, "exit 36"
must become something they can act on. Codes are Bazel's documented ones (stable since long
before 0.11); a negative code is the signal that killed the client, as the runner reports it.
"""

from __future__ import annotations

import signal
from pathlib import Path

from steps.bazel.log import BuildTracker

_SENTENCES: dict[int, str] = {
    0: "The build succeeded.",
    1: "The build failed: read the first ERROR line in the log, fix what it names "
    "(a missing package, a compiler error), then run the step again; finished work is kept.",
    2: "Bazel rejected the command line or a .bazelrc option: check the options and the "
    ".bazelrc files of the build folder and your home directory, then run the step again.",
    3: "The build succeeded but some tests failed or could not be built: see the test "
    "summary in the log and each failing test's test.log.",
    4: "No test targets were found for 'bazel test': check the target patterns given.",
    8: "The build was interrupted; finished actions are kept, so running the identical "
    "command again (same folder, same environment) resumes where it stopped.",
    9: "Another Bazel command holds this workspace's lock (another build still running, "
    "or the Bazel server could not be reached): wait for it or end it with 'bazel shutdown' "
    "as the same user; never delete the lock file.",
    36: "Bazel stopped because of a problem on this machine, most often a full disk or too "
    "little memory: free space (check 'df -h' for ~/.cache/bazel and /tmp) and run again.",
    # BLAZE_INTERNAL_ERROR, also the client's code when its server dies under it (blaze.cc,
    # GetExitCodeForAbruptExit): "Server terminated abruptly", measured on Bazel 4.2.3. The
    # re-run then ran again what the killed command had compiled (measured: Bazel writes its
    # record of finished actions as a command ends); earlier commands' work was kept.
    37: "Bazel's server stopped abruptly (killed, most often by the kernel's out-of-memory "
    "killer, or crashed with an internal error): check 'dmesg' for 'Out of memory' and lower "
    "the parallelism or add swap if so, then run the step again; a new server starts, keeps "
    "what earlier builds finished, and may compile again what this one had.",
}

_SIGNALS: dict[int, str] = {
    signal.SIGINT: "it was interrupted (Ctrl+C); running the identical command again resumes",
    signal.SIGTERM: "it was asked to stop (SIGTERM), e.g. by a shutdown or a session "
    "ending; run the step again to resume",
    signal.SIGKILL: "it was killed (SIGKILL), often by the kernel's out-of-memory killer: "
    "check 'dmesg' for 'Out of memory', lower the parallelism (--jobs, "
    "--local_resources) or add swap, then run again; finished work is kept",
    signal.SIGHUP: "its terminal went away (SIGHUP); run the build detached and run the step again",
}


def sentence(code: int) -> str:
    """One sentence for ``code`` that says what happened and what to do next."""
    if code in _SENTENCES:
        return _SENTENCES[code]
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        what = _SIGNALS.get(-code, f"it was ended by {name}; run the step again to resume")
        return f"Bazel did not finish: {what}."
    if code > 128 and code - 128 in _SIGNALS:
        return sentence(128 - code)
    return (
        f"Bazel ended with exit code {code}, which it does not document: read the end of "
        "the log for the cause, run 'bazel shutdown', then run the step again."
    )


def waiting_sentence(pid: int | None) -> str:
    """Said once when Bazel waits for another command's lock: however long it lasts, it is
    Bazel's own wait, and the way on is to let that command end (or end it)."""
    who = f"another Bazel command (pid {pid})" if pid else "another Bazel command"
    see = f" (see it with: ps -fp {pid})" if pid else ""
    return (
        f"[emlsetup] {who} holds the lock of this build's output base{see}: Bazel waits for "
        "it to end, then builds; this is a wait, not a hang"
    )


def is_bazel(program: str) -> bool:
    """bazel in ~/bin, or the admin's own (serving.bazel: /usr/bin/bazel, bazel-4.2.3...)."""
    return Path(program).name.startswith("bazel")


def bazel_failure(code: int, tracker: BuildTracker) -> str:
    """Bazel's exit code as a sentence, and the error to fix first: the compiler's own
    file:line where there is one (tracker.first_error), else what Bazel said."""
    first = tracker.first_error
    where = ""
    if first is not None and first.file:
        where = f"; first error at {first.where}"
    elif first is not None and code != 8:  # 8: only "build interrupted", said already
        where = f"; Bazel said: {first.message}"
    said = sentence(code)
    return f"exit {code}: {said.removesuffix('.') if where else said}{where}"
