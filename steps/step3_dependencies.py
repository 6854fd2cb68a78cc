"""Tutorial step 3: compiler, build tools and Python 2.7 tooling, per distro family."""

from checks.spec import CheckSpec, CommandsPresent, PackagesInstalled, PathExists
from steps.model import Command, Note, Step

_SLES_TOOLS = ["wget", "curl", "git", "freetype-devel", "libpng12-devel", "swig", "zip"]
_SLES_PY = ["python", "python-devel", "python-numpy", "python-numpy-devel", "python-setuptools"]
_SLES_PIP = ["python-pip", "python-virtualenv"]
_RHEL_TOOLS = ["wget", "curl", "git", "freetype-devel", "swig", "zip"]
_RHEL_PY = ["numpy", "python", "python-devel", "python-pip", "python-virtualenv"]
_DEB_TF = [
    "build-essential",
    "curl",
    "libcurl3-dev",
    "git",
    "libfreetype6-dev",
    "libpng-dev",
    "libzmq3-dev",
    "pkg-config",
    "python-dev",
    "python-numpy",
    "python-pip",
    "software-properties-common",
    "swig",
    "zip",
    "zlib1g-dev",
]
_DEB_PY = ["virtualenv", "python-numpy", "python-dev", "python-pip", "python-wheel"]
_PY_REPO = "devel_languages_python"
_PY_REPO_FILE = f"/etc/zypp/repos.d/{_PY_REPO}.repo"
_COMPILER = CommandsPresent(name="C/C++ compiler and make", commands=["gcc", "g++", "make"])


def _rpm(*groups: list[str]) -> PackagesInstalled:
    names = [n for g in groups for n in g]
    return PackagesInstalled(name="packages installed", manager="rpm", packages=names)


def _zypper(*packages: str) -> list[str]:
    # The wizard asks before it runs anything, so zypper must not ask again on a pipe.
    return ["zypper", "--non-interactive", "install", *packages]


_SLES_ALL = _rpm(_SLES_TOOLS, _SLES_PY, _SLES_PIP)
_RHEL_ALL = _rpm(_RHEL_TOOLS, _RHEL_PY)


def _sles(
    id: str,
    title: str,
    argv: list[str],
    done: list[CheckSpec],
    idem: bool = True,
    unneeded: list[CheckSpec] | None = None,
) -> Command:
    return Command(
        id=id,
        title=title,
        argv=argv,
        families=["sles"],
        done_when=done,
        idempotent=idem,
        unneeded_when=unneeded or [],
    )


def _rhel(
    id: str, title: str, argv: list[str], done: list[CheckSpec], idem: bool = True
) -> Command:
    return Command(
        id=id, title=title, argv=argv, families=["rhel"], done_when=done, idempotent=idem
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
    ],
    actions=[
        _sles(
            "suse-packagehub",
            "Add SUSE Package Hub",
            ["SUSEConnect", "-p", "PackageHub/{sles_release}/x86_64"],
            [_SLES_ALL],
        ),
        _sles(
            "suse-sdk",
            "Add the SUSE Software Development Kit",
            ["SUSEConnect", "-p", "sle-sdk/{sles_release}/x86_64"],
            [_SLES_ALL],
        ),
        _sles(
            "suse-toolchain",
            "Add the Toolchain module",
            ["SUSEConnect", "-p", "sle-module-toolchain/12/x86_64"],
            [_SLES_ALL],
        ),
        _sles("zypper-clean", "Clean the repository cache", ["zypper", "clean"], [_SLES_ALL]),
        _sles("zypper-refresh", "Refresh the repositories", ["zypper", "refresh"], [_SLES_ALL]),
        _sles(
            "basis-devel",
            "Install the Basis-Devel pattern",
            _zypper("--type", "pattern", "Basis-Devel"),
            [_COMPILER],
        ),
        _sles("build-tools", "Install the build tools", _zypper(*_SLES_TOOLS), [_rpm(_SLES_TOOLS)]),
        _sles("python-tools", "Install Python 2.7 tools", _zypper(*_SLES_PY), [_rpm(_SLES_PY)]),
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
        ),
        _sles(
            "python-repo-refresh",
            "Refresh the Python repository",
            ["zypper", "--non-interactive", "--gpg-auto-import-keys", "refresh", _PY_REPO],
            [_rpm(_SLES_PIP)],
        ),
        _sles(
            "pip-virtualenv", "Install pip and virtualenv", _zypper(*_SLES_PIP), [_rpm(_SLES_PIP)]
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
        ),
        Command(
            id="rhel-extras",
            title="Enable the extras repository",
            families=["rhel"],
            distro_ids=["rhel"],
            idempotent=True,
            done_when=[_RHEL_ALL],
            argv=["subscription-manager", "repos", "--enable=rhel-7-server-extras-rpms"],
        ),
        Command(
            id="rhel-optional",
            title="Enable the optional repository",
            families=["rhel"],
            distro_ids=["rhel"],
            idempotent=True,
            done_when=[_RHEL_ALL],
            argv=["subscription-manager", "repos", "--enable=rhel-7-server-optional-rpms"],
        ),
        _rhel("yum-clean", "Clean the repository cache", ["yum", "clean", "all"], [_RHEL_ALL]),
        _rhel("yum-repolist", "Refresh the repositories", ["yum", "repolist"], [_RHEL_ALL]),
        _rhel(
            "devtools",
            "Install Development Tools",
            ["yum", "groupinstall", "-y", "Development Tools"],
            [_COMPILER],
        ),
        _rhel(
            "build-tools",
            "Install the build tools",
            ["yum", "install", "-y", *_RHEL_TOOLS],
            [_rpm(_RHEL_TOOLS)],
        ),
        _rhel(
            "epel",
            "Add EPEL",
            [
                "rpm",
                "-ivh",
                "https://dl.fedoraproject.org/pub/epel/epel-release-latest-7.noarch.rpm",
            ],
            [_rpm(["epel-release"])],
            idem=False,
        ),
        _rhel(
            "python-tools",
            "Install Python 2.7 tools",
            ["yum", "install", "-y", *_RHEL_PY],
            [_rpm(_RHEL_PY)],
        ),
        Command(
            id="apt-update",
            title="Refresh the package lists",
            families=["debian"],
            argv=["apt-get", "update"],
            idempotent=True,
            done_when=[
                PackagesInstalled(
                    name="packages installed", manager="dpkg", packages=_DEB_TF + _DEB_PY
                )
            ],
        ),
        Command(
            id="tf-packages",
            title="Install the TensorFlow Serving build packages",
            families=["debian"],
            argv=["apt-get", "install", "-y", *_DEB_TF],
            idempotent=True,
            done_when=[
                PackagesInstalled(name="packages installed", manager="dpkg", packages=_DEB_TF)
            ],
        ),
        Command(
            id="python-tools",
            title="Install virtualenv and Python 2.7 tools",
            families=["debian"],
            argv=["apt-get", "install", "-y", *_DEB_PY],
            idempotent=True,
            done_when=[
                PackagesInstalled(name="packages installed", manager="dpkg", packages=_DEB_PY)
            ],
        ),
    ],
    results=[
        CommandsPresent(
            name="compiler, git, swig, zip",
            fix="re-run step 3",
            commands=["gcc", "g++", "make", "git", "swig", "zip", "curl"],
        ),
        CommandsPresent(
            name="python2.7 and virtualenv",
            fix="re-run step 3",
            commands=["python2.7", "virtualenv"],
        ),
    ],
)
