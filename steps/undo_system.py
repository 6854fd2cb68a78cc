"""How `emlsetup undo` reverses steps 2-6, as data next to their actions (the same
placeholders, the same family and route filters), in the order it runs them.

What emlsetup installed that other software may need (the packages of step 3, Bazel, the
model server's package or image) is listed with the command that removes it by hand,
never removed. What an admin changed since emlsetup made it (the sudo rule, the unit,
config.cnf) is kept and named. `userdel -r` ends with the user: it removes the home, and
refuses (exit 8) while a process of the user runs (userdel(8): exit values 0, 1, 2, 6 user
does not exist, 8 user logged in / has processes, 10, 12 cannot remove the home).
"""

from __future__ import annotations

from checks.spec import FileHasLine, FileIs, PathExists, PortOpen, UserExists
from steps.core.model import Command, RemoveLine, RunAs, StopDaemon, Undo
from steps.routes import APT_KEY, APT_SIGNED
from steps.step2_dedicated_user import SUDO_RULE
from steps.step5_tensorflow_serving import (
    _APT_KEY,
    _APT_LINE,
    _APT_LINE_SIGNED,
    _APT_LIST,
    _KEYRING,
    SERVER_DIR,
)
from steps.step6_start_serving import CONFIG, SYSTEMD, UNIT, UNIT_PATH, UNIT_TEXT

_SUDOERS = "/etc/sudoers.d/{admin}"
_LOG = "{export}/tensorflow_model_server.log"


def _rm(id: str, path: str, run_as: RunAs = "root", recursive: bool = False) -> Command:
    return Command(
        id=id,
        title=f"remove {path}",
        argv=["rm", "-rf" if recursive else "-f", path],
        run_as=run_as,
        idempotent=True,
    )


def _exists(path: str) -> PathExists:
    return PathExists(name=f"{path} exists", path=path)


def _path_line(serving: list[str], line: str) -> Undo:
    return Undo(
        reverses=["profile-path"],
        serving=serving,
        title="Remove the PATH line emlsetup added to {home}/.profile",
        present_when=[FileHasLine(name="the PATH line is in .profile", path="{home}/.profile",
                                  line=line)],  # fmt: skip
        do=[RemoveLine(id="profile-path-line", title="remove the PATH line",
                       path="{home}/.profile", line=line)],  # fmt: skip
    )


STEP2 = [
    Undo(
        reverses=["sudoers"],
        title="Remove the sudo rule " + _SUDOERS,
        present_when=[_exists(_SUDOERS)],
        ours_when=[FileIs(name=_SUDOERS + " as emlsetup wrote it", path=_SUDOERS,
                          content=SUDO_RULE + "\n")],  # fmt: skip
        do=[_rm("rm-sudoers", _SUDOERS)],
    ),
    Undo(
        reverses=["useradd"],
        title="Remove the user {admin} and its home {home} (userdel -r)",
        present_when=[UserExists(name="user {admin} exists", user="{admin}")],
        holds="{home}",
        do=[
            Command(
                id="userdel",
                title="remove the user {admin} and its home",
                argv=["userdel", "-r", "{admin}"],
                only_if=[UserExists(name="user {admin} exists", user="{admin}")],
                idempotent=True,
                fix="userdel refuses while a process of {admin} runs: stop it (ps -u {admin}), "
                "then run the undo again",
            )
        ],
    ),
]

_SLES_PACKAGES = ["suse-packagehub", "suse-sdk", "suse-toolchain", "suse-devtools",
                  "suse-python3", "suse-containers", "basis-devel", "build-tools",
                  "python-tools", "pip-virtualenv"]  # fmt: skip
_RHEL_PACKAGES = ["rhel-extras", "rhel-optional", "rhel-crb", "devtools", "build-tools", "epel",
                  "python-tools"]  # fmt: skip
