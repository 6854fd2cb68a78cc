"""Reading the version of the admin's own Bazel (steps/bazel/version.py) from real outputs:
Debian 12's bazel-bootstrap 4.2.3 measured on this machine kind, the others as Bazel's issue
tracker shows them (each sample names its source)."""

from __future__ import annotations

import pytest

from checks.evaluate import ProbeResult
from checks.result import Status
from steps.bazel.version import parse, read, row

# `bazel --version` and `bazel version` of Debian's package (built from source), measured.
DEBIAN_GNU = "bazel no_version\n"
DEBIAN_VERSION = (
    "Starting local Bazel server and connecting to it...\n"
    "ERROR: Version information not available\n"
)
# bazelbuild/bazel issue 3599 (Bazel 0.5.3): no --version yet; `bazel version`'s block.
OLD_REFUSAL = (
    "Unknown startup option: '--version'.\n  For more info, run 'bazel help startup_options'.\n"
)
OLD_VERSION = (
    "Build label: 0.5.3\n"
    "Build target: bazel-out/local-fastbuild/bin/src/main/java/com/google/devtools/build/lib/"
    "bazel/BazelServer_deploy.jar\n"
    "Build time: Fri Jul 28 08:34:59 2017 (1501230899)\n"
    "Build timestamp: 1501230899\n"
    "Build timestamp as int: 1501230899\n"
)


@pytest.mark.parametrize(
    ("said", "version"),
    [
        (DEBIAN_GNU, None),
        (DEBIAN_VERSION, None),
        (OLD_REFUSAL, None),
        (OLD_VERSION, "0.5.3"),
        ("bazel 8.2.1\n", "8.2.1"),  # bazelbuild/bazel issue 26225
        ("bazel 6.0.0-pre.20220112.2\n", "6.0.0-pre.20220112.2"),
        ("Build label: \nBuild target: bazel-out/k8-opt/bin/src/main/java\n", None),
        ("", None),
    ],
)
def test_parse(said: str, version: str | None) -> None:
    assert parse(said) == version


def test_read_asks_an_old_bazel_its_version_command_as_the_admin() -> None:
    asked: list[tuple[list[str], str]] = []

    def old(argv: list[str], run_as: str) -> ProbeResult:
        asked.append((argv, run_as))
        return ProbeResult(2, OLD_REFUSAL) if "--version" in argv else ProbeResult(0, OLD_VERSION)

    assert read(old, "/opt/bazel") == ("0.5.3", OLD_VERSION)
    # --version starts no server, so it runs as whoever runs the wizard; `version` starts
    # one, in the output base of the admin who builds.
    assert asked == [(["/opt/bazel", "--version"], "self"), (["/opt/bazel", "version"], "admin")]


def test_read_does_not_start_a_server_for_a_bazel_that_names_no_release() -> None:
    asked: list[list[str]] = []

    def debian(argv: list[str], run_as: str) -> ProbeResult:
        asked.append(argv)
        return ProbeResult(0, DEBIAN_GNU)

    assert read(debian, "/usr/bin/bazel") == (None, DEBIAN_GNU)
    assert asked == [["/usr/bin/bazel", "--version"]]


def test_the_preflight_line() -> None:
    same = row("/usr/bin/bazel", "0.11.1", "bazel 0.11.1", "0.11.1", "1.8.0")
    assert same.status == Status.OK and same.name == "bazel" and same.fix == ""
    other = row("/usr/bin/bazel", "4.2.3", "bazel 4.2.3", "0.11.1", "1.8.0")
    assert other.failed and other.measured == "/usr/bin/bazel is Bazel 4.2.3"
    assert other.needed == "Bazel 0.11.1" and "TF Serving 1.8.0 pins" in other.check
    assert "point serving.bazel at a Bazel 0.11.1" in other.fix
    unknown = row("/usr/bin/bazel", None, DEBIAN_GNU, "0.11.1", "1.8.0")
    assert unknown.failed
    assert unknown.measured == "/usr/bin/bazel names no release (bazel no_version)"


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        (
            "true (GNU coreutils) 9.1\nCopyright (C) 2022 Free Software Foundation, Inc.\n",
            "true (GNU coreutils) 9.1",
        ),  # fmt: skip
        ("", "nothing"),  # /bin/true itself prints nothing
        ("hello: %%$$ garbage\n", "hello: %%$$ garbage"),
    ],
)
def test_a_program_that_is_not_bazel_is_said_to_be_none(said: str, shown: str) -> None:
    """serving.bazel pointing at another program (a typo'd path, /bin/true, a wrapper that
    prints something else): the line says it is not Bazel at all, not "no release"."""
    line = row("/usr/bin/truebin", None, said, "0.11.1", "1.8.0")
    assert line.failed
    assert line.measured == f"/usr/bin/truebin is not Bazel: --version printed {shown}"
    assert line.fix.startswith("point serving.bazel at your Bazel 0.11.1 (command -v bazel)")


def test_a_program_that_never_answers_is_said_to_hang_not_to_be_another() -> None:
    """A wrapper that hangs on --version (bazelisk fetching without network): the probe's
    own "no answer within 60s" is what happened, not what the program printed."""
    line = row("/usr/bin/hangs", None, "/usr/bin/hangs: no answer within 60s", "0.11.1", "1.8.0")
    assert line.failed
    assert line.measured == "/usr/bin/hangs did not answer --version within 60s"
    assert "`/usr/bin/hangs --version`" in line.fix and "not Bazel" not in line.measured
