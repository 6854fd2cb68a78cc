"""Which releases the wizard has a route for: (family, os-release ID, VERSION_ID range) ->
route and the Python the route's virtual environment uses. Anything else is refused.

The Pythons are each release's own (or the one its vendor ships beside it):
- SLES 12: python 2.7; SLES 15: python3 3.6 (SP1-SP3), python311 from the Python 3 module
  from SP4 on ("A while ago we introduced a Python 3.11 interpreter [...] in the
  SLE-Module-Python3 repository for SLE 15 SP4 and later", suse.com/c/incompatible-changes-
  ahead-for-public-cloud-sdks/, 2024).
- RHEL/CentOS 7: python 2.7; RHEL 8: python39 (AppStream, since 8.2); RHEL 9: python3 3.9
  (docs.redhat.com, "Installing and using dynamic programming languages", chapter Python).
- Debian 9 / Ubuntu 16.04, 18.04: python 2.7 (the tutorial's); Debian 10 3.7, 11 3.9, 12 3.11,
  13 3.13; Ubuntu 20.04 3.8, 22.04 3.10, 24.04 3.12 (packages.debian.org/<codename>/python3,
  packages.ubuntu.com/<codename>/python3).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    family: str
    ids: tuple[str, ...]
    first: tuple[int, ...]  # VERSION_ID, inclusive
    last: tuple[int, ...]  # inclusive; (12, 99) covers every 12.x
    route: str
    python: str
    label: str


_SLES = ("sles", "sles_sap")
_RHEL7 = ("rhel", "centos")
RELEASES: tuple[Release, ...] = (
    Release("sles", _SLES, (12,), (12, 99), "sles12", "2.7", "SLES 12"),
    Release("sles", _SLES, (15, 1), (15, 3), "sles15-py36", "3.6", "SLES 15 SP1-SP3"),
    Release("sles", _SLES, (15, 4), (15, 99), "sles15", "3.11", "SLES 15 SP4 or later"),
    Release("rhel", _RHEL7, (7,), (7, 99), "rhel7", "2.7", "RHEL/CentOS 7"),
    Release("rhel", ("rhel",), (8,), (8, 99), "rhel8", "3.9", "RHEL 8"),
    Release("rhel", ("rhel",), (9,), (9, 99), "rhel9", "3.9", "RHEL 9"),
    Release("debian", ("debian",), (9,), (9, 99), "apt-py2", "2.7", "Debian 9"),
    Release("debian", ("debian",), (10,), (10, 99), "apt-py3", "3.7", "Debian 10"),
    Release("debian", ("debian",), (11,), (11, 99), "apt-py3", "3.9", "Debian 11"),
    Release("debian", ("debian",), (12,), (12, 99), "apt-py3", "3.11", "Debian 12"),
    Release("debian", ("debian",), (13,), (13, 99), "apt-py3", "3.13", "Debian 13"),
    Release("debian", ("ubuntu",), (16, 4), (16, 4), "apt-xenial", "2.7", "Ubuntu 16.04"),
    Release("debian", ("ubuntu",), (18, 4), (18, 4), "apt-py2", "2.7", "Ubuntu 18.04"),
    Release("debian", ("ubuntu",), (20, 4), (21, 10), "apt-py3", "3.8", "Ubuntu 20.04"),
    Release("debian", ("ubuntu",), (22, 4), (23, 10), "apt-py3", "3.10", "Ubuntu 22.04"),
    Release("debian", ("ubuntu",), (24, 4), (24, 10), "apt-py3", "3.12", "Ubuntu 24.04"),
)
# A derivative (ID_LIKE) or a forced family whose version is none of the above gets its
# family's tutorial route, as the tutorial would.
TUTORIAL = {
    "sles": RELEASES[0],
    "rhel": RELEASES[3],
    "debian": RELEASES[6],
}
SUPPORTED = (
    "SLES 12, SLES 15 SP1 or later (also for SAP Applications), RHEL/CentOS 7, RHEL 8 and 9, "
    "Debian 9-13 and Ubuntu 16.04-24.04"
)


def version_tuple(version_id: str) -> tuple[int, ...] | None:
    """'15.5' -> (15, 5), '22.04' -> (22, 4), '7' -> (7,); None when it is not numeric."""
    try:
        return tuple(int(p) for p in version_id.split(".")) if version_id else None
    except ValueError:
        return None


def find_release(ident: str, version_id: str, family: str | None = None) -> Release | None:
    """The row for this os-release; with ``family`` (a derivative or a forced family) any row
    of that family whose range holds the version, whatever the ID."""
    found = version_tuple(version_id)
    if found is None:
        return None
    for rel in RELEASES:
        ours = ident in rel.ids or (family and rel.family == family)
        if ours and rel.first <= found and found[: len(rel.last)] <= rel.last:
            return rel
    return None
