"""Tutorial step 5: Bazel, the TensorFlow Serving checkout, the 2-4 hour build, and PATH."""

from checks.spec import (
    CheckSpec,
    CommandsPresent,
    CommandSucceeds,
    FileHasLine,
    GitCheckoutAt,
    PackagesInstalled,
    PathExists,
    ToolVersion,
)
from steps.core.model import AppendLine, Command, Note, Step, WriteFile
from steps.core.needs import ADMIN_HOME
from steps.routes import APT_KEY, APT_SIGNED, BUILD, PODMAN_INSTALL, ROUTES

INSTALLER = "{home}/bazel-{bazel_version}-installer-linux-x86_64.sh"
SERVER_DIR = "{checkout}/bazel-bin/tensorflow_serving/model_servers"
SERVER_BIN = SERVER_DIR + "/tensorflow_model_server"
_APT_LIST = "/etc/apt/sources.list.d/tensorflow-serving.list"
_APT_LINE = (
    "deb [arch=amd64] http://storage.googleapis.com/tensorflow-serving-apt stable "
    "tensorflow-model-server tensorflow-model-server-universal"
)
_APT_KEY = "/root/tensorflow-serving.release.pub.gpg"
# Without apt-key (gone from Debian 13 and Ubuntu 24.10, deprecated before): the key is a
# keyring file that only this source trusts (sources.list(5), signed-by).
_KEYRING = "/usr/share/keyrings/tensorflow-serving.gpg"
_APT_LINE_SIGNED = _APT_LINE.replace("[arch=amd64]", f"[arch=amd64 signed-by={_KEYRING}]")
_KEY_URL = (
    "https://storage.googleapis.com/tensorflow-serving-apt/tensorflow-serving.release.pub.gpg"
)
_IMAGE_DONE: list[CheckSpec] = [
    CommandSucceeds(
        name="image {serving_image} present",
        serving=["container"],
        run_as="admin",
        argv=["podman", "image", "exists", "{serving_image}"],
    )
]
_APT_DONE: list[CheckSpec] = [
    PackagesInstalled(
        name="tensorflow-model-server installed",
        manager="dpkg",
        packages=["tensorflow-model-server"],
    )
]

BAZEL_VERSION = ToolVersion(
    name="bazel version is exactly {bazel_version}",
    run_as="admin",
    serving=["build"],
    bazel="installer",
    argv=["{home}/bin/bazel", "version"],
    pattern=r"^Build label: (?P<v>\S+)",
    op="==",
    version="{bazel_version}",
    fix="install Bazel {bazel_version} with its user-mode installer (--user): re-run step 5",
)
SERVER_BUILT = PathExists(name="model server binary built", path=SERVER_BIN, executable=True)


def _bazel_install(id: str, title: str, argv: list[str], fix: str = "") -> Command:
    return Command(
        id=id,
        title=title,
        fix=fix,
        run_as="admin",
        cwd="{home}",
        argv=argv,
        serving=["build"],
        bazel="installer",
        idempotent=True,
        done_when=[BAZEL_VERSION],
    )


def _bazel(id: str, title: str, *args: str, optional: str | None = None) -> Command:
    return Command(
        id=id,
        title=title,
        run_as="admin",
        cwd="{checkout}",
        serving=["build"],
        argv=["{bazel}", *args],
        long_running=True,
        idempotent=True,
        optional_setting=optional,
        done_when=[] if optional else [SERVER_BUILT],
    )


