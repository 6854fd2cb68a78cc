"""Which Linux this is, read from the files under a movable root, and its tutorial family."""

from __future__ import annotations

from pathlib import Path

import distro
from pydantic import BaseModel

from checks.releases import SUPPORTED, TUTORIAL, find_release

FAMILY_OF_ID = {
    "sles": "sles",
    "sles_sap": "sles",
    "sled": "sles",
    "rhel": "rhel",
    "centos": "rhel",
    "redhat": "rhel",
    "debian": "debian",
    "ubuntu": "debian",
}
FAMILY_NAMES = {
    "sles": "SUSE Linux Enterprise",
    "rhel": "Red Hat Enterprise Linux / CentOS",
    "debian": "Debian / Ubuntu",
}


class DistroInfo(BaseModel):
    id: str
    name: str
    version: str
    like: list[str] = []
    family: str | None = None
    forced: bool = False
    reason: str = ""
    route: str | None = None  # the key of its route's tables (checks/releases.py)
    python: str = ""  # the Python of the route's virtual environment
    release: str = ""  # the supported release it was recognised as ("SLES 15 SP4 or later")

    @property
    def supported(self) -> bool:
        return self.family is not None

    @property
    def sles_release(self) -> str:
        """SUSEConnect's product version: 12.2 for SLES 12 SP2, 12 for 12 GA."""
        return self.version or "12"

    @property
    def sles_sp_repo(self) -> str:
        """openSUSE build service folder name: SLE_12_SP2, or SLE_12 for GA."""
        major, _, sp = self.sles_release.partition(".")
        return f"SLE_{major}_SP{sp}" if sp and sp != "0" else f"SLE_{major}"


def detect(root: Path = Path("/"), force: str | None = None) -> DistroInfo:
    """Reads os-release under ``root``; ``force`` names a family to use regardless."""
    reader = distro.LinuxDistribution(
        include_lsb=False,
        include_uname=False,
        include_oslevel=False,
        root_dir=None if root == Path("/") else str(root),
    )
    info = reader.info()
    ident = info.get("id") or ""
    like = (info.get("like") or "").split()
    info_model = DistroInfo(
        id=ident or "unknown",
        name=reader.name(pretty=True) or ident or "an unknown system",
        version=info.get("version") or "",
        like=like,
    )
    if force:
        if force not in FAMILY_NAMES:
            raise ValueError(
                f"--distro {force}: not a family; use one of {', '.join(FAMILY_NAMES)}"
            )
        info_model.family, info_model.forced = force, True
        return _with_route(info_model, derived=True)
    family = FAMILY_OF_ID.get(ident) or next(
        (FAMILY_OF_ID[x] for x in like if x in ("debian", "ubuntu", "rhel")), None
    )
    if family is None:
        what = (
            f"{info_model.name} (ID={ident}) is not one the tutorial covers"
            if ident
            else "no /etc/os-release was found, so the system cannot be told apart"
        )
        info_model.reason = (
            f"{what}: the wizard has routes only for {SUPPORTED}; "
            "if it is close to one of them, force its family with --distro sles|rhel|debian"
        )
    info_model.family = family
    return _with_route(info_model, derived=ident not in FAMILY_OF_ID)


def _with_route(info: DistroInfo, derived: bool) -> DistroInfo:
    """A release no route serves is refused in one sentence naming those that are served."""
    if info.family is None:
        return info
    rel = find_release(info.id, info.version, info.family if derived else None)
    if rel is None and derived:
        rel = TUTORIAL[info.family]
    if rel is None:
        info.reason = (
            f"{info.name}: no route of the wizard serves this release (its packages, "
            f"repositories and Python differ); the wizard has routes only for {SUPPORTED}"
        )
        info.family = None
        return info
    info.route, info.python, info.release = rel.route, rel.python, rel.label
    return info
