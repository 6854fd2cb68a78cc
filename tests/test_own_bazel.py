"""Bring your own Bazel (`serving.bazel`): the installer actions are left out, the build runs
the admin's binary, and its version is compared with the tag's pin before anything runs (a
mismatch is one preflight line, accepted with --skip-preflight bazel). A path that is not a
program stops the run at once, in one line, with exit 2. The stand-in answers `--version`
and `version` as real releases do (tests/fakes/fakes_build.py); the real Debian Bazel's
answers are in tests/test_bazel_version.py and tests/test_real_bazel.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.fakelib import install_tool
from tests.sandbox import Sandbox

OWN = "/opt/bazel/bin/bazel"
INSTALLER_ACTIONS = {"bazel-download", "bazel-chmod", "bazel-install", "bazel-cleanup"}


def _own(sb: Sandbox, label: str) -> None:
    install_tool(sb.target("/opt/bazel/bin"), "bazel", {"FAKE_BAZEL_LABEL": label})


def _prepared(sb: Sandbox, label: str) -> None:
    for step in ("2", "3"):
        assert sb.run_cli("run", "--yes", "--only-step", step).returncode == 0
    _own(sb, label)


def test_the_plan_builds_with_the_admins_bazel_and_installs_none(sandbox: Sandbox) -> None:
    _own(sandbox, "5.3.0")
    shown = sandbox.run_cli("--set", f"serving.bazel={OWN}", "plan", "--json")
    assert shown.returncode == 0, shown.stderr
    steps = {s["number"]: s for s in json.loads(shown.stdout)["steps"]}
    five = {a["id"]: a for a in steps[5]["actions"]}
    assert not INSTALLER_ACTIONS & set(five)
    for build in ("build", "test", "model-server"):
        assert five[build]["argv"][0] == OWN
    assert not any("bazel version is exactly" in c["name"] for c in steps[5]["results"])
    assert any(OWN in str(note) for note in steps[5]["corrections"])
    # unzip is for Bazel's installer only: step 3 neither installs nor expects it.
    assert "unzip" not in json.dumps(steps[3]["actions"])
    assert not any("unzip" in c["name"] for c in steps[3]["results"])
    usual = json.loads(sandbox.run_cli("plan", "--json").stdout)["steps"]
    assert {a["id"] for a in usual[4]["actions"]} >= INSTALLER_ACTIONS


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda sb: None, "no such file on this system"),
        (lambda sb: sb.target("/opt/bazel/bin/bazel").mkdir(parents=True), "is a folder"),
        (
            lambda sb: (
                sb.target("/opt/bazel/bin").mkdir(parents=True),
                sb.target(OWN).write_text("#!/bin/sh\n"),
            ),
            "not executable",
        ),
    ],
    ids=["missing", "folder", "not-executable"],
)
def test_a_path_that_is_no_program_is_one_line_and_exit_2(
    sandbox: Sandbox, make: object, said: str
) -> None:
    make(sandbox)  # type: ignore[operator]
    done = sandbox.run_cli("--set", f"serving.bazel={OWN}", "run", "--yes", "--only-step", "5")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"emlsetup: serving.bazel = '{OWN}': {said}"), done.stderr
    assert "step 5 installs Bazel 0.11.1" in done.stderr
    assert not (sandbox.state_dir / "state.json").exists() and sandbox.calls("bazel") == []


def test_another_version_is_one_preflight_line_that_the_admin_may_accept(
    sandbox: Sandbox,
) -> None:
    _prepared(sandbox, "5.3.0")
    run = ("--set", f"serving.bazel={OWN}", "run", "--yes", "--only-step", "5")
    stopped = sandbox.run_cli(*run)
    assert stopped.returncode == 1
    lines = [x for x in stopped.stdout.splitlines() if " bazel " in x or "measured:" in x]
    bazel = next(i for i, x in enumerate(lines) if "your Bazel (serving.bazel)" in x)
    assert "✘" in lines[bazel] and "TF Serving 1.8.0 pins" in lines[bazel]
    assert f"measured: {OWN} is Bazel 5.3.0; needed: Bazel 0.11.1" in lines[bazel + 1]
    assert "--skip-preflight bazel" in stopped.stdout
    assert sandbox.calls("bazel") == [] or all(
        c["argv"] == ["--version"] for c in sandbox.calls("bazel")
    )  # only asked its version: nothing was built
    accepted = sandbox.run_cli(*run, "--skip-preflight", "bazel")
    assert accepted.returncode == 0, accepted.stdout[-3000:]
    builds = [c for c in sandbox.calls("bazel") if "build" in c["argv"]]
    assert builds and all(c["argv"][0] == "build" for c in builds)
    assert sandbox.calls("curl") == [] and not sandbox.target("/home/tmsadm/bin/bazel").exists()
    # The installer actions the first runs planned (without serving.bazel) are no point to
    # resume at: the run is done.
    status = sandbox.run_cli("--set", f"serving.bazel={OWN}", "status")
    assert status.returncode == 0, status.stdout


def test_the_pinned_version_passes_even_from_a_bazel_without_version_flag(
    sandbox: Sandbox,
) -> None:
    _prepared(sandbox, "0.11.1")
    done = sandbox.run_cli("--set", f"serving.bazel={OWN}", "run", "--yes", "--only-step", "5")
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"measured: {OWN} is Bazel 0.11.1; needed: Bazel 0.11.1" in done.stdout
    asked = [c["argv"] for c in sandbox.calls("bazel") if "build" not in c["argv"]]
    assert asked[:2] == [["--version"], ["version"]]


@pytest.mark.parametrize("given", ["bazel", "bin/bazel", "./bazel"])
def test_a_relative_path_is_asked_for_as_an_absolute_one(sandbox: Sandbox, given: str) -> None:
    """An admin types `bazel` (as on their command line): the line says what is wanted, not
    the regular expression that refused it."""
    said = sandbox.run_cli("--set", f"serving.bazel={given}", "plan")
    assert said.returncode == 2 and said.stdout == ""
    line = said.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"serving.bazel (from --set): must be an absolute path (got {given!r})" in line, line
    assert "command -v bazel" in line and "pattern" not in line, line


def test_a_program_accepted_as_bazel_that_builds_nothing_is_named_not_rerun(
    sandbox: Sandbox,
) -> None:
    """serving.bazel at /bin/true, accepted with --skip-preflight bazel: every `build` exits
    0 and no model server appears. Re-running step 5 would do the same, so the failure
    names the admin's Bazel instead."""
    for step in ("2", "3"):
        assert sandbox.run_cli("run", "--yes", "--only-step", step).returncode == 0
    sandbox.target("/opt/bazel/bin").mkdir(parents=True)
    sandbox.target(OWN).write_bytes(Path("/bin/true").read_bytes())
    sandbox.target(OWN).chmod(0o755)
    run = ("--set", f"serving.bazel={OWN}", "run", "--yes", "--only-step", "5")
    done = sandbox.run_cli(*run, "--skip-preflight", "bazel")
    assert done.returncode == 1, done.stdout[-3000:]
    assert f"measured: {OWN} is not Bazel: --version printed true (GNU coreutils)" in done.stdout
    failed = next(x for x in done.stdout.splitlines() if "failed: expected result" in x)
    assert f"your Bazel ({OWN}, serving.bazel) built no tensorflow_model_server" in failed
    assert "re-run step 5" not in failed, failed
