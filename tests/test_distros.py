"""Each supported system, detected from its own /etc/os-release and set up with its own
package tools; anything else explained in one sentence with the override."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.os_releases import OS_RELEASE
from tests.sandbox import Sandbox

FAMILY = {
    "sles12sp2": "sles",
    "sles12sp3_sap": "sles",
    "rhel7": "rhel",
    "centos7": "rhel",
    "ubuntu1604": "debian",
    "debian9": "debian",
    "mint19": "debian",
    "opensuse_leap15": None,
    "fedora28": None,
    "alpine": None,
}
assert set(FAMILY) == set(OS_RELEASE)


@pytest.mark.parametrize("sample", sorted(FAMILY))
def test_detects_the_family_or_says_how_to_force_one(
    make_sandbox: Callable[..., Sandbox], sample: str
) -> None:
    sb = make_sandbox(sample)
    done = sb.run_cli("detect")
    family = FAMILY[sample]
    if family:
        assert done.returncode == 0, done.stderr
        assert f"family: {family}" in done.stdout
    else:
        assert done.returncode == 1
        assert "not supported" in done.stdout and "--distro" in done.stdout
        forced = sb.run_cli("--distro", "sles", "detect")
        assert forced.returncode == 0 and "family: sles" in forced.stdout


def _run(sb: Sandbox) -> str:
    out = []
    for step in ("2", "3", "4", "5", "6"):
        done = sb.run_cli("run", "--yes", "--only-step", step)
        out.append(done.stdout)
        assert done.returncode == 0, done.stdout[-2000:]
    return "".join(out)


def _count(sb: Sandbox, tool: str, *words: str) -> int:
    return sum(1 for c in sb.calls(tool) if all(w in c["argv"] for w in words))


def test_rhel_uses_subscription_manager_yum_and_epel(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox("rhel7")
    _run(sb)
    assert _count(sb, "subscription-manager", "repos") == 2
    assert _count(sb, "yum", "groupinstall", "Development Tools") == 1
    assert _count(sb, "rpm", "-ivh") == 1
    assert sb.calls("zypper") == [] and sb.calls("SUSEConnect") == []
    assert _count(sb, "bazel", "build") == 1


def test_centos_has_no_subscription_manager_and_does_not_need_it(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox("centos7", omit=("subscription-manager",))
    out = _run(sb)
    assert sb.calls("subscription-manager") == []
    assert "command not found" not in out
    assert _count(sb, "yum", "install") == 2


@pytest.mark.parametrize("sample", ["debian9", "ubuntu1604"])
def test_debian_family_installs_the_packaged_model_server(
    make_sandbox: Callable[..., Sandbox], sample: str
) -> None:
    sb = make_sandbox(sample)
    _run(sb)
    assert _count(sb, "apt-get", "install", "tensorflow-model-server") == 1
    assert sb.calls("bazel") == [] and sb.calls("git") == []
    assert sb.target("/etc/apt/sources.list.d/tensorflow-serving.list").exists()
    profile = sb.target("/home/tmsadm/.profile").read_text()
    assert profile.count('export PATH="$PATH:/home/tmsadm/tms/bin"') == 1
