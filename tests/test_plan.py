"""`emlsetup plan` shows every command of the tutorial, or its named correction, per family.

The tutorial's code blocks are parsed from the copy in tests/fixtures, so a command that the
table below does not account for fails the test instead of being silently left out."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from checks.distro import DistroInfo
from steps.cli.main import main, print_plan
from steps.core.plan import Hardware, build_plan, optimisation_flags, resource_flags
from steps.core.settings import Settings, load_settings
from steps.tutorial import STEPS

TUTORIAL = Path(__file__).parent / "fixtures" / "hxe-eml-tensorflow-tutorial.md"
ALL, BUILD = {"sles", "rhel", "debian"}, {"sles", "rhel"}
SLES, RHEL, DEB = {"sles"}, {"rhel"}, {"debian"}
HOME = "/home/tmsadm"
INSTALLER = f"{HOME}/bazel-0.11.1-installer-linux-x86_64.sh"
FULL_CPU = Hardware(cpu_flags={"sse4.1", "sse4.2", "avx", "avx2", "fma"}, cpus=8, mem_mb=32768)

# tutorial line -> (families, what the plan shows instead (None: nothing to run),
#                   a phrase the step's corrections must contain (None: no departure))
EXPECT: dict[str, tuple[set[str], str | None, str | None]] = {
    "sudo su -l hxeadm": (ALL, "[hxeadm] Run the memory management script", None),
    "cd /usr/sap/HXE/home/bin": (ALL, "$ /usr/sap/HXE/home/bin/hxe_gc.sh", None),
    "./hxe_gc.sh": (ALL, "$ /usr/sap/HXE/home/bin/hxe_gc.sh", None),
    "exit": (ALL, None, "no login shell is left open"),
    'sudo useradd -m -d /home/tmsadm -c "TensorFlow Administrator" tmsadm': (
        ALL,
        "$ useradd -m -d /home/tmsadm -c 'TensorFlow Administrator' tmsadm",
        None,
    ),
    "sudo passwd tmsadm": (ALL, "sudo passwd tmsadm", "never handles the user's password"),
    "sudo bash -c 'echo \"tmsadm ALL=(ALL) NOPASSWD: ALL\" >>/etc/sudoers'": (
        ALL,
        "write /etc/sudoers.d/tmsadm (mode 0440, checked with visudo -cf",
        "visudo -cf",
    ),
    "sudo su -l tmsadm": (ALL, "[tmsadm] Create the virtualenv /home/tmsadm/tms", None),
    "sudo apt-get install virtualenv": (DEB, "$ apt-get install -y virtualenv", "-y"),
    "sudo apt-get install python-numpy python-dev python-pip python-wheel": (
        DEB,
        "virtualenv python-numpy python-dev python-pip python-wheel",
        None,
    ),
    "sudo SUSEConnect -p PackageHub/12.2/x86_64": (
        SLES,
        "$ SUSEConnect -p PackageHub/12.2/x86_64",
        None,
    ),
    "sudo SUSEConnect -p sle-sdk/12.2/x86_64": (SLES, "$ SUSEConnect -p sle-sdk/12.2/x86_64", None),
    "sudo SUSEConnect -p sle-module-toolchain/12/x86_64": (
        SLES,
        "$ SUSEConnect -p sle-module-toolchain/12/x86_64",
        None,
    ),
    "sudo zypper clean": (SLES, "$ zypper clean", None),
    "sudo zypper refresh": (SLES, "$ zypper refresh", None),
    "sudo SUSEConnect -r <registration code> -e <registration email>": (
        SLES,
        None,
        "SUSEConnect -r",
    ),
    "sudo zypper install --type pattern Basis-Devel": (
        SLES,
        "$ zypper --non-interactive install --type pattern Basis-Devel",
        "--non-interactive",
    ),
    "sudo zypper install wget curl git freetype-devel libpng12-devel swig zip": (
        SLES,
        "$ zypper --non-interactive install wget curl git freetype-devel libpng12-devel swig zip "
        "unzip",
        "unzip is installed too",  # Bazel's installer stops without it
    ),
    "sudo zypper install python python-devel python-numpy python-numpy-devel python-setuptools": (
        SLES,
        "install python python-devel python-numpy python-numpy-devel python-setuptools",
        None,
    ),
    "sudo zypper addrepo 'https://download.opensuse.org/repositories/devel:/languages:/python/SLE_12_SP2/devel:languages:python.repo'": (
        SLES,
        "$ zypper addrepo https://download.opensuse.org/repositories/devel:/languages:/python/SLE_12_SP2/devel:languages:python.repo",
        None,
    ),
    "sudo zypper install python-pip python-virtualenv": (
        SLES,
        "$ zypper --non-interactive install python-pip python-virtualenv",
        None,
    ),
    "sudo zypper rr 'devel_languages_python'": (
        SLES,
        "$ zypper removerepo devel_languages_python",
        None,
    ),
    'sudo subscription-manager repos --enable="rhel-7-server-extras-rpms"': (
        RHEL,
        "$ subscription-manager repos --enable=rhel-7-server-extras-rpms",
        None,
    ),
    'sudo subscription-manager repos --enable="rhel-7-server-optional-rpms"': (
        RHEL,
        "$ subscription-manager repos --enable=rhel-7-server-optional-rpms",
        None,
    ),
    "sudo yum clean all": (RHEL, "$ yum clean all", None),
    "sudo yum repolist": (RHEL, "$ yum repolist", None),
    'sudo yum groupinstall "Development Tools"': (
        RHEL,
        "$ yum groupinstall -y 'Development Tools'",
        "-y",
    ),
    "sudo yum install wget curl git freetype-devel swig zip": (
        RHEL,
        "$ yum install -y wget curl git freetype-devel swig zip unzip",
        "unzip is installed too",
    ),
    "sudo rpm -ivh https://dl.fedoraproject.org/pub/epel/epel-release-latest-7.noarch.rpm": (
        RHEL,
        "$ rpm -ivh https://dl.fedoraproject.org/pub/epel/epel-release-latest-7.noarch.rpm",
        None,
    ),
    "sudo yum install numpy python python-devel python-pip python-virtualenv": (
        RHEL,
        "$ yum install -y numpy python python-devel python-pip python-virtualenv",
        None,
    ),
    "cd ~/": (ALL, None, None),  # the working directory of the commands that follow
    "virtualenv --python=python2.7 --system-site-packages ~/tms": (
        ALL,
        "$ virtualenv --python=python2.7 --system-site-packages /home/tmsadm/tms",
        None,
    ),
    "source ~/tms/bin/activate": (ALL, "$ /home/tmsadm/tms/bin/pip install grpcio", "activate"),
    "pip --version": (ALL, "pip >= 9.0.1 in /home/tmsadm/tms", None),
    "pip install --upgrade pip": (
        ALL,
        "$ /home/tmsadm/tms/bin/pip install --upgrade 'pip<21'",
        "older than 19.0",
    ),
    "pip install grpcio": (ALL, "$ /home/tmsadm/tms/bin/pip install grpcio", None),
    "pip install tensorflow": (
        ALL,
        "$ /home/tmsadm/tms/bin/pip install 'tensorflow<2'",
        "tf.Session",
    ),
    "pip install tensorflow-serving-api": (
        ALL,
        "$ /home/tmsadm/tms/bin/pip install 'tensorflow-serving-api<2'",
        "pinned below 2",
    ),
    "import tensorflow as tf": (ALL, "TensorFlow says hello", None),
    "hello = tf.constant('Hello, TensorFlow!')": (ALL, "TensorFlow says hello", None),
    "sess = tf.Session()": (ALL, "TensorFlow says hello", None),
    "print(sess.run(hello))": (ALL, "TensorFlow says hello", None),
    "exit()": (ALL, None, None),
    "curl -L https://github.com/bazelbuild/bazel/releases/download/0.11.1/bazel-0.11.1-installer-linux-x86_64.sh -o ~/bazel-0.11.1-installer-linux-x86_64.sh": (
        BUILD,
        f"$ curl -fL -o {INSTALLER} https://github.com/bazelbuild/bazel/releases/download/0.11.1/bazel-0.11.1-installer-linux-x86_64.sh",
        None,
    ),
    "chmod +x ~/bazel-0.11.1-installer-linux-x86_64.sh": (BUILD, f"$ chmod +x {INSTALLER}", None),
    "./bazel-0.11.1-installer-linux-x86_64.sh --user": (BUILD, f"$ {INSTALLER} --user", None),
    'export PATH="$PATH:$HOME/bin"': (BUILD, None, "~/bin is put first on PATH"),
    "rm ~/bazel-0.11.1-installer-linux-x86_64.sh": (BUILD, f"$ rm -f {INSTALLER}", None),
    "bazel version": (BUILD, "bazel version is exactly 0.11.1", None),
    "git clone --recurse-submodules https://github.com/tensorflow/serving": (
        BUILD,
        "$ git clone --recurse-submodules --branch 1.8.0 https://github.com/tensorflow/serving /home/tmsadm/serving",
        "pinned to 1.8.0",
    ),
    "cd ~/serving": (BUILD, None, None),
    "bazel build -c opt tensorflow_serving/...": (
        BUILD,
        "$ bazel build -c opt --copt=",
        "Optimisation flags",
    ),
    "bazel build -c opt --copt=-msse4.1 --copt=-msse4.2 --copt=-mavx --copt=-mavx2 --copt=-mfma --copt=-O3 tensorflow_serving/...": (
        BUILD,
        "$ bazel build -c opt --copt=-msse4.1 --copt=-msse4.2 --copt=-mavx --copt=-mavx2 --copt=-mfma --copt=-O3 tensorflow_serving/...",
        None,
    ),
    "bazel test -c opt tensorflow_serving/...": (
        BUILD,
        "$ bazel test -c opt --copt=-msse4.1 --copt=-msse4.2 --copt=-mavx --copt=-mavx2 --copt=-mfma --copt=-O3 tensorflow_serving/...",
        "gets the same flags",
    ),
    "bazel build -c opt //tensorflow_serving/model_servers:tensorflow_model_server": (
        BUILD,
        "$ bazel build -c opt --copt=-msse4.1 --copt=-msse4.2 --copt=-mavx --copt=-mavx2 --copt=-mfma --copt=-O3 //tensorflow_serving/model_servers:tensorflow_model_server",
        "gets the same flags",
    ),
    'echo "export PATH=$PATH:/home/tmsadm/tms/bin:/home/tmsadm/serving/bazel-bin/tensorflow_serving/model_servers/" >> ~/.profile': (
        BUILD,
        'append to /home/tmsadm/.profile: export PATH="$PATH:/home/tmsadm/tms/bin:/home/tmsadm/serving/bazel-bin/tensorflow_serving/model_servers/"',
        "literal $PATH",
    ),
    "source .profile": (BUILD, None, None),  # the wizard gives its commands that PATH itself
    "mkdir -p ~/export": (ALL, "mkdir -p /home/tmsadm/export", None),
    "model_config_list: {": (ALL, "model_config_list: {", None),
    "}": (ALL, None, None),
    "tensorflow_model_server --port=8500 --model_config_file=/home/tmsadm/export/config.cnf": (
        ALL,
        "$ tensorflow_model_server --port=8500 --model_config_file=/home/tmsadm/export/config.cnf",
        None,
    ),
    "nohup tensorflow_model_server -port=8500 --model_config_file=/home/tmsadm/export/config.cnf > /home/tmsadm/export/tensorflow_model_server.log 2>&1 </dev/null &": (
        ALL,
        None,
        "`-port=8500`",
    ),
}
SQL_CHECKS = {"AFL_AREAS", "AFL_PACKAGES", "AFL_FUNCTIONS"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def tutorial_lines() -> list[tuple[str, str]]:
    """(language, line) for every line of every code block, continuations joined."""
    lines = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", TUTORIAL.read_text(), re.S):
        for line in re.sub(r"\\\n\s*", " ", body).splitlines():
            if line.strip() and not line.strip().startswith("--") and lang:
                lines.append((lang, _norm(line)))
    return lines


def plan_text(family: str, hw: Hardware = FULL_CPU) -> tuple[str, str]:
    """The plan as `emlsetup plan` prints it, and every step's corrections."""
    info = DistroInfo(
        id={"sles": "sles", "rhel": "rhel", "debian": "ubuntu"}[family],
        name=family,
        version={"sles": "12.2", "rhel": "7", "debian": "16.04"}[family],
        family=family,
    )
    plan = build_plan(Settings(), info, hw, STEPS)
    out = io.StringIO()
    print_plan(plan, Settings(), out)
    corrections = "\n".join(c for s in plan.steps for c in s.corrections)
    return _norm(out.getvalue()), corrections


