"""`status` and `resume` agree in every state a kill can leave, and resume finishes every
step that is not done, its expected-result checks included (issue 15, item 1)."""

from __future__ import annotations

import json

from tests.sandbox import Sandbox


def _set_step(sb: Sandbox, number: int, status: str) -> None:
    path = sb.state_dir / "state.json"
    data = json.loads(path.read_text())
    next(s for s in data["steps"] if s["number"] == number)["status"] = status
    path.write_text(json.dumps(data))


def test_killed_during_result_checks_resume_finishes_the_step_and_status_agrees(
    sandbox: Sandbox,
) -> None:
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
    # What a SIGKILL during step 2's result checks leaves: every action finished and saved,
    # the step still "running" (its "done" is saved only after the checks pass).
    _set_step(sandbox, 2, "running")
    before = sandbox.run_cli("status", "--json")
    said = json.loads(before.stdout)
    assert before.returncode == 1 and "emlsetup resume" in said["reason"], before.stdout
    assert said["resume_point"] == {"step": 2, "action": None}

    resumed = sandbox.run_cli("resume", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Resuming at step 2, its result checks" in resumed.stdout
    assert "Nothing to resume" not in resumed.stdout
    after = sandbox.run_cli("status", "--json")
    assert after.returncode == 0 and json.loads(after.stdout)["status"] == "done"
    assert len(sandbox.calls("useradd")) == 1  # the checks ran again, not the actions
    again = sandbox.run_cli("resume", "--yes")
    assert again.returncode == 0 and "Nothing to resume" in again.stdout


def test_an_unchecked_step_before_an_untouched_one_is_resumed_first(sandbox: Sandbox) -> None:
    """Step 2 killed in its checks, step 3 requested but not started: resume starts at 2."""
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
    path = sandbox.state_dir / "state.json"
    data = json.loads(path.read_text())
    data["requested"] = [2, 3]
    path.write_text(json.dumps(data))
    _set_step(sandbox, 2, "running")
    said = json.loads(sandbox.run_cli("status", "--json").stdout)
    assert said["resume_point"] == {"step": 2, "action": None}
    resumed = sandbox.run_cli("resume", "--yes")
    assert "Resuming at step 2, its result checks" in resumed.stdout
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    done = json.loads(sandbox.run_cli("status", "--json").stdout)
    assert done["steps_done"] == [2, 3] and done["exit"] == 0
