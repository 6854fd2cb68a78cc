"""Step 5 in the sandbox: Bazel install (online and offline), the checkout, compile errors,
a build that dies with the wizard re-run identically, one whose pid was never saved found
again, and the optional tests."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox import Sandbox
from tests.test_run_headless import (
    _start_slow_build,
    _wait_for,
    build_has_printed,
    count,
    state,
    statuses,
)


def _prepare(sb: Sandbox) -> None:
    for step in ("2", "3", "4"):
        assert sb.run_cli("run", "--yes", "--only-step", step).returncode == 0


def test_offline_bazel_download_says_how_to_use_an_installer_on_disk(sandbox: Sandbox) -> None:
    _prepare(sandbox)
    offline = sandbox.run_cli(
        "run", "--yes", "--only-step", "5", env=sandbox.env(FAKE_OFFLINE="1")
    )
    assert offline.returncode == 1
    assert "Could not resolve host: github.com" in offline.stdout
    assert "serving.bazel_installer=/path/to/it" in offline.stdout
    # The admin copies the installer over and points the wizard at it.
    installer = sandbox.target("/root/bazel-0.11.1-installer-linux-x86_64.sh")
    from tests.fakes.fakelib import install_tool

    install_tool(installer.parent, "bazel-installer", {"FAKE_BAZEL_LABEL": "0.11.1"},
                 filename=installer.name)  # fmt: skip
    done = sandbox.run_cli(
        "--set", f"serving.bazel_installer=/root/{installer.name}", "run", "--yes",
        "--only-step", "5",
        env=sandbox.env(FAKE_OFFLINE="1"),
    )  # fmt: skip
    # Bazel is installed from disk; the clone then needs the network, and says so.
    assert count(sandbox, "cp", f"/root/{installer.name}") == 1
    assert statuses(sandbox, 5)["bazel-install"] == "done"
    assert "clone on another machine" in done.stdout


@pytest.mark.parametrize("sample", ["sles12sp2", "rhel7"])
def test_without_unzip_the_bazel_installer_stops_and_the_fix_is_step_3(
    make_sandbox: Callable[..., Sandbox], sample: str
) -> None:
    """A server whose step 3 was done the tutorial's way (zip, no unzip): Bazel's installer
    refuses as the real one does, the wizard says what to do, and step 3 then installs it."""
    sb = make_sandbox(sample)
    _prepare(sb)
    sb.target("/usr/bin/unzip").unlink()
    packages = sb.target("/var/lib/fake-packages")
    packages.write_text(packages.read_text().replace("unzip\n", ""))
    stopped = sb.run_cli("run", "--yes", "--only-step", "5")
    assert stopped.returncode == 1
    assert "unzip not found, please install the corresponding package." in stopped.stdout
    assert "Install Bazel in user mode failed: exit 1: unzip not found" in stopped.stdout
    assert "fix: if it says unzip not found, install unzip with step 3" in stopped.stdout
    assert statuses(sb, 5)["bazel-install"] == "failed"
    assert not sb.target("/home/tmsadm/bin/bazel").exists() and sb.calls("git") == []
    # The fix as told: step 3 installs unzip (only the build tools' install runs again).
    assert sb.run_cli("run", "--yes", "--only-step", "3").returncode == 0
    assert "unzip" in packages.read_text().split()
    done = sb.run_cli("run", "--yes", "--only-step", "5")
    assert done.returncode == 0, done.stdout[-2000:]
    assert statuses(sb, 5)["bazel-install"] == "done"


def test_a_wrong_bazel_version_is_a_failed_check_with_the_fix(sandbox: Sandbox) -> None:
    _prepare(sandbox)
    from tests.fakes.fakelib import install_tool

    install_tool(sandbox.target("/home/tmsadm/bin"), "bazel", {"FAKE_BAZEL_LABEL": "0.26.1"})
    done = sandbox.run_cli("check", "--step", "5")
    assert done.returncode == 1
    assert "bazel version is exactly 0.11.1" in done.stdout and "0.26.1" in done.stdout
    assert "user-mode installer" in done.stdout


def test_a_checkout_at_another_tag_stops_step_5_before_anything_runs(sandbox: Sandbox) -> None:
    _prepare(sandbox)
    git = sandbox.target("/home/tmsadm/serving/.git")
    git.mkdir(parents=True)
    (git / "fake-tag").write_text("2.4.0\n")
    done = sandbox.run_cli("run", "--yes", "--only-step", "5")
    assert done.returncode == 1
    assert "at 2.4.0" in done.stdout and "mv /home/tmsadm/serving" in done.stdout
    assert sandbox.calls("curl") == [] and sandbox.calls("bazel") == []


def test_a_compile_error_is_shown_with_file_and_line(sandbox: Sandbox) -> None:
    _prepare(sandbox)
    done = sandbox.run_cli(
        "run", "--yes", "--only-step", "5", env=sandbox.env(FAKE_BAZEL_FIXTURE="04-compile-error")
    )
    assert done.returncode == 1
    assert "Compile TensorFlow Serving (2-4 hours) failed: exit 1:" in done.stdout
    assert "broken/broken.cc:1" in done.stdout


def test_a_build_that_died_with_the_wizard_is_rerun_identically(sandbox: Sandbox) -> None:
    """The SSH session and the OOM killer took both: resume re-runs the same command in the
    same folder with the same environment, so Bazel keeps its finished actions."""
    proc = _start_slow_build(sandbox)
    _wait_for(lambda: build_has_printed(sandbox))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The build and its wrapper die together (a rebooted VM, an OOM kill of the session):
    # nothing records an exit status.
    sandbox.cleanup()
    resumed = sandbox.run_cli("resume", "--yes")
    assert "the previous build died; running the identical command again" in resumed.stdout
    builds = [c for c in sandbox.calls("bazel") if "build" in c["argv"]]
    assert len(builds) == 2
    assert builds[0]["argv"] == builds[1]["argv"] and builds[0]["cwd"] == builds[1]["cwd"]
    assert builds[0]["path"] == builds[1]["path"]
    assert "[10 / 19]" in resumed.stdout or "19 total actions" in resumed.stdout
    assert statuses(sandbox, 5)["build"] == "done"


def _build_record(data: dict[str, Any]) -> dict[str, Any]:
    step = next(s for s in data["steps"] if s["number"] == 5)
    build: dict[str, Any] = next(a for a in step["actions"] if a["id"] == "build")
    return build["commands"][-1]


def test_a_build_whose_pid_was_never_saved_is_found_and_not_started_twice(
    sandbox: Sandbox,
) -> None:
    """The wizard died after starting the build but before saving its pid (a window of
    milliseconds, hit once in a 200-kill campaign): resume finds the build by the exit file
    its wrapper names, re-attaches, and knows its command line and environment again."""
    proc = _start_slow_build(sandbox)
    _wait_for(lambda: count(sandbox, "bazel", "build") >= 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    data = state(sandbox)
    rec = _build_record(data)
    started_as = rec["exec_argv"], rec["env"]["PATH"]
    rec.update(pid=None, exec_argv=None, env=None)  # all that wizard had saved
    (sandbox.state_dir / "state.json").write_text(json.dumps(data))
    resumed = sandbox.run_cli("resume", "--yes")
    assert "re-attaching to the build" in resumed.stdout
    assert count(sandbox, "bazel", "build", "tensorflow_serving/...") == 1
    assert statuses(sandbox, 5)["build"] in ("done", "already done")
    rec = _build_record(state(sandbox))
    assert rec["pid"] and (rec["exec_argv"], rec["env"]["PATH"]) == started_as


def test_bazel_killed_by_the_oom_killer_is_explained_and_the_next_resume_reruns_it(
    sandbox: Sandbox,
) -> None:
    proc = _start_slow_build(sandbox)
    _wait_for(lambda: count(sandbox, "bazel", "build") >= 1)
    proc.send_signal(signal.SIGKILL)  # the wizard went with the SSH session
    proc.wait()
    build = next(c for c in sandbox.calls("bazel") if "build" in c["argv"])
    os.kill(build["pid"], signal.SIGKILL)  # then the kernel took Bazel: its wrapper records it
    _wait_for(lambda: any(sandbox.state_dir.glob("logs/*/5-build-*.exit")))
    told = sandbox.run_cli("resume", "--yes")
    assert told.returncode == 1
    assert "killed (SIGKILL)" in told.stdout and "out-of-memory" in told.stdout
    again = sandbox.run_cli("resume", "--yes")
    assert again.returncode == 0, again.stdout[-2000:]
    assert count(sandbox, "bazel", "build") == 2
    assert statuses(sandbox, 5)["build"] == "done"


def test_the_optional_tests_run_only_when_turned_on_and_their_failure_says_why(
    sandbox: Sandbox,
) -> None:
    _prepare(sandbox)
    default = sandbox.run_cli("run", "--yes", "--only-step", "5")
    assert default.returncode == 0
    assert "optional: turn it on with --set serving.run_tests=true" in default.stdout
    assert count(sandbox, "bazel", "test") == 0 and statuses(sandbox, 5)["test"] == "skipped"
    # Turned on later: the build is found done on the system; only the tests run.
    on = ("--set", "serving.run_tests=true")
    tests_on = sandbox.run_cli(*on, "run", "--yes", "--only-step", "5")
    assert tests_on.returncode == 1
    assert count(sandbox, "bazel", "test", "tensorflow_serving/...") == 1
    assert count(sandbox, "bazel", "build", "tensorflow_serving/...") == 1
    assert "Run the TensorFlow Serving tests (optional) failed: exit 1" in tests_on.stdout
    assert "Analysis of target '//tests:pass_test' failed" in tests_on.stdout
    assert statuses(sandbox, 5)["test"] == "failed"
