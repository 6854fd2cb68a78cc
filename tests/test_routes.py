"""Per-release routes against stand-ins that behave like each release's tools: pip on
Python 2.7 (issue 14 item 2) and package names that the package database answers to
(issue 14 item 3)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.fakes.fakelib import install_tool
from tests.sandbox import Sandbox


def _tool(sb: Sandbox, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = sb.env(EMLSETUP_ROOT=str(sb.root))
    return subprocess.run([path, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_stand_in_pip_8_on_python27_upgrades_itself_to_a_pip_that_cannot_run(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    """What the tutorial's `pip install --upgrade pip` does on Ubuntu 16.04's virtualenv."""
    sb = make_sandbox("ubuntu1604")
    venv = sb.target("/home/tester/tms")
    install_tool(sb.fakebin, "virtualenv")
    assert (
        _tool(sb, str(sb.fakebin / "virtualenv"), "--python=python2.7", str(venv)).returncode == 0
    )
    pip = str(venv / "bin/pip")
    assert "pip 8.1.2" in _tool(sb, pip, "--version").stdout
    assert _tool(sb, pip, "install", "--upgrade", "pip").returncode == 0
    broken = _tool(sb, pip, "--version")
    assert broken.returncode == 1 and "SyntaxError: invalid syntax" in broken.stderr


def test_step_4_on_python27_pins_pip_below_21_and_ends_with_a_working_pip(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox("ubuntu1604")
    for step in ("2", "3", "4"):
        done = sb.run_cli("run", "--yes", "--only-step", step)
        assert done.returncode == 0, done.stdout[-2000:]
    upgrades = [c["argv"] for c in sb.calls("pip") if "--upgrade" in c["argv"]]
    assert upgrades == [["install", "--upgrade", "pip<21"]]
    version = _tool(sb, str(sb.target("/home/tmsadm/tms/bin/pip")), "--version")
    assert version.stdout.startswith("pip 20.3.4"), version.stderr
    plan = sb.run_cli("plan").stdout
    assert "pip install --upgrade 'pip<21'" in plan


def test_step_4_on_python3_uses_a_venv_tf2_and_the_tf2_hello_check(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    """The stand-in's TensorFlow 2 has no tf.Session (its hello check would fail)."""
    sb = make_sandbox("debian12")
    for step in ("2", "3", "4"):
        done = sb.run_cli("run", "--yes", "--only-step", step)
        assert done.returncode == 0, done.stdout[-2000:]
    installs = [c["argv"] for c in sb.calls("pip") if c["argv"][:1] == ["install"]]
    assert ["install", "tensorflow~=2.21.0"] in installs
    assert ["install", "tensorflow-serving-api~=2.21.0"] in installs
    assert not [a for a in installs if "--upgrade" in a]  # Debian 12's venv has pip 23.0.1
    python = _tool(sb, str(sb.target("/home/tmsadm/tms/bin/python")), "-c", "tf.Session()")
    assert python.returncode == 1 and "no attribute 'Session'" in python.stderr


