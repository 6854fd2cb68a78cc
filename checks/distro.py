"""Which Linux this is, read from the files under a movable root, and its tutorial family."""

from __future__ import annotations

from pathlib import Path

import distro
from pydantic import BaseModel

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
        return info_model
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
            f"{what} (the tutorial covers SLES, RHEL/CentOS, Debian/Ubuntu); "
            "if it is close to one of them, force its family with --distro sles|rhel|debian"
        )
    info_model.family = family
    return info_model
