"""The route of each system release, as tables: repositories and package names per route
(checks/releases.py says which release takes which route) and the Python stack per Python
version. The steps use these values as placeholders ({build_packages}, {tf_spec}...); an
action that exists on some routes only names them in ``routes``.

Sources, beside the data they gave:
- SUSE: "Modules and Extensions Quick Start", SLES 15 SP5
  (documentation.suse.com/sles/15-SP5/html/SLES-all/article-modules.html): the SDK of SLES 12
  became the Development Tools module (sle-module-development-tools/15.x/x86_64), Package
  Hub is PackageHub/15.x/x86_64, Python 3.11 comes from the Python 3 module
  (sle-module-python3/15.x/x86_64, SP4 on), podman from the Containers module
  (sle-module-containers/15.x/x86_64); the Basis-Devel pattern of SLES 12 is devel_basis.
  Product strings are what `SUSEConnect --list-extensions` prints after "Install with:"
  (github.com/yast/yast-registration wiki, "Available SCC Extensions for Use in Autoyast").
- Red Hat: CodeReady Builder is codeready-builder-for-rhel-{8,9}-x86_64-rpms
  (docs.redhat.com, "Package manifest", and the EPEL guide docs.fedoraproject.org/en-US/epel/:
  "subscription-manager repos --enable codeready-builder-for-rhel-9-$(arch)-rpms", then
  epel-release-latest-9.noarch.rpm); python39 is RHEL 8's Python 3.9 (AppStream), python3
  RHEL 9's; podman is in both AppStreams. EPEL 7 renamed python-pip to python2-pip, which
  provides python-pip (smoogespace.blogspot.com/2016/12/why-are-epel-python-packages-getting.html),
  hence "installed" is asked with `rpm -q --whatprovides`.
- Debian/Ubuntu (packages.debian.org, packages.ubuntu.com): libcurl3-dev is a virtual
  package provided by libcurl4-openssl-dev on Debian 9 and Ubuntu 16.04/18.04 ("State: not a
  real package / Provided by: libcurl4-openssl-dev", askubuntu.com/questions/469360) and
  gone from Debian 11+ / Ubuntu 20.04+; libpng-dev is virtual on Ubuntu 16.04 (provided by
  libpng12-dev); python-dev, python-pip, python-numpy and python-virtualenv are gone from
  Debian 11 and Ubuntu 20.04 on (Python 2 was removed), python3-venv gives `python3 -m venv`.
  apt-key is deprecated ("Manage keyring files in trusted.gpg.d instead", apt-key(8)) and gone
  from Debian 13 / Ubuntu 24.10: the key is a keyring file named by signed-by (sources.list(5)).
- unzip, which Bazel's installer needs, is the package `unzip` on every release: Debian 9-13
  and Ubuntu 16.04-24.04 (packages.debian.org/<codename>/unzip, packages.ubuntu.com/<codename>/
  unzip; `apt-cache policy unzip` on this Debian 12 machine: 6.0-28, bookworm/main; Bazel's
  guide: `apt-get install pkg-config zip g++ zlib1g-dev unzip`, docs.bazel.build/versions/
  1.2.0/install-ubuntu.html); RHEL/CentOS 7 and RHEL 8/9 (base repository / BaseOS: docs.
  redhat.com RHEL 9 "Package manifest", chapter "The BaseOS repository"; `yum install -y unzip
  zip` before the Bazel installer on centos:7, github.com/hellozmz/WeChat Dockerfile); SLES 12
  and 15 (the SLES pool / Basesystem module, Info-ZIP's unzip-6.00 as built by
  build.opensuse.org; `zypper --non-interactive install unzip` in scripts for SLES).
- TensorFlow: TF 1.15 is the last 1.x with cp27 wheels; its manylinux2010 wheels need
  pip >= 19.0 (tensorflow.org/install/pip, "Requires pip >= 19.0"); pip 21.0 dropped Python 2
  (pip.pypa.io/en/stable/news/#v21-0), so a 2.7 venv upgrades to pip<21 (pip 8 ignores
  Requires-Python, honoured from pip 9.0: pip.pypa.io/en/stable/news/#v9-0-0). TF 2 wheels
  and tensorflow-serving-api (pypi.org/simple): 2.6 last for cp36, 2.11 for cp37, 2.13 for
  cp38, serving-api 2.19 last for 3.9 (2.20 needs >= 3.10), 2.21 for 3.10-3.13. The Linux
  `tensorflow` wheel computes on the CPU unless installed as tensorflow[and-cuda]
  (tensorflow.org/install/pip), and tensorflow-serving-api requires `tensorflow`, so
  `tensorflow-cpu` would only add a second copy.
- TF Serving's container image tensorflow/serving (hub.docker.com/r/tensorflow/serving),
  tagged by version, holds /usr/bin/tensorflow_model_server (tensorflow.org/tfx/serving/docker).
"""