def test_package_stand_ins_answer_by_real_names_and_provides(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    """Virtual Debian names are installed as their provider and unknown to dpkg -s; EPEL 7's
    python-pip is python2-pip, found by rpm -q --whatprovides only."""
    deb = make_sandbox("ubuntu1604")
    note = _tool(deb, str(deb.fakebin / "apt-get"), "install", "-y", "libcurl3-dev", "libpng-dev")
    assert "Note, selecting 'libcurl4-openssl-dev' instead of 'libcurl3-dev'" in note.stdout
    assert _tool(deb, str(deb.fakebin / "dpkg"), "-s", "libcurl3-dev").returncode == 1
    real = _tool(deb, str(deb.fakebin / "dpkg"), "-s", "libcurl4-openssl-dev", "libpng12-dev")
    assert real.returncode == 0
    new = make_sandbox("debian12")
    gone = _tool(new, str(new.fakebin / "apt-get"), "install", "-y", "python-dev")
    assert gone.returncode == 100 and "has no installation candidate" in gone.stderr
    rpm = make_sandbox("centos7")
    assert _tool(rpm, str(rpm.fakebin / "yum"), "install", "-y", "python-pip").returncode == 0
    plain = _tool(rpm, str(rpm.fakebin / "rpm"), "-q", "python-pip")
    assert plain.returncode == 1 and "package python-pip is not installed" in plain.stdout
    provides = _tool(rpm, str(rpm.fakebin / "rpm"), "-q", "--whatprovides", "python-pip")
    assert provides.returncode == 0 and provides.stdout.startswith("python2-pip-")
    rhel9 = make_sandbox("rhel94")
    refused = _tool(rhel9, str(rhel9.fakebin / "yum"), "install", "-y", "python-devel")
    assert refused.returncode == 1 and "Unable to find a match: python-devel" in refused.stderr


def test_the_answers_file_chooses_how_tf_serving_gets_there(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    """serving.route: the plan names the route and its duration; a container is pulled and
    run with podman; a route the release cannot take is one line, exit 2."""
    tutorial = make_sandbox("sles12sp2")
    assert "TF Serving: build (2-4 hours)" in tutorial.run_cli("plan").stdout
    refused = tutorial.run_cli("--set", 'serving.route="container"', "plan")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "choose 'build'" in refused.stderr
    sb = make_sandbox("debian12")
    answers = sb.path / "answers.toml"
    answers.write_text('[serving]\nroute = "container"\n')
    plan = sb.run_cli("--config", str(answers), "plan").stdout
    assert "TF Serving: container (minutes)" in plan and "tensorflow-model-server" not in plan
    for step in ("2", "3", "4", "5", "6"):
        done = sb.run_cli("--config", str(answers), "run", "--yes", "--only-step", step)
        assert done.returncode == 0, done.stdout[-2000:]
    podman = [c["argv"][:2] for c in sb.calls("podman")]
    assert ["pull", "docker.io/tensorflow/serving:2.21.0"] in podman
    assert ["run", "--rm"] in podman
    assert not [c for c in sb.calls("apt-get") if "tensorflow-model-server" in c["argv"]]


async def test_the_welcome_screen_shows_the_serving_route_and_its_duration(
    make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.text import Text
    from textual.widgets import Static

    from tests.tui_support import open_app, settle
    from tui.screens.welcome import WelcomeScreen

    for sample, shown in (
        ("sles12sp2", "TF Serving: build (2-4 hours)"),
        ("rhel94", "TF Serving: container (minutes)"),
    ):
        app = open_app(make_sandbox(sample), monkeypatch)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, WelcomeScreen)
            content = app.screen.query_one("#distro", Static).content
            text = content.plain if isinstance(content, Text) else str(content)
            assert shown in text, text


def test_where_systemd_runs_the_model_server_is_a_unit_restarted_when_its_config_changed(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    """Issue 17 item 3: enabled (back after a reboot), started by systemd instead of the
    tutorial's nohup, restarted only when the unit or config.cnf changed since it started."""
    sb = make_sandbox("debian12")
    for folder in ("run/systemd/system", "etc/systemd/system"):  # a system booted by systemd
        (sb.root / folder).mkdir(parents=True)
    install_tool(sb.fakebin, "systemctl")
    for step in ("2", "3", "4", "5", "6"):
        done = sb.run_cli("run", "--yes", "--only-step", step)
        assert done.returncode == 0, done.stdout[-2000:]
    unit = sb.target("/etc/systemd/system/tensorflow-serving.service").read_text()
    assert "User=tmsadm\n" in unit
    assert (
        f"ExecStart=/usr/bin/tensorflow_model_server --port={sb.port} "
        "--model_config_file=/home/tmsadm/export/config.cnf\n"
    ) in unit
    wants = sb.target("/etc/systemd/system/multi-user.target.wants/tensorflow-serving.service")
    assert wants.is_symlink()
    servers = sb.calls("tensorflow_model_server")
    assert len(servers) == 1 and servers[0]["user"] == "tmsadm"  # systemd's, not nohup's

    def restarts() -> int:
        return sum(1 for c in sb.calls("systemctl") if c["argv"][:1] == ["restart"])

    assert restarts() == 1
    again = sb.run_cli("run", "--yes", "--only-step", "6")
    assert again.returncode == 0 and restarts() == 1, again.stdout[-2000:]
    config = sb.target("/home/tmsadm/export/config.cnf")
    config.write_text(config.read_text())  # saved again by the admin (an editor's :w)
    later = time.time() + 5
    os.utime(config, (later, later))
    changed = sb.run_cli("run", "--yes", "--only-step", "6")
    assert changed.returncode == 0, changed.stdout[-2000:]
    assert restarts() == 2 and len(sb.calls("tensorflow_model_server")) == 2


@pytest.mark.parametrize("sample", ["sles12sp2", "rhel7", "centos7", "ubuntu1604", "debian9"])
def test_plans_on_the_tutorials_systems_show_the_pinned_pip(
    make_sandbox: Callable[..., Sandbox], sample: str
) -> None:
    plan = make_sandbox(sample).run_cli("plan").stdout
    assert "$ /home/tmsadm/tms/bin/pip install --upgrade 'pip<21'" in plan
    assert "$ virtualenv --python=python2.7 --system-site-packages /home/tmsadm/tms" in plan
    assert "pip install --upgrade pip\n" not in plan


# Step 3's install of the build tools on each release's build route, as the plan shows it.
BUILD_TOOLS = {
    "sles12sp2": "zypper --non-interactive install wget curl git freetype-devel libpng12-devel "
    "swig zip unzip",
    "rhel7": "yum install -y wget curl git freetype-devel swig zip unzip",
    "centos7": "yum install -y wget curl git freetype-devel swig zip unzip",
    "ubuntu1604": "apt-get install -y build-essential curl libcurl4-openssl-dev git "
    "libfreetype6-dev libpng12-dev libzmq3-dev pkg-config software-properties-common swig zip "
    "zlib1g-dev unzip",
    "sles15sp5": "zypper --non-interactive install wget curl git freetype2-devel libpng16-devel "
    "swig zip podman unzip",
    "rhel94": "yum install -y wget curl git freetype-devel swig zip podman unzip",
    "debian12": "apt-get install -y build-essential ca-certificates curl git pkg-config swig zip "
    "zlib1g-dev unzip",
}


@pytest.mark.parametrize("sample", sorted(BUILD_TOOLS))
def test_every_route_that_runs_the_bazel_installer_installs_unzip_in_step_3(
    make_sandbox: Callable[..., Sandbox], sample: str
) -> None:
    """Bazel's installer exits 1 without unzip (template_bin.sh), on the tutorial's build
    routes (SLES 12, RHEL 7) as on the newer ones; the tutorial's step 3 installs only zip.
    A route that never runs the installer (container, apt) does not get it."""
    sb = make_sandbox(sample)
    build = sb.env(EMLSETUP_SERVING__ROUTE="build")
    plan = sb.run_cli("plan", env=build)
    assert plan.returncode == 0, plan.stderr
    three = plan.stdout.split("== Step 3")[1].split("== Step 4")[0]
    assert f"$ {BUILD_TOOLS[sample]}\n" in three
    assert "unzip is installed too, which the tutorial omits" in three
    if sample in ("sles12sp2", "rhel7", "centos7"):
        assert sb.run_cli("plan").stdout == plan.stdout  # the build is their default
        return
    other = sb.run_cli("plan").stdout.split("== Step 3")[1].split("== Step 4")[0]
    assert "unzip" not in other