@pytest.mark.parametrize("family", sorted(ALL))
def test_every_tutorial_command_is_planned_or_corrected(family: str) -> None:
    text, corrections = plan_text(family)
    sql = [line for lang, line in tutorial_lines() if lang == "SQL"]
    shell = [line for lang, line in tutorial_lines() if lang != "SQL"]
    unaccounted = [line for line in shell if line not in EXPECT]
    assert not unaccounted, f"tutorial commands the plan does not account for: {unaccounted}"
    for line in shell:
        families, shown, correction = EXPECT[line]
        if family not in families:
            if shown and shown.startswith("$ ") and shown not in ("$ zypper clean",):
                assert _norm(shown) not in text, f"{family} plan has another family's {shown!r}"
            continue
        if shown:
            assert _norm(shown) in text, f"{family}: {line!r} -> missing {shown!r}"
        if correction:
            assert correction in corrections, f"{family}: {line!r} needs a correction note"
    for line in sql:
        statement = line.rstrip(";")
        if any(view in statement for view in SQL_CHECKS):
            view = next(v for v in SQL_CHECKS if v in statement)
            assert f"{view} rows for AREA_NAME = 'EML'" in text
        elif statement not in ("END", "BEGIN"):
            assert _norm(statement) in text, f"{family}: SQL {statement!r} not in the plan"