from __future__ import annotations

import shlex
from typing import Any

from checks.distro import DistroInfo
from checks.releases import TUTORIAL, find_release

Value = str | list[str]

# Route groups, for the actions that exist on some routes only.
BUILD = ["sles12", "rhel7"]  # the tutorial: TF Serving compiled with Bazel 0.11.1
CONTAINER = ["sles15", "sles15-py36", "rhel8", "rhel9"]  # TF Serving's container image
APT_KEY = ["apt-py2", "apt-xenial"]  # the tutorial's apt-key
APT_SIGNED = ["apt-py3"]  # a keyring file named by signed-by
APT = APT_KEY + APT_SIGNED
SLES15 = ["sles15", "sles15-py36"]
RHEL_NEW = ["rhel8", "rhel9"]
_RHEL_TOOLS = ["wget", "curl", "git", "freetype-devel", "swig", "zip"]


def _epel(major: int) -> str:
    return f"https://dl.fedoraproject.org/pub/epel/epel-release-latest-{major}.noarch.rpm"

PY2 = ["sles12", "rhel7", "apt-py2", "apt-xenial"]
PY3 = [r for r in (*CONTAINER, *APT_SIGNED)]

_SLES15_BUILD = [
    "wget",
    "curl",
    "git",
    "freetype2-devel",
    "libpng16-devel",
    "swig",
    "zip",
    "podman",
]
_DEB_PY2_BUILD = [
    "build-essential",
    "curl",
    "libcurl4-openssl-dev",  # TF Serving's guide says libcurl3-dev: virtual, provided by this
    "git",
    "libfreetype6-dev",
    "libpng-dev",
    "libzmq3-dev",
    "pkg-config",
    "software-properties-common",
    "swig",
    "zip",
    "zlib1g-dev",
]

ROUTES: dict[str, dict[str, Value]] = {
    "sles12": {
        "route_title": "the tutorial's route (SLES 12, Python 2.7)",
        "build_packages": [
            "wget",
            "curl",
            "git",
            "freetype-devel",
            "libpng12-devel",
            "swig",
            "zip",
        ],
        "python_packages": [
            "python",
            "python-devel",
            "python-numpy",
            "python-numpy-devel",
            "python-setuptools",
        ],
        "suse_pattern": "Basis-Devel",
        "extra_packages": ["python-pip", "python-virtualenv"],  # devel:languages:python's
    },
    "sles15": {
        "route_title": "SLES 15 SP4 or later: Python 3.11 from the Python 3 module",
        "build_packages": _SLES15_BUILD,
        "python_packages": ["python311", "python311-devel", "python311-pip"],
        "suse_pattern": "devel_basis",
    },
    "sles15-py36": {
        "route_title": "SLES 15 SP1-SP3: Python 3.6",
        "build_packages": _SLES15_BUILD,
        "python_packages": ["python3", "python3-devel", "python3-pip"],
        "suse_pattern": "devel_basis",
    },
    "rhel7": {
        "route_title": "the tutorial's route (RHEL/CentOS 7, Python 2.7)",
        "build_packages": _RHEL_TOOLS,
        "python_packages": ["numpy", "python", "python-devel", "python-pip", "python-virtualenv"],
        "epel_url": _epel(7),
    },
    "rhel8": {
        "route_title": "RHEL 8: CodeReady Builder, EPEL 8, Python 3.9",
        "build_packages": [*_RHEL_TOOLS, "podman"],
        "python_packages": ["python39", "python39-devel", "python39-pip"],
        "crb_repo": "codeready-builder-for-rhel-8-x86_64-rpms",
        "epel_url": _epel(8),
    },
    "rhel9": {
        "route_title": "RHEL 9: CodeReady Builder, EPEL 9, Python 3.9",
        "build_packages": [*_RHEL_TOOLS, "podman"],
        "python_packages": ["python3", "python3-devel", "python3-pip"],
        "crb_repo": "codeready-builder-for-rhel-9-x86_64-rpms",
        "epel_url": _epel(9),
    },
    "apt-py2": {
        "route_title": "the tutorial's route (Python 2.7)",
        "build_packages": _DEB_PY2_BUILD,
        "python_packages": [
            "virtualenv",
            "python-numpy",
            "python-dev",
            "python-pip",
            "python-wheel",
        ],
    },
    "apt-xenial": {
        "route_title": "the tutorial's route (Python 2.7)",
        "build_packages": [
            "libpng12-dev" if p == "libpng-dev" else p for p in _DEB_PY2_BUILD
        ],  # libpng-dev is virtual on 16.04, provided by libpng12-dev
        "python_packages": [
            "virtualenv",
            "python-numpy",
            "python-dev",
            "python-pip",
            "python-wheel",
        ],
    },
    "apt-py3": {
        "route_title": "the release's own packages, a Python 3 venv, no apt-key",
        "build_packages": [
            "build-essential",
            "ca-certificates",
            "curl",
            "git",
            "pkg-config",
            "swig",
            "zip",
            "zlib1g-dev",
        ],
        "python_packages": ["python3-dev", "python3-venv"],
    },
}

