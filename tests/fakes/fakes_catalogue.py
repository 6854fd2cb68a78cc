"""What each release's repositories hold, for the package stand-ins: names that do not exist
there, virtual names and who provides them (Debian), and RPM provides. The stand-ins read
the sandbox's /etc/os-release to pick the release, as the real tools serve their own.

Sources:
- Debian/Ubuntu: `apt-cache showpkg libcurl3-dev` on Ubuntu 16.04 says "State: not a real
  package / Provided by: libcurl4-openssl-dev" (askubuntu.com/questions/469360), the same on
  Debian 9 to 12 (packages.debian.org/bookworm/libcurl3-dev: "virtual package provided by
  libcurl4-openssl-dev", and `apt-cache showpkg` on this Debian 12 machine); libpng-dev on
  Ubuntu 16.04 is provided by libpng12-dev (packages.ubuntu.com/xenial/libpng-dev); Python 2
  (python-dev, python-pip, python-numpy, python-wheel) is gone from Debian 11 and Ubuntu 20.04
  on (`apt-cache policy python-dev` on Debian 12: no candidate). `dpkg -s VIRTUAL` answers
  "package 'VIRTUAL' is not installed and no information is available" (dpkg-query(1)):
  dpkg knows real packages only. apt-get installs the only provider of a virtual package
  ("Note, selecting 'libcurl4-openssl-dev' instead of 'libcurl3-dev'") and fails on a name
  it does not know: "E: Unable to locate package python-dev", or for a name known but
  without candidate "E: Package 'python-pip' has no installation candidate", exit 100.
- EPEL 7 renamed python-pip to python2-pip, which "Provides: python-pip"
  (smoogespace.blogspot.com/2016/12/why-are-epel-python-packages-getting.html); yum installs
  a package by what it provides; `rpm -q python-pip` then says "package python-pip is not
  installed" while `rpm -q --whatprovides python-pip` names python2-pip (rpm(8)).
- RHEL 8/9 have no unversioned python, python-devel, python-pip or python-virtualenv
  (RHEL 8 "Configuring basic system settings", chapter Python: python3/python39 only):
  yum (dnf) says "Error: Unable to find a match: python-devel", exit 1.
- SLES 15: the SLES 12 pattern Basis-Devel is devel_basis, libpng12-devel is gone (libpng16-
  devel), python-devel is python3-devel (scc.suse.com package search); zypper: "No provider
  of 'python-devel' found.", exit 104 (zypper(8) ZYPPER_EXIT_INF_CAP_NOT_FOUND).
"""

from __future__ import annotations

from fakelib import local

_PY2 = ["python-dev", "python-pip", "python-numpy", "python-wheel"]
# release -> {"absent": names, "virtual": {name: provider}, "provides": {real: [capabilities]}}
CATALOGUE: dict[str, dict[str, object]] = {
    "debian:9": {"virtual": {"libcurl3-dev": "libcurl4-openssl-dev"}},
    "ubuntu:16": {
        "virtual": {"libcurl3-dev": "libcurl4-openssl-dev", "libpng-dev": "libpng12-dev"}
    },
    "ubuntu:18": {"virtual": {"libcurl3-dev": "libcurl4-openssl-dev"}},
    "debian:12": {"virtual": {"libcurl3-dev": "libcurl4-openssl-dev"}, "absent": _PY2},
    "ubuntu:22": {"virtual": {"libcurl3-dev": "libcurl4-openssl-dev"}, "absent": _PY2},
    "ubuntu:24": {"virtual": {"libcurl3-dev": "libcurl4-openssl-dev"}, "absent": _PY2},
    "rhel:7": {"provides": {"python2-pip": ["python-pip"]}},
    "centos:7": {"provides": {"python2-pip": ["python-pip"]}},
    "rhel:8": {"absent": ["python", "python-devel", "python-pip", "python-virtualenv"]},
    "rhel:9": {"absent": ["python", "python-devel", "python-pip", "python-virtualenv"]},
    "sles:15": {"absent": ["Basis-Devel", "libpng12-devel", "python-devel", "sle-sdk"]},
    "sles_sap:15": {"absent": ["Basis-Devel", "libpng12-devel", "python-devel", "sle-sdk"]},
}


# The version of each release's own python3 package (packages.debian.org/<codename>/python3,
# packages.ubuntu.com, RHEL 8's platform-python 3.6 / RHEL 9's 3.9, SLES 15's 3.6).
PYTHON3 = {
    "debian:12": "3.11",
    "ubuntu:22": "3.10",
    "ubuntu:24": "3.12",
    "rhel:8": "3.6",
    "rhel:9": "3.9",
    "sles:15": "3.6",
    "sles_sap:15": "3.6",
}


def python3_commands() -> list[str]:
    """What the python3 package puts on PATH there: python3 and python3.X."""
    version = PYTHON3.get(release())
    return ["python3", f"python{version}"] if version else ["python3"]


def release() -> str:
    """'debian:12', 'ubuntu:16', 'rhel:7'... from the sandbox's os-release."""
    f = local("/etc/os-release")
    fields: dict[str, str] = {}
    if f.exists():
        for line in f.read_text().splitlines():
            key, _, value = line.partition("=")
            fields[key] = value.strip().strip('"')
    return f"{fields.get('ID', '')}:{fields.get('VERSION_ID', '').split('.')[0]}"


def _entry() -> dict[str, object]:
    return CATALOGUE.get(release(), {})


def absent(name: str) -> bool:
    names = _entry().get("absent", [])
    return isinstance(names, list) and name in names


def real_name(name: str) -> str:
    """The package that a virtual (Debian) or provided (RPM) name installs."""
    virtual = _entry().get("virtual", {})
    if isinstance(virtual, dict) and name in virtual:
        return str(virtual[name])
    provides = _entry().get("provides", {})
    if isinstance(provides, dict):
        for real, caps in provides.items():
            if name in caps:
                return str(real)
    return name


def capabilities(real: str) -> list[str]:
    provides = _entry().get("provides", {})
    caps = provides.get(real, []) if isinstance(provides, dict) else []
    return [real, *caps]