_KEEP_PACKAGES = "other software may need them; remove them by hand with "
STEP3 = [
    Undo(
        reverses=["python-repo-add"],
        families=["sles"],
        routes=["sles12"],
        title="Remove the openSUSE Python repository",
        present_when=[_exists("/etc/zypp/repos.d/devel_languages_python.repo")],
        do=[Command(id="removerepo", title="remove the repository", idempotent=True,
                    argv=["zypper", "removerepo", "devel_languages_python"])],  # fmt: skip
    ),
    Undo(
        reverses=_SLES_PACKAGES,
        families=["sles"],
        title="The packages and SUSE products step 3 installed",
        keep=_KEEP_PACKAGES + "zypper remove {repo_packages} (and SUSEConnect -d -p PRODUCT)",
    ),
    Undo(
        reverses=_RHEL_PACKAGES,
        families=["rhel"],
        title="The packages and repositories step 3 installed",
        keep=_KEEP_PACKAGES + "yum remove {repo_packages} (and subscription-manager repos "
        "--disable REPO)",
    ),
    Undo(
        reverses=["tf-packages", "python-tools"],
        families=["debian"],
        title="The packages step 3 installed",
        keep=_KEEP_PACKAGES + "apt-get remove {build_packages} {python_packages}",
    ),
]

STEP4 = [
    Undo(
        reverses=["virtualenv"],
        title="Remove the virtualenv {venv} (TensorFlow and the serving API in it)",
        present_when=[_exists("{venv}")],
        do=[_rm("rm-venv", "{venv}", run_as="admin", recursive=True)],
    ),
    Undo(  # after the venv: gone with it when it was emlsetup's
        reverses=["pip-upgrade", "grpcio", "tensorflow", "serving-api"],
        title="The Python packages step 4 installed into {venv}",
        gone_with="virtualenv",
        keep="{venv} is not emlsetup's; remove them by hand with {venv}/bin/pip "
        "uninstall tensorflow tensorflow-serving-api grpcio",
    ),
]

_BAZEL = "{home}/bin/bazel"
STEP5 = [
    _path_line(["build"], 'export PATH="$PATH:{venv}/bin:' + SERVER_DIR + '/"'),
    _path_line(["apt", "container"], 'export PATH="$PATH:{venv}/bin"'),
    Undo(
        reverses=["build", "test", "model-server"],
        serving=["build"],
        title="Remove Bazel's output base of {checkout}, the build (hours to do again)",
        present_when=[_exists("{bazel_output_base}")],
        ask="Remove Bazel's output base {bazel_output_base}? Building {checkout} again then "
        "takes hours.",
        ask_path="{bazel_output_base}",
        do=[
            Command(id="bazel-shutdown", title="stop Bazel's server of {checkout}",
                    argv=[_BAZEL, "shutdown"], run_as="admin", cwd="{checkout}",
                    only_if=[_exists(_BAZEL), _exists("{checkout}")], idempotent=True),
            # Bazel leaves read-only folders in it: rm -rf alone is refused there.
            Command(id="output-base-writable", title="make the output base removable",
                    argv=["chmod", "-R", "u+w", "{bazel_output_base}"], run_as="admin",
                    only_if=[_exists("{bazel_output_base}")], idempotent=True),
            _rm("rm-output-base", "{bazel_output_base}", run_as="admin", recursive=True),
        ],  # fmt: skip
    ),
    Undo(
        reverses=["clone"],
        serving=["build"],
        title="Remove the checkout {checkout}",
        present_when=[_exists("{checkout}")],
        ask="Remove the checkout {checkout}? Cloning it again takes minutes, building it hours.",
        ask_path="{checkout}",
        do=[_rm("rm-checkout", "{checkout}", run_as="admin", recursive=True)],
    ),
    Undo(
        reverses=["bazel-download", "bazel-chmod", "bazel-install", "bazel-cleanup"],
        serving=["build"],
        title="Bazel {bazel_version} in {home}/bin",
        keep="other builds may use it; remove it by hand with rm -rf "
        "{home}/bin/bazel {home}/.bazel",
    ),
    Undo(
        reverses=["apt-install"],
        serving=["apt"],
        title="The package tensorflow-model-server",
        keep="other software may use it; remove it by hand with apt-get "
        "remove tensorflow-model-server",
    ),
    Undo(
        reverses=["apt-key-add"],
        routes=APT_KEY,
        serving=["apt"],
        title="The repository's key in apt's keyring",
        keep="apt-key list names it; remove it by hand with apt-key del KEYID",
    ),
    Undo(
        reverses=["apt-key-download"],
        routes=APT_KEY,
        serving=["apt"],
        title="Remove the downloaded key " + _APT_KEY,
        present_when=[_exists(_APT_KEY)],
        do=[_rm("rm-apt-key", _APT_KEY)],
    ),
    *[
        Undo(
            reverses=["apt-source"],
            routes=routes,
            serving=["apt"],
            title="Remove TensorFlow Serving's apt repository " + _APT_LIST,
            present_when=[_exists(_APT_LIST)],
            ours_when=[FileIs(name=_APT_LIST + " as emlsetup wrote it", path=_APT_LIST,
                              content=line + "\n")],  # fmt: skip
            do=[_rm("rm-apt-source", _APT_LIST)],
        )
        for routes, line in ((APT_KEY, _APT_LINE), (APT_SIGNED, _APT_LINE_SIGNED))
    ],
    Undo(
        reverses=["apt-keyring"],
        routes=APT_SIGNED,
        serving=["apt"],
        title="Remove the repository's keyring " + _KEYRING,
        present_when=[_exists(_KEYRING)],
        do=[_rm("rm-keyring", _KEYRING)],
    ),
    Undo(
        reverses=["image-pull"],
        serving=["container"],
        title="TF Serving's container image {serving_image}",
        keep="remove it by hand with podman rmi {serving_image}",
    ),
    Undo(
        reverses=["podman-install"],
        serving=["container"],
        title="podman",
        keep="other software may need it",
    ),
]

