"""/etc/os-release of the systems the wizard meets, as those systems ship them."""

from __future__ import annotations

OS_RELEASE: dict[str, str] = {
    "sles12sp2": """\
NAME="SLES"
VERSION="12-SP2"
VERSION_ID="12.2"
PRETTY_NAME="SUSE Linux Enterprise Server 12 SP2"
ID="sles"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:suse:sles:12:sp2"
""",
    "sles12sp3_sap": """\
NAME="SLES_SAP"
VERSION="12-SP3"
VERSION_ID="12.3"
PRETTY_NAME="SUSE Linux Enterprise Server for SAP Applications 12 SP3"
ID="sles_sap"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:suse:sles_sap:12:sp3"
""",
    "rhel7": """\
NAME="Red Hat Enterprise Linux Server"
VERSION="7.5 (Maipo)"
ID="rhel"
ID_LIKE="fedora"
VARIANT="Server"
VARIANT_ID="server"
VERSION_ID="7.5"
PRETTY_NAME="Red Hat Enterprise Linux Server 7.5 (Maipo)"
""",
    "centos7": """\
NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (Core)"
""",
    "ubuntu1604": """\
NAME="Ubuntu"
VERSION="16.04.7 LTS (Xenial Xerus)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 16.04.7 LTS"
VERSION_ID="16.04"
VERSION_CODENAME=xenial
UBUNTU_CODENAME=xenial
""",
    "debian9": """\
PRETTY_NAME="Debian GNU/Linux 9 (stretch)"
NAME="Debian GNU/Linux"
VERSION_ID="9"
VERSION="9 (stretch)"
VERSION_CODENAME=stretch
ID=debian
""",
    "mint19": """\
NAME="Linux Mint"
VERSION="19 (Tara)"
ID=linuxmint
ID_LIKE=ubuntu
PRETTY_NAME="Linux Mint 19"
VERSION_ID="19"
""",
    "opensuse_leap15": """\
NAME="openSUSE Leap"
VERSION="15.0"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.0"
PRETTY_NAME="openSUSE Leap 15.0"
""",
    "fedora28": """\
NAME=Fedora
VERSION="28 (Server Edition)"
ID=fedora
VERSION_ID=28
PRETTY_NAME="Fedora 28 (Server Edition)"
""",
    "alpine": """\
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.8.0
PRETTY_NAME="Alpine Linux v3.8"
""",
}

FAMILY_TOOLS = {
    "sles": ["rpm", "zypper", "SUSEConnect"],
    "rhel": ["rpm", "yum", "subscription-manager"],
    "debian": ["dpkg", "apt-get", "apt-key"],
}


def family_of(sample: str) -> str:
    if sample.startswith(("sles", "opensuse")):
        return "sles"
    if sample.startswith(("rhel", "centos", "fedora")):
        return "rhel"
    return "debian"