STEP = Step(
    number=5,
    needs=[ADMIN_HOME],
    title="Install TensorFlow Serving",
    explanation="""\
TensorFlow Serving's `ModelServer` is packaged only for Debian and Ubuntu. On **SUSE** and
**Red Hat** it is compiled from source with **Bazel {bazel_version}**, installed in user
mode in `~/bin`:

1. install Bazel and check that `bazel version` says *Build label: {bazel_version}*;
2. clone TensorFlow Serving with its submodules into `{checkout}`;
3. `bazel build -c opt tensorflow_serving/...`, with the optimisation flags your CPU
   supports. **This takes 2 to 4 hours.**
4. optionally run the tests, then build the `tensorflow_model_server` binary;
5. add the virtualenv and the model server's folder to `PATH` in `~/.profile`.

On **Debian / Ubuntu** the model server comes from TensorFlow Serving's apt repository.
On **SLES 15 and RHEL 8/9** it is TensorFlow Serving's official container image
(docker.io/tensorflow/serving, at the TensorFlow version of that release's route), run with
podman. With `serving.route = "build"` it is compiled there too,
at the TensorFlow Serving tag of the TensorFlow it installs, with the Bazel that tag pins.""",
    corrections=[
        Note(
            routes=BUILD,
            serving=["build"],
            text="The checkout is pinned to {ref}: the newest TensorFlow Serving no longer "
            "builds with Bazel {bazel_version} (1.8.0's Dockerfile.devel is the last to use it).",
        ),
        Note(
            routes=[r for r in ROUTES if r not in BUILD],
            serving=["build"],
            text="Built at TensorFlow Serving's tag {ref} (the TensorFlow {tf_version} of this "
            "release's route, or the nearest tag) with Bazel {bazel_version}, the version that "
            "tag's Dockerfile.devel installs; serving.ref chooses another tag.",
        ),
        Note(
            serving=["build"],
            text="Optimisation flags are passed only for instructions your CPU has (from "
            "/proc/cpuinfo): an -mavx2 build on a CPU without AVX2 crashes at start.",
        ),
        Note(
            serving=["build"],
            text="The tutorial runs `bazel test` and the final model-server build without "
            "the first build's flags, so Bazel compiles TensorFlow again (hours) and the "
            "binary that ends on PATH is not optimised; every bazel command of the wizard "
            "gets the same flags (CPU flags, -O3, resource caps).",
        ),
        "The tutorial writes the expanded value of $PATH into .profile, freezing today's PATH "
        "forever; the wizard writes a literal $PATH, once.",
        Note(
            serving=["build"],
            bazel="installer",
            text="~/bin is put first on PATH for the build so that Bazel {bazel_version} wins "
            "over any other Bazel on the system.",
        ),
        Note(
            serving=["build"],
            bazel="own",
            text="Your Bazel ({bazel}, serving.bazel) builds; the installer actions are left "
            "out. Its version is compared with the {bazel_version} that {ref} pins before the "
            "build starts (the preflight's bazel line).",
        ),
        Note(
            routes=APT_SIGNED,
            serving=["apt"],
            text="Debian 11+ / Ubuntu 20.04+: the repository's key goes into its own keyring "
            "file, named by signed-by, instead of apt-key (deprecated, and gone from Debian 13).",
        ),
        Note(
            serving=["container"],
            text="TensorFlow Serving's official container image {serving_image} replaces the "
            "source build (minutes instead of 2-4 hours).",
        ),
    ],
    path_extra=["{home}/bin", "{venv}/bin", SERVER_DIR],
    checks=[
        GitCheckoutAt(
            name="an existing {checkout} is at {ref}",
            serving=["build"],
            path="{checkout}",
            ref="{ref}",
            fix="{checkout} holds another version: move it aside (mv {checkout} "
            "{checkout}.old) or set serving.ref to its tag",
        )
    ],
    actions=[
        _bazel_install(
            "bazel-download",
            "Get the Bazel {bazel_version} installer",
            ["{installer_fetch}"],
            fix="no network here? download bazel-{bazel_version}-installer-linux-x86_64.sh on "
            "another machine, copy it over, and set serving.bazel_installer=/path/to/it",
        ),
        _bazel_install("bazel-chmod", "Make the installer executable", ["chmod", "+x", INSTALLER]),
        _bazel_install(
            "bazel-install",
            "Install Bazel in user mode",
            [INSTALLER, "--user"],
            # The installer's own dependency test (template_bin.sh): unzip, or exit 1.
            fix="if it says unzip not found, install unzip with step 3 (emlsetup run "
            "--only-step 3), then run step 5 again",
        ),
        Command(
            id="bazel-cleanup",
            title="Remove the installer",
            run_as="admin",
            cwd="{home}",
            serving=["build"],
            bazel="installer",
            argv=["rm", "-f", INSTALLER],
            idempotent=True,
            done_when=[PathExists(name="installer removed", path=INSTALLER, absent=True)],
        ),
        Command(
            id="clone",
            title="Clone TensorFlow Serving {ref}",
            run_as="admin",
            cwd="{home}",
            serving=["build"],
            argv=[
                "git",
                "clone",
                "--recurse-submodules",
                "--branch",
                "{ref}",
                "{git_url}",
                "{checkout}",
            ],
            # git writes .git first and the working tree and submodules last: a clone counts
            # as done only once HEAD is at the tag and the last files are there. It runs
            # detached, so a clone under way when the wizard stops is re-attached, not redone.
            long_running=True,
            done_when=[
                PathExists(name="checkout exists", path="{checkout}/.git"),
                GitCheckoutAt(name="checkout at {ref}", path="{checkout}", ref="{ref}"),
                # TensorFlow is no submodule since 2018 (Bazel downloads it): the last file
                # git writes is the tag's last one under tools/ (steps/serving_build.py).
                PathExists(name="checkout complete", path="{checkout}/{checkout_last}"),
            ],
            fix="if you have no network here, clone on another machine with the same command "
            "and copy {checkout} over",
        ),
        _bazel(
            "build",
            "Compile TensorFlow Serving (2-4 hours)",
            "build",
            "-c",
            "opt",
            "{build_flags}",
            "tensorflow_serving/...",
        ),
        _bazel(
            "test",
            "Run the TensorFlow Serving tests (optional)",
            "test",
            "-c",
            "opt",
            "{build_flags}",
            "tensorflow_serving/...",
            optional="serving.run_tests",
        ),
        _bazel(
            "model-server",
            "Build the tensorflow_model_server binary",
            "build",
            "-c",
            "opt",
            "{build_flags}",
            "//tensorflow_serving/model_servers:tensorflow_model_server",
        ),
        WriteFile(
            id="apt-source",
            title="Add TensorFlow Serving's apt repository",
            families=["debian"],
            routes=APT_KEY,
            serving=["apt"],
            path=_APT_LIST,
            content=_APT_LINE + "\n",
            done_when=[FileHasLine(name="apt source present", path=_APT_LIST, line=_APT_LINE)],
        ),
        Command(
            id="apt-keyring",
            title="Download the repository's signing key into its own keyring",
            families=["debian"],
            routes=APT_SIGNED,
            serving=["apt"],
            idempotent=True,
            done_when=[PathExists(name="keyring present", path=_KEYRING)],
            argv=["curl", "-fsSL", "-o", _KEYRING, _KEY_URL],
        ),
        WriteFile(
            id="apt-source",
            title="Add TensorFlow Serving's apt repository, trusting only its key",
            families=["debian"],
            routes=APT_SIGNED,
            serving=["apt"],
            path=_APT_LIST,
            content=_APT_LINE_SIGNED + "\n",
            done_when=[
                FileHasLine(name="apt source present", path=_APT_LIST, line=_APT_LINE_SIGNED)
            ],
        ),
        Command(
            id="apt-key-download",
            title="Download the repository's signing key",
            families=["debian"],
            routes=APT_KEY,
            serving=["apt"],
            idempotent=True,
            done_when=_APT_DONE,
            argv=[
                "curl",
                "-fsSL",
                "-o",
                _APT_KEY,
                "https://storage.googleapis.com/"
                "tensorflow-serving-apt/tensorflow-serving.release.pub.gpg",
            ],
        ),
        Command(
            id="apt-key-add",
            title="Trust the repository's signing key",
            families=["debian"],
            routes=APT_KEY,
            serving=["apt"],
            idempotent=True,
            done_when=_APT_DONE,
            argv=["apt-key", "add", _APT_KEY],
        ),
        Command(
            id="apt-update",
            title="Refresh the package lists",
            families=["debian"],
            serving=["apt"],
            idempotent=True,
            done_when=_APT_DONE,
            argv=["apt-get", "update"],
        ),
        Command(
            id="apt-install",
            title="Install tensorflow-model-server",
            families=["debian"],
            serving=["apt"],
            idempotent=True,
            done_when=_APT_DONE,
            argv=["apt-get", "install", "-y", "tensorflow-model-server"],
        ),
        Command(
            id="podman-install",
            title="Install podman",
            routes=list(PODMAN_INSTALL),
            serving=["container"],
            idempotent=True,
            done_when=[CommandsPresent(name="podman installed", commands=["podman"])],
            argv=["{podman_install}"],
        ),
        Command(
            id="image-pull",
            title="Pull TensorFlow Serving's container image (minutes, not a 2-4 hour build)",
            run_as="admin",
            serving=["container"],
            idempotent=True,
            done_when=_IMAGE_DONE,
            argv=["podman", "pull", "{serving_image}"],
        ),
        AppendLine(
            id="profile-path",
            title="Add the model server to PATH in .profile",
            serving=["build"],
            path="{home}/.profile",
            line='export PATH="$PATH:{venv}/bin:' + SERVER_DIR + '/"',
            done_when=[
                FileHasLine(
                    name="PATH line in .profile",
                    path="{home}/.profile",
                    line='export PATH="$PATH:{venv}/bin:' + SERVER_DIR + '/"',
                    alike=r"^\s*(export\s+)?PATH=.*/bazel-bin/tensorflow_serving/model_servers",
                )
            ],
        ),
        AppendLine(
            id="profile-path",
            title="Add the virtualenv to PATH in .profile",
            serving=["apt", "container"],
            path="{home}/.profile",
            line='export PATH="$PATH:{venv}/bin"',
            done_when=[
                FileHasLine(
                    name="PATH line in .profile",
                    path="{home}/.profile",
                    line='export PATH="$PATH:{venv}/bin"',
                )
            ],
        ),
    ],
    results=[
        BAZEL_VERSION,
        CommandsPresent(
            name="tensorflow_model_server on PATH",
            serving=["apt"],
            commands=["tensorflow_model_server"],
            fix="re-run step 5; the binary belongs in " + SERVER_DIR,
        ),
        CommandsPresent(
            name="tensorflow_model_server on PATH",
            serving=["build"],
            bazel="installer",
            commands=["tensorflow_model_server"],
            fix="re-run step 5; the binary belongs in " + SERVER_DIR,
        ),
        # The admin's Bazel said the build succeeded and left no binary (a program that is
        # not Bazel, accepted in the preflight): running it again would do the same.
        CommandsPresent(
            name="tensorflow_model_server on PATH",
            serving=["build"],
            bazel="own",
            commands=["tensorflow_model_server"],
            fix="your Bazel ({bazel}, serving.bazel) built no tensorflow_model_server in "
            + SERVER_DIR
            + ": read the build's log, check `{bazel} --version`, or remove serving.bazel "
            "and step 5 installs Bazel {bazel_version}",
        ),
        *[c.model_copy(update={"fix": "re-run step 5"}) for c in _IMAGE_DONE],
    ],
)