def test_optimisation_flags_follow_the_cpu() -> None:
    settings = Settings()
    old_cpu = Hardware(cpu_flags={"sse4.1", "sse4.2"}, cpus=2, mem_mb=16384)
    flags, note = optimisation_flags(settings, old_cpu)
    assert flags == ["--copt=-msse4.1", "--copt=-msse4.2", "--copt=-O3"]
    assert "avx2" in note and "lacks" in note
    off = load_settings(overrides=['serving.optimisation="off"'])
    assert optimisation_flags(off, FULL_CPU)[0] == []
    explicit = load_settings(overrides=['serving.optimisation=["avx2", "sse4.1"]'])
    assert optimisation_flags(explicit, old_cpu)[0] == ["--copt=-msse4.1", "--copt=-O3"]


def test_small_vm_caps_bazel_memory_and_jobs() -> None:
    assert resource_flags(FULL_CPU) == []
    small = resource_flags(Hardware(cpus=4, mem_mb=4096))
    assert small == ["--local_resources=2457,4.0,1.0", "--jobs=2"]


def test_debian_plan_installs_the_packaged_model_server_instead_of_building() -> None:
    text, _ = plan_text("debian")
    assert "apt-get install -y tensorflow-model-server" in text
    assert "bazel" not in text.replace("bazel-bin", "")


def test_every_non_idempotent_action_detects_completion() -> None:
    for step in STEPS:
        for action in step.actions:
            if not action.idempotent and action.kind != "manual":
                assert action.done_when, f"step {step.number} {action.id}"


def test_plan_cli_for_each_family_exits_zero(tmp_path: Path) -> None:
    for family in sorted(ALL):
        out = io.StringIO()
        assert main(["plan", "--distro", family, "--state-dir", str(tmp_path)], out=out) == 0
        assert f"family {family}" in out.getvalue()