# The Python stack: how the venv is made, the pip it needs, TensorFlow and the serving API
# of the same version, and the hello check in that TensorFlow's own words.
_HELLO_TF1 = (
    "import tensorflow as tf; hello = tf.constant('Hello, TensorFlow!'); "
    "sess = tf.Session(); print(sess.run(hello))"
)
_HELLO_TF2 = (
    "import tensorflow as tf; hello = tf.constant('Hello, TensorFlow!'); "
    "print(hello.numpy().decode())"
)
PYTHONS: dict[str, dict[str, str]] = {
    "2.7": {"pip_spec": "pip<21", "tf": "1.15.0", "tf_spec": "tensorflow<2"},
    "3.6": {"pip_spec": "pip<22", "tf": "2.6.2", "tf_spec": "tensorflow~=2.6.2"},
    "3.7": {"pip_spec": "pip<24", "tf": "2.11.1", "tf_spec": "tensorflow~=2.11.1"},
    "3.8": {"pip_spec": "pip<25", "tf": "2.13.1", "tf_spec": "tensorflow~=2.13.1"},
    "3.9": {"pip_spec": "pip", "tf": "2.19.1", "tf_spec": "tensorflow~=2.19.1"},
    "3.10": {"pip_spec": "pip", "tf": "2.21.0", "tf_spec": "tensorflow~=2.21.0"},
    "3.11": {"pip_spec": "pip", "tf": "2.21.0", "tf_spec": "tensorflow~=2.21.0"},
    "3.12": {"pip_spec": "pip", "tf": "2.21.0", "tf_spec": "tensorflow~=2.21.0"},
    "3.13": {"pip_spec": "pip", "tf": "2.21.0", "tf_spec": "tensorflow~=2.21.0"},
}
# TF Serving's container image of the version the serving API speaks.
SERVING_IMAGE = "docker.io/tensorflow/serving"


# TF Serving routes: the default per release route, where each can be chosen, and how long
# each takes (the tutorial: "This takes 2 to 4 hours"; an image pull or a .deb, minutes).
SERVING_DEFAULT = {
    **{r: "build" for r in BUILD},
    **{r: "container" for r in CONTAINER},
    **{r: "apt" for r in APT},
}
SERVING_ALLOWED = {
    "build": list(ROUTES),  # the tutorial's, or with the Bazel of the tag (serving_build.py)
    "container": [*CONTAINER, "rhel7", *APT_SIGNED],
    "apt": APT,
}
SERVING_DURATION = {"build": "2-4 hours", "container": "minutes", "apt": "minutes"}
# What a source build needs beyond the route's build packages, on every route that runs the
# Bazel installer, the tutorial's included: the installer stops without unzip (bazelbuild/bazel
# scripts/packages/template_bin.sh: "unzip not found", exit 1, 0.11.1 as 7.x; Bazel's install
# guide lists it, docs.bazel.build/versions/1.2.0/install-ubuntu.html). The tutorial's step 3
# installs zip only. The package is named unzip on every release (see the sources above).
BUILD_EXTRA = {r: ["unzip"] for r in ROUTES}
# Installing podman where the release's route does not already (rhel8/9 and SLES 15 do).
PODMAN_INSTALL = {
    "rhel7": ["yum", "install", "-y", "podman"],  # RHEL 7.6+ extras
    "apt-py3": ["apt-get", "install", "-y", "podman"],  # Debian 11+, Ubuntu 20.10+
}


