"""Tutorial step 3: compiler, build tools and Python 2.7 tooling, per distro family."""

from checks.spec import CheckSpec, CommandsPresent, PackagesInstalled, PathExists
from steps.core.model import Command, Note, Step
from steps.routes import RHEL_NEW, SLES15

# Package names differ per release: {build_packages} and {python_packages} come from the
# route tables (steps/routes.py), where each name's source is cited.
_SLES_PIP = ["python-pip", "python-virtualenv"]
_BUILD = "{build_packages}"
_PY = "{python_packages}"
_PY_REPO = "devel_languages_python"
_PY_REPO_FILE = f"/etc/zypp/repos.d/{_PY_REPO}.repo"
_COMPILER = CommandsPresent(name="C/C++ compiler and make", commands=["gcc", "g++", "make"])


def _rpm(*groups: list[str] | str) -> PackagesInstalled:
    names = [n for g in groups for n in ([g] if isinstance(g, str) else g)]
    return PackagesInstalled(name="packages installed", manager="rpm", packages=names)


def _dpkg(*groups: str) -> PackagesInstalled:
    return PackagesInstalled(name="packages installed", manager="dpkg", packages=list(groups))


def _zypper(*packages: str) -> list[str]:
    # The wizard asks before it runs anything, so zypper must not ask again on a pipe.
    return ["zypper", "--non-interactive", "install", *packages]


# Every package the repository set-up serves: when all are there, it is skipped.
_ALL = _rpm("{repo_packages}")


def _sles(
    id: str,
    title: str,
    argv: list[str],
    done: list[CheckSpec],
    idem: bool = True,
    unneeded: list[CheckSpec] | None = None,
    routes: list[str] | None = None,
) -> Command:
    return Command(
        id=id,
        title=title,
        argv=argv,
        families=["sles"],
        routes=routes,
        done_when=done,
        idempotent=idem,
        unneeded_when=unneeded or [],
    )


def _rhel(
    id: str,
    title: str,
    argv: list[str],
    done: list[CheckSpec],
    idem: bool = True,
    routes: list[str] | None = None,
) -> Command:
    return Command(
        id=id,
        title=title,
        argv=argv,
        families=["rhel"],
        routes=routes,
        done_when=done,
        idempotent=idem,
    )


