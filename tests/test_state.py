"""The state file survives interruption; one emlsetup at a time; damage is explained."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from steps.core.lock import LockedError, StateLock
from steps.core.state import (
    ActionState,
    ActionStatus,
    RunState,
    StateError,
    StateStore,
    StepState,
    StepStatus,
)


def _state() -> RunState:
    return RunState(
        run_id="r1",
        distro="SLES 12 SP2",
        family="sles",
        steps=[
            StepState(
                number=2,
                title="Create a dedicated user",
                actions=[
                    ActionState(id="useradd", title="Create the user"),
                    ActionState(id="sudoers", title="Let tmsadm use sudo"),
                ],
            )
        ],
    )


def test_save_and_load_round_trip_and_resume_point(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    state = _state()
    state.step(2).action("useradd").status = ActionStatus.DONE
    store.save(state)
    loaded = store.load()
    assert loaded is not None and loaded.step(2).action("useradd").status == ActionStatus.DONE
    assert loaded.resume_point() == (2, "sudoers")
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp files left


def test_missing_state_is_none_and_damaged_state_is_explained(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    assert store.load() is None
    store.file.write_text('{"run_id": "r1", "steps": [')
    with pytest.raises(StateError) as err:
        store.load()
    assert "damaged" in str(err.value) and "mv " in str(err.value)
    assert store.file.read_text() == '{"run_id": "r1", "steps": ['  # left for the admin


def test_a_full_disk_fails_in_one_sentence_and_keeps_the_previous_state(tmp_path: Path) -> None:
    """A child whose file-size limit is lower than the new state stands in for a full disk
    (EFBIG, like ENOSPC, surfaces at write time), even when the tests run as root."""
    store = StateStore(tmp_path)
    store.save(_state())
    before = store.file.read_text()
    code = (
        "import resource, signal, sys; from pathlib import Path; from steps.core.state import *\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "s = RunState(run_id='big', distro='x', family='sles', settings={'pad': 'x' * 50000})\n"
        "try:\n    StateStore(Path(sys.argv[1])).save(s)\n"
        "except StateError as e:\n    print(e); sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 3, done.stderr
    assert "previous state is intact" in done.stdout and "Traceback" not in done.stdout
    assert store.file.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


@pytest.mark.parametrize(
    ("previous", "then"),
    [
        (None, "run the same `emlsetup run` command again"),
        ("pending", "`emlsetup resume` (it continues at step 2)"),
        ("done", "run the same `emlsetup run` command again (the saved run is complete"),
    ],
)
def test_after_a_full_disk_the_message_names_what_continues_the_run(
    tmp_path: Path, previous: str | None, then: str
) -> None:
    """"then `emlsetup resume`" only where resume would find something to do."""
    store = StateStore(tmp_path)
    if previous is not None:
        state = _state()
        if previous == "done":
            state.step(2).status = StepStatus.DONE
            for action in state.step(2).actions:
                action.status = ActionStatus.DONE
        store.save(state)
    code = (
        "import resource, signal, sys; from pathlib import Path; from steps.core.state import *\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "s = RunState(run_id='big', distro='x', family='sles', settings={'pad': 'x' * 50000})\n"
        "try:\n    StateStore(Path(sys.argv[1])).save(s)\n"
        "except StateError as e:\n    print(e); sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, cwd=Path(__file__).parent.parent)  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert then in done.stdout
    if previous != "pending":
        assert "then `emlsetup resume`" not in done.stdout


def test_a_save_interrupted_by_sigkill_leaves_a_loadable_state(tmp_path: Path) -> None:
    """A child saves in a loop, reporting each save, and is killed right after its 1st, 2nd,
    ... 5th report, in the middle of the next save: never a torn file. The kill waits for
    the child's report, never for a time (a busy machine may take seconds to start it)."""
    code = (
        "import sys; from pathlib import Path; from steps.core.state import *\n"
        "store = StateStore(Path(sys.argv[1])); i = 0\n"
        "while True:\n"
        "    s = RunState(run_id=str(i), distro='x', family='sles',\n"
        "                 settings={'pad': 'x' * 20000})\n"
        "    store.save(s); i += 1\n"
        "    print('saved', flush=True)\n"
    )
    store = StateStore(tmp_path)
    for saves in range(1, 6):
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)],
            cwd=Path(__file__).parent.parent,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for _ in range(saves):
            assert proc.stdout.readline() == "saved\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        loaded = store.load()
        assert loaded is not None and loaded.settings["pad"] == "x" * 20000
        json.loads(store.file.read_text())
    store.save(_state())  # what a kill left mid-write does not pile up: the next save clears it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_second_instance_is_refused_naming_the_first_pid(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from steps.core.lock import "
            "StateLock; l = StateLock(Path(sys.argv[1])); l.acquire(); print('held', flush=True); "
            "time.sleep(30)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError) as err:
            StateLock(tmp_path).acquire()
        assert f"pid {holder.pid}" in str(err.value) and str(tmp_path) in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing: its lock is taken over, no manual clean-up needed.
    with StateLock(tmp_path) as lock:
        assert (tmp_path / "emlsetup.lock").read_text().strip() == str(os.getpid())
        assert lock is not None


def test_old_run_logs_are_pruned_but_the_current_run_is_kept(tmp_path: Path) -> None:
    from steps.core.session import prune_logs

    for i in range(15):
        run = tmp_path / f"run-{i:02d}"
        run.mkdir()
        (run / "5-build.log").write_text("x" * 100)
        os.utime(run, (1_000_000 + i, 1_000_000 + i))
    os.utime(tmp_path / "run-00", (2_000_000, 2_000_000))  # the newest by time
    removed = prune_logs(tmp_path, keep=10, keep_also="run-01")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 11 and "run-00" in left and "run-01" in left
    assert sorted(p.name for p in removed) == [f"run-{i:02d}" for i in range(2, 6)]