STEP6 = [
    Undo(
        reverses=["service-unit", "service-enable", "service-restart"],
        title=f"Stop and remove the model server's unit {UNIT}",
        present_when=[_exists(UNIT_PATH)],
        ours_when=[FileIs(name=UNIT_PATH + " as emlsetup wrote it", path=UNIT_PATH,
                          content=UNIT_TEXT)],  # fmt: skip
        do=[
            Command(id="service-stop", title=f"stop and disable {UNIT}",
                    argv=["systemctl", "disable", "--now", UNIT], only_if=[SYSTEMD,
                    _exists(UNIT_PATH)], idempotent=True),
            _rm("rm-unit", UNIT_PATH),
            Command(id="service-forget", title="let systemd forget the unit",
                    argv=["systemctl", "daemon-reload"], only_if=[SYSTEMD], idempotent=True),
        ],  # fmt: skip
    ),
    Undo(
        reverses=["start-server"],
        title="Stop tensorflow_model_server on port {port} and remove its log",
        present_when=[PortOpen(name="port {port} answers", host="{serving_host}", port="{port}"),
                      _exists(_LOG)],  # fmt: skip
        do=[
            StopDaemon(id="stop-server", title="stop the model server emlsetup started",
                       argv=["{serving_argv}"], port="{port}"),
            _rm("rm-server-log", _LOG, run_as="admin"),
        ],  # fmt: skip
    ),
    Undo(
        reverses=["model-config"],
        title="Remove " + CONFIG,
        present_when=[_exists(CONFIG)],
        ours_when=[FileIs(name="config.cnf as emlsetup wrote it (no model in it)", path=CONFIG,
                          content="model_config_list: {\n}\n")],  # fmt: skip
        do=[_rm("rm-config", CONFIG, run_as="admin")],
    ),
    Undo(
        reverses=["export-dir"],
        title="Remove the folder {export}",
        present_when=[_exists("{export}")],
        ours_when=[PathExists(name="{export} (your models are in it?)", path="{export}",
                              empty=True)],  # fmt: skip
        do=[Command(id="rmdir-export", title="remove {export}", argv=["rmdir", "{export}"],
                    run_as="admin", idempotent=True, only_if=[_exists("{export}")])],  # fmt: skip
    ),
]

UNDO = {2: STEP2, 3: STEP3, 4: STEP4, 5: STEP5, 6: STEP6}