_ABSOLUTE = {
    "build": "{checkout}/bazel-bin/tensorflow_serving/model_servers/tensorflow_model_server",
    "apt": "/usr/bin/tensorflow_model_server",  # the tensorflow-model-server package's file
    "container": "/usr/bin/podman",
}


class RouteError(ValueError):
    """A serving route this release cannot take: one sentence with the alternatives."""


def serving_route(route: str, wanted: str) -> str:
    chosen = SERVING_DEFAULT[route] if wanted == "auto" else wanted
    if route not in SERVING_ALLOWED[chosen]:
        can = [k for k, routes in SERVING_ALLOWED.items() if route in routes]
        raise RouteError(
            f"serving.route = {chosen!r} is not available on this release ({route}): "
            f"choose {' or '.join(repr(c) for c in can)}"
        )
    return chosen


def route_of(info: DistroInfo) -> tuple[str, str]:
    """(route, python) of a detected system; a DistroInfo made by hand (tests) gets its
    release's row, or its family's tutorial route."""
    if info.route and info.python:
        return info.route, info.python
    family = info.family or "sles"
    rel = find_release(info.id, info.version, family) or TUTORIAL[family]
    return rel.route, rel.python


def values(
    route: str,
    python: str,
    venv: str,
    export: str,
    port: str,
    serving: str = "auto",
    checkout: str = "~/serving",
    own_bazel: bool = False,
) -> dict[str, Any]:
    """The placeholders of a route, ready for steps.core.plan.render. ``own_bazel``: the
    admin brings Bazel (serving.bazel), so its installer, and unzip for it, are left out."""
    chosen = serving_route(route, serving)
    py = PYTHONS[python]
    tf1 = python == "2.7"
    exe = "python2.7" if tf1 else f"python{python}"
    image = f"{SERVING_IMAGE}:{'1.15.0' if tf1 else py['tf']}"
    config = f"{export}/config.cnf"
    if chosen == "container":
        serving_argv = [
            "podman", "run", "--rm", "--name", "tensorflow_model_server",
            "-p", f"{port}:{port}", "-v", f"{export}:{export}:Z",
            "--entrypoint", "tensorflow_model_server", image,
            f"--port={port}", f"--model_config_file={config}",
        ]  # fmt: skip
    else:
        serving_argv = [
            "tensorflow_model_server",
            f"--port={port}",
            f"--model_config_file={config}",
        ]
    table = ROUTES[route]
    build_packages = [*table["build_packages"]]
    if chosen == "build" and not own_bazel:
        build_packages += BUILD_EXTRA.get(route, [])
    return {
        **table,
        "build_packages": build_packages,
        "repo_packages": [
            *build_packages,
            *table["python_packages"],
            *table.get("extra_packages", []),
        ],
        "route": route,
        "python": python,
        "python_exe": exe,
        "venv_create": (
            ["virtualenv", "--python=python2.7", "--system-site-packages", venv]
            if tf1
            else [exe, "-m", "venv", venv]
        ),
        "pip_spec": py["pip_spec"],
        "tf_version": "1.15.0" if tf1 else py["tf"],
        "tf_spec": py["tf_spec"],
        "api_spec": "tensorflow-serving-api<2"
        if tf1
        else py["tf_spec"].replace("tensorflow", "tensorflow-serving-api"),
        "hello_code": _HELLO_TF1 if tf1 else _HELLO_TF2,
        "serving_image": image,
        "serving_argv": serving_argv,
        # systemd wants an absolute ExecStart (systemd.service(5)).
        "serving_exec": shlex.join(
            [_ABSOLUTE[chosen].format(checkout=checkout), *serving_argv[1:]]
        ),
        "serving_route": chosen,
        "serving_duration": SERVING_DURATION[chosen],
        "podman_install": PODMAN_INSTALL.get(route, ["true"]),
        "python_commands": ["python2.7", "virtualenv"] if tf1 else [exe],
    }