STEP = Step(
    number=3,
    title="Install TensorFlow Serving dependencies",
    explanation="""\
Compiling TensorFlow Serving needs a **C/C++ compiler** (the distribution's development
package group), a few build tools (`git`, `swig`, `zip`, `curl`, `wget`) and **Python 2.7**
with `numpy`, `pip`, `virtualenv` and its headers, which the HXE image does not ship.

- **SUSE** (the HXE VM): add the SDK, Package Hub and Toolchain module with `SUSEConnect`
  (the system must be registered), install the `Basis-Devel` pattern, and take `pip` and
  `virtualenv` from the openSUSE *devel:languages:python* repository, removed afterwards.
- **Red Hat**: enable the *extras* and *optional* repositories, install *Development Tools*,
  and take `pip` from EPEL.
- **Debian / Ubuntu**: the packages of the TensorFlow Serving setup guide.""",
    corrections=[
        Note(
            families=["sles"],
            text="SUSE: registering the system (SUSEConnect -r <registration code> -e "
            "<email>) needs your code, so it stays yours to do first; SUSEConnect -p fails "
            "until it is done.",
        ),
        "Package managers run non-interactively (-y / --non-interactive): the wizard has "
        "already shown you the command and asked.",
        Note(
            families=["sles"],
            text="SUSE: the tutorial hard-codes SP2 (12.2, SLE_12_SP2); the wizard uses the "
            "service pack it detected ({sles_release}).",
        ),
        Note(
            families=["sles"],
            text="SUSE: the Python repository's signing key is imported for that one "
            "repository (--gpg-auto-import-keys), which is removed again at the end of the "
            "step.",
        ),
        Note(
            families=["debian"],
            text="Debian/Ubuntu: libpng-dev instead of libpng12-dev, which Debian 9 no longer has.",
        ),
        Note(
            families=["rhel"],
            distro_ids=["centos"],
            text="CentOS has no subscription-manager; its extras repository is on by default.",
        ),
        "Repository set-up is skipped when every package it serves is already installed.",
        Note(
            serving=["build"],
            bazel="installer",
            text="unzip is installed too, which the tutorial omits: Bazel's installer (step 5) "
            'stops without it ("unzip not found, please install the corresponding package.").',
        ),
    ],
    actions=[
        _sles(
            "suse-packagehub",
            "Add SUSE Package Hub",
            ["SUSEConnect", "-p", "PackageHub/{sles_release}/x86_64"],
            [_ALL],
        ),
        _sles(
            "suse-sdk",
            "Add the SUSE Software Development Kit",
            ["SUSEConnect", "-p", "sle-sdk/{sles_release}/x86_64"],
            [_ALL],
            routes=["sles12"],
        ),
        _sles(
            "suse-toolchain",
            "Add the Toolchain module",
            ["SUSEConnect", "-p", "sle-module-toolchain/12/x86_64"],
            [_ALL],
            routes=["sles12"],
        ),
        _sles(
            "suse-devtools",
            "Add the Development Tools module",
            ["SUSEConnect", "-p", "sle-module-development-tools/{sles_release}/x86_64"],
            [_ALL],
            routes=SLES15,
        ),
        _sles(
            "suse-python3",
            "Add the Python 3 module",
            ["SUSEConnect", "-p", "sle-module-python3/{sles_release}/x86_64"],
            [_ALL],
            routes=["sles15"],
        ),
        _sles(
            "suse-containers",
            "Add the Containers module (podman)",
            ["SUSEConnect", "-p", "sle-module-containers/{sles_release}/x86_64"],
            [_ALL],
            routes=SLES15,
        ),
        _sles("zypper-clean", "Clean the repository cache", ["zypper", "clean"], [_ALL]),
        _sles("zypper-refresh", "Refresh the repositories", ["zypper", "refresh"], [_ALL]),
        _sles(
            "basis-devel",
            "Install the {suse_pattern} pattern",
            _zypper("--type", "pattern", "{suse_pattern}"),
            [_COMPILER],
        ),
        _sles("build-tools", "Install the build tools", _zypper(_BUILD), [_rpm(_BUILD)]),
        _sles("python-tools", "Install Python {python} tools", _zypper(_PY), [_rpm(_PY)]),
        _sles(
            "python-repo-add",
            "Add the openSUSE Python repository",
            [
                "zypper",
                "addrepo",
                "https://download.opensuse.org/repositories/devel:/languages:/python/"
                "{sles_sp_repo}/devel:languages:python.repo",
            ],
            [PathExists(name="Python repository added", path=_PY_REPO_FILE)],
            idem=False,
            unneeded=[_rpm(_SLES_PIP)],
            routes=["sles12"],
        ),
        _sles(
            "python-repo-refresh",
            "Refresh the Python repository",
            ["zypper", "--non-interactive", "--gpg-auto-import-keys", "refresh", _PY_REPO],
            [_rpm(_SLES_PIP)],
            routes=["sles12"],
        ),
        _sles(
            "pip-virtualenv",
            "Install pip and virtualenv",
            _zypper(*_SLES_PIP),
            [_rpm(_SLES_PIP)],
            routes=["sles12"],
        ),
        _sles(
            "python-repo-remove",
            "Remove the openSUSE Python repository",
            ["zypper", "removerepo", _PY_REPO],
            [
                PathExists(
                    name="Python repository removed",
                    absent=True,
                    path=_PY_REPO_FILE,
                )
            ],
            idem=False,
            routes=["sles12"],
        ),
        Command(
            id="rhel-extras",
            title="Enable the extras repository",
            families=["rhel"],
            distro_ids=["rhel"],
            routes=["rhel7"],
            idempotent=True,
            done_when=[_ALL],
            argv=["subscription-manager", "repos", "--enable=rhel-7-server-extras-rpms"],
        ),
        Command(
            id="rhel-optional",
            title="Enable the optional repository",
            families=["rhel"],
            distro_ids=["rhel"],
            routes=["rhel7"],
            idempotent=True,
            done_when=[_ALL],
            argv=["subscription-manager", "repos", "--enable=rhel-7-server-optional-rpms"],
        ),
        Command(
            id="rhel-crb",
            title="Enable the CodeReady Builder repository",
            families=["rhel"],
            distro_ids=["rhel"],
            routes=RHEL_NEW,
            idempotent=True,
            done_when=[_ALL],
            argv=["subscription-manager", "repos", "--enable={crb_repo}"],
        ),
        _rhel("yum-clean", "Clean the repository cache", ["yum", "clean", "all"], [_ALL]),
        _rhel("yum-repolist", "Refresh the repositories", ["yum", "repolist"], [_ALL]),
        _rhel(
            "devtools",
            "Install Development Tools",
            ["yum", "groupinstall", "-y", "Development Tools"],
            [_COMPILER],
        ),
        _rhel(
            "build-tools",
            "Install the build tools",
            ["yum", "install", "-y", _BUILD],
            [_rpm(_BUILD)],
        ),
        _rhel(
            "epel",
            "Add EPEL",
            [
                "rpm",
                "-ivh",
                "{epel_url}",
            ],
            [_rpm("epel-release")],
            idem=False,
        ),
        _rhel(
            "python-tools",
            "Install Python {python} tools",
            ["yum", "install", "-y", _PY],
            [_rpm(_PY)],
        ),
        Command(
            id="apt-update",
            title="Refresh the package lists",
            families=["debian"],
            argv=["apt-get", "update"],
            idempotent=True,
            done_when=[_dpkg(_BUILD, _PY)],
        ),
        Command(
            id="tf-packages",
            title="Install the TensorFlow Serving build packages",
            families=["debian"],
            argv=["apt-get", "install", "-y", _BUILD],
            idempotent=True,
            done_when=[_dpkg(_BUILD)],
        ),
        Command(
            id="python-tools",
            title="Install Python {python} tools",
            families=["debian"],
            argv=["apt-get", "install", "-y", _PY],
            idempotent=True,
            done_when=[_dpkg(_PY)],
        ),
    ],
    results=[
        CommandsPresent(
            name="compiler, git, swig, zip",
            fix="re-run step 3",
            commands=["gcc", "g++", "make", "git", "swig", "zip", "curl"],
        ),
        CommandsPresent(
            name="unzip, which Bazel's installer needs",
            serving=["build"],
            bazel="installer",
            fix="re-run step 3",
            commands=["unzip"],
        ),
        CommandsPresent(
            name="Python {python} and its virtual environments",
            fix="re-run step 3",
            commands=["{python_commands}"],
        ),
    ],
)
