"""Stand-ins for package and repository tools: zypper, rpm, yum, dpkg, apt-get, apt-key,
SUSEConnect, subscription-manager. Installed package names live in the sandbox's
/var/lib/fake-packages; a package that brings a command puts a stand-in into /usr/bin."""

from __future__ import annotations

import sys
from collections.abc import Callable

from fakelib import err, install_packages, installed_packages, local, offline, say
from fakes_catalogue import absent, capabilities, python3_commands, real_name

PROVIDES: dict[str, list[str]] = {
    "gcc": ["gcc"],
    "gcc-c++": ["g++"],
    "make": ["make"],
    "build-essential": ["gcc", "g++", "make"],
    "git": ["git"],
    "swig": ["swig"],
    "zip": ["zip"],
    "unzip": ["unzip"],  # Info-ZIP's /usr/bin/unzip, the package's name on every release
    "wget": ["wget"],
    "python": ["python2.7"],
    "python-dev": ["python2.7"],
    "python-pip": ["pip"],
    "python2-pip": ["pip"],
    "python311": ["python3.11"],
    "python39": ["python3.9"],
    "podman": ["podman"],
    "python-virtualenv": ["virtualenv"],
    "virtualenv": ["virtualenv"],
    "tensorflow-model-server": ["tensorflow_model_server"],
}
PYTHON3_PACKAGES = ("python3", "python3-venv", "python3-dev", "python3-devel")


def commands_of(name: str) -> list[str]:
    """The commands a package brings on this release."""
    if name in PYTHON3_PACKAGES:
        return python3_commands()
    return PROVIDES.get(name, [])


PATTERNS = {
    "Basis-Devel": ["gcc", "gcc-c++", "make"],
    "devel_basis": ["gcc", "gcc-c++", "make"],
    "Development Tools": ["gcc", "gcc-c++", "make"],
}
_NO_NET = "Could not resolve host: download.opensuse.org"


def _names(argv: list[str]) -> list[str]:
    return [a for a in argv if not a.startswith("-")]


def zypper(argv: list[str]) -> int:
    words = _names(argv)
    cmd, args = (words[0], words[1:]) if words else ("", [])
    repos = local("/etc/zypp/repos.d")
    if cmd in ("clean",):
        say("All repositories have been cleaned up.")
    elif cmd == "refresh":
        if offline():
            err(f"Download (curl) error: {_NO_NET}")
            return 4
        say("All repositories have been refreshed.")
    elif cmd == "install":
        if "pattern" in args:
            args = [a for a in args if a != "pattern"]
            if any(absent(a) for a in args):
                err(f"No provider of 'pattern:{next(a for a in args if absent(a))}' found.")
                return 104
            args = [p for a in args for p in PATTERNS.get(a, [a])]
        for name in args:
            if absent(name):
                err(f"No provider of '{name}' found.")
                return 104
        args = [real_name(a) for a in args]
        say(f"The following {len(args)} NEW packages are going to be installed:")
        say("  " + " ".join(args))
        install_packages(args)
    elif cmd == "addrepo":
        alias = args[-1].rsplit("/", 1)[-1].removesuffix(".repo").replace(":", "_")
        repo = repos / f"{alias}.repo"
        if repo.exists():
            err(f"Repository named '{alias}' already exists. Please use another alias.")
            return 4
        repos.mkdir(parents=True, exist_ok=True)
        repo.write_text(f"[{alias}]\nbaseurl={args[-1]}\n")
        say(f"Repository '{alias}' successfully added")
    elif cmd == "removerepo":
        repo = repos / f"{args[-1]}.repo"
        if not repo.exists():
            err(f"Repository '{args[-1]}' not found by its alias, number, or URI.")
            return 3
        repo.unlink()
        say(f"Repository '{args[-1]}' has been removed.")
    return 0


def rpm(argv: list[str]) -> int:
    if argv[:1] == ["-ivh"]:
        install_packages(["epel-release"])
        return 0
    have, missing = installed_packages(), 0
    whatprovides = "--whatprovides" in argv
    for name in _names(argv):
        found = [h for h in sorted(have) if name in (capabilities(h) if whatprovides else [h])]
        if found:
            say(f"{found[0]}-1.0-1.x86_64")
        elif whatprovides:
            say(f"no package provides {name}")
            missing += 1
        else:
            say(f"package {name} is not installed")
            missing += 1
    return min(missing, 255)


def yum(argv: list[str]) -> int:
    words = _names(argv)
    if words[:1] == ["groupinstall"]:
        install_packages(PATTERNS.get(words[1], []))
    elif words[:1] == ["install"]:
        gone = [w for w in words[1:] if absent(w)]
        if gone:
            err(f"Error: Unable to find a match: {' '.join(gone)}")
            return 1
        install_packages([real_name(w) for w in words[1:]])
    elif words[:1] == ["repolist"]:
        say("repolist: 42,123")
    return 0


def dpkg(argv: list[str]) -> int:
    have, missing = installed_packages(), 0
    for name in _names(argv):
        if name in have:
            say(f"Package: {name}\nStatus: install ok installed")
        else:
            err(f"dpkg-query: package '{name}' is not installed and no information is available")
            missing += 1
    return 1 if missing else 0


def apt_get(argv: list[str]) -> int:
    words = _names(argv)
    if offline():
        err("E: Failed to fetch http://deb.debian.org/  Temporary failure resolving")
        return 100
    if words[:1] == ["install"]:
        for name in words[1:]:
            if absent(name):
                err(f"E: Package '{name}' has no installation candidate")
                return 100
            if real_name(name) != name:
                say(f"Note, selecting '{real_name(name)}' instead of '{name}'")
        install_packages([real_name(w) for w in words[1:]])
    return 0


def apt_key(argv: list[str]) -> int:
    say("OK")
    return 0


def suseconnect(argv: list[str]) -> int:
    if offline():
        err("SUSEConnect error: SocketError: " + _NO_NET)
        return 1
    product = argv[argv.index("-p") + 1] if "-p" in argv else "?"
    say(f"Registering system to SUSE Customer Center\n\nActivating {product} ...")
    say("-> Adding service to system ...\n\nSuccessfully registered system")
    return 0


def subscription_manager(argv: list[str]) -> int:
    repo = next((a.split("=", 1)[1] for a in argv if a.startswith("--enable=")), "?")
    say(f"Repository '{repo}' is enabled for this system.")
    return 0


TOOLS: dict[str, Callable[[list[str]], int]] = {
    "zypper": zypper,
    "rpm": rpm,
    "yum": yum,
    "dpkg": dpkg,
    "apt-get": apt_get,
    "apt-key": apt_key,
    "SUSEConnect": suseconnect,
    "subscription-manager": subscription_manager,
}

if __name__ == "__main__":
    sys.exit(TOOLS[sys.argv[1]](sys.argv[2:]))
