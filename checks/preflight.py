"""Preflight: what a run will need, measured before it changes anything.

Pure functions turn measured facts (free space per filesystem, /proc/meminfo, which
commands are found, which hosts answered) into table rows: what was measured, what is
needed, and the fix. The few readers that measure (statvfs, a TCP connect with a timeout)
are small and take their paths, addresses and timeouts as arguments, so tests point them
at a sandbox and at loopback listeners.

Each row has a ``name`` the admin can accept with ``--skip-preflight NAME``: hana, disk,
memory, commands, hosts, bazel (the admin's own Bazel is not the version the tag pins).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from checks.result import Status

NAMES = ("hana", "disk", "memory", "commands", "hosts", "bazel")
GB = 1024**3


@dataclass(frozen=True)
class Row:
    name: str  # what --skip-preflight NAME accepts
    check: str
    status: Status
    measured: str
    needed: str
    fix: str = ""
    steps: tuple[int, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status == Status.FAIL


def steps_text(steps: Iterable[int]) -> str:
    numbers = sorted(set(steps))
    return ("step " if len(numbers) == 1 else "steps ") + ", ".join(map(str, numbers))


def gb(n_bytes: float) -> str:
    if n_bytes < GB:
        return f"{n_bytes / 1024**2:.0f} MB"
    return f"{n_bytes / GB:.1f} GB"


# -- disk ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiskNeed:
    what: str  # "Bazel's output base ~/.cache/bazel"
    path: str  # on the target system
    bytes: float
    step: int


@dataclass(frozen=True)
class Space:
    """A filesystem as statvfs sees it: an id, where it is mounted (shown), free bytes."""

    device: int
    shown: str
    free: float


def existing_ancestor(path: Path) -> Path:
    """The folder a not-yet-created path will be made in (its nearest existing parent)."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def measure_space(local: Path, shown: str) -> Space:
    """Free bytes for an unprivileged writer (f_bavail), on the filesystem that will hold
    ``local`` once it is created."""
    where = existing_ancestor(local)
    st = os.statvfs(where)
    return Space(os.stat(where).st_dev, shown, st.f_bavail * st.f_frsize)


def disk_rows(needs: Sequence[tuple[DiskNeed, Space]]) -> list[Row]:
    """One row per filesystem: needs that land on the same one add up."""
    by_device: dict[int, list[tuple[DiskNeed, Space]]] = {}
    for need, space in needs:
        by_device.setdefault(space.device, []).append((need, space))
    rows = []
    for group in by_device.values():
        total = sum(n.bytes for n, _ in group)
        space = group[0][1]
        shown = ", ".join(dict.fromkeys(sp.shown for _, sp in group))
        whats = ", ".join(n.what for n, _ in group)
        ok = space.free >= total
        rows.append(
            Row(
                name="disk",
                check=f"free disk for {whats}",
                status=Status.OK if ok else Status.FAIL,
                measured=f"{gb(space.free)} free at {shown}",
                needed=gb(total),
                fix=""
                if ok
                else f"free {gb(total - space.free)} on the filesystem of {shown}, or "
                "point serving.checkout / admin.home at a larger disk",
                steps=tuple(sorted({n.step for n, _ in group})),
            )
        )
    return rows


# -- memory ----------------------------------------------------------------------------------
def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo's fields, in bytes."""
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key.strip()] = int(parts[0]) * 1024
    return out


def usable_memory(info: Mapping[str, int]) -> tuple[int | None, int]:
    """(memory the build can have, free swap). MemAvailable where the kernel gives it (3.14,
    backported to RHEL 7); else free + buffers + page cache, as older kernels' tools do."""
    if "MemAvailable" in info:
        ram: int | None = info["MemAvailable"]
    elif "MemFree" in info:
        ram = info["MemFree"] + info.get("Buffers", 0) + info.get("Cached", 0)
    else:
        ram = info.get("MemTotal")
    return ram, info.get("SwapFree", 0)


def memory_row(info: Mapping[str, int], need: float, steps: tuple[int, ...]) -> Row:
    ram, swap = usable_memory(info)
    if ram is None:
        return Row("memory", "memory for the build", Status.WARN, "cannot read /proc/meminfo",
                   gb(need), "", steps)  # fmt: skip
    ok = ram + swap >= need
    return Row(
        name="memory",
        check="memory for the build (RAM available + free swap)",
        status=Status.OK if ok else Status.FAIL,
        measured=f"{gb(ram)} RAM available + {gb(swap)} swap",
        needed=gb(need),
        fix=""
        if ok
        else f"add {gb(need - ram - swap)} of swap (fallocate -l 8G /swapfile; chmod 600 "
        "/swapfile; mkswap /swapfile; swapon /swapfile), or stop HANA during the build "
        "(HDB stop as the <sid>adm user)",
        steps=steps,
    )


# -- commands --------------------------------------------------------------------------------
def command_rows(
    needed: Mapping[str, set[int]],
    provided: Mapping[str, int],
    found: Callable[[str], bool],
    run: Iterable[int] | None = None,
) -> list[Row]:
    """One row listing what is missing (or one "all found" row). A command that a step of
    this run (``run``: all when None) installs (git by step 3, bazel by step 5) is not
    missing when a later step needs it; ``provided`` names such steps, in the run or not."""
    in_run = None if run is None else set(run)
    missing: dict[str, set[int]] = {}
    later: dict[str, int] = {}
    for cmd, steps in sorted(needed.items()):
        if found(cmd):
            continue
        by = provided.get(cmd)
        if by is not None and all(s >= by for s in steps) and (in_run is None or by in in_run):
            later[cmd] = by
        else:
            missing[cmd] = steps
    all_steps = tuple(sorted({s for steps in needed.values() for s in steps}))
    if not missing:
        shown = f"{len(needed) - len(later)} found"
        if later:
            shown += "; installed by the run: " + ", ".join(
                f"{c} (step {n})" for c, n in sorted(later.items())
            )
        return [Row("commands", "found on PATH", Status.OK, shown, "all", "", all_steps)]
    fixes = []
    for cmd, steps in missing.items():
        by = provided.get(cmd)
        fixes.append(
            f"{cmd} ({steps_text(steps)}): "
            + (f"run step {by} first" if by is not None else "install it or put it on PATH")
        )
    return [
        Row(
            name="commands",
            check="found on PATH",
            status=Status.FAIL,
            measured="missing: " + ", ".join(missing),
            needed=", ".join(sorted(needed)),
            fix="; ".join(fixes),
            steps=tuple(sorted({s for steps in missing.values() for s in steps})),
        )
    ]


# -- hosts -----------------------------------------------------------------------------------
def endpoint(url: str) -> tuple[str, int] | None:
    """(host, port) of a download URL; None for what is not one (a file path, a host name
    made of variables we cannot fill)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https", "ftp") or not parts.hostname or "$" in parts.netloc:
        return None
    default = {"http": 80, "https": 443, "ftp": 21}[parts.scheme]
    try:
        return parts.hostname, parts.port or default
    except ValueError:
        return None


def repo_urls(text: str, kind: str) -> list[str]:
    """Download URLs in a package manager's repository file: zypper/yum ``.repo``
    (``baseurl=``, ``mirrorlist=``, ``metalink=``) or apt (``deb URL suite ...``)."""
    urls = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if kind == "apt":
            words = re.sub(r"\[[^\]]*\]", " ", line).split()  # without [arch=... signed-by=...]
            if words and words[0] in ("deb", "deb-src") and len(words) > 1:
                urls.append(words[1])
            elif line.lower().startswith("uris:"):  # deb822 .sources
                urls += line.split(":", 1)[1].split()
        else:
            key, _, value = line.partition("=")
            if key.strip().lower() in ("baseurl", "mirrorlist", "metalink") and value.strip():
                urls.append(value.strip().split()[0])
    return urls


@dataclass
class HostNeed:
    host: str
    port: int
    steps: set[int] = field(default_factory=set)
    why: set[str] = field(default_factory=set)


def probe_address(
    host: str, port: int, overrides: Mapping[str, str], proxies: Mapping[str, str]
) -> tuple[str, int, str]:
    """Where to knock for a host: an override (a mirror, a test listener), else the proxy
    the downloads will go through, else the host itself. The last item says which."""
    target = overrides.get(f"{host}:{port}") or overrides.get(host) or overrides.get("*")
    if target:
        h, _, p = target.rpartition(":")
        return (h or target), int(p) if p.isdigit() else port, f"probed at {target}"
    proxy = proxies.get("https" if port == 443 else "http")
    if proxy:
        ep = endpoint(proxy if "://" in proxy else "http://" + proxy)
        if ep:
            return ep[0], ep[1], f"through the proxy {ep[0]}:{ep[1]}"
    return host, port, ""


def knock(host: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection opens within the timeout; else why not, in a few words."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror:
        return "name not resolved"
    except UnicodeError:  # a label of over 63 characters, or an empty one (IDNA, RFC 1035)
        return "not a valid host name"
    except TimeoutError:
        return f"no answer in {timeout:g} s"
    except OSError as exc:
        return exc.strerror or str(exc)


def host_rows(
    needs: Sequence[HostNeed],
    overrides: Mapping[str, str],
    proxies: Mapping[str, str],
    timeout: float,
) -> list[Row]:
    """Each host knocked on once, all at the same time: the run waits one timeout at most."""
    if not needs:
        return []
    targets = [probe_address(n.host, n.port, overrides, proxies) for n in needs]
    with ThreadPoolExecutor(max_workers=min(16, len(targets))) as pool:
        answers = list(pool.map(lambda t: knock(t[0], t[1], timeout), targets))
    rows = []
    for need, (_h, _p, how), error in zip(needs, targets, answers, strict=True):
        rows.append(
            Row(
                name="hosts",
                check=f"{need.host}:{need.port} answers ({', '.join(sorted(need.why))})",
                status=Status.OK if error is None else Status.FAIL,
                measured=("answers" if error is None else error) + (f", {how}" if how else ""),
                needed=f"reachable in {timeout:g} s",
                fix=""
                if error is None
                else f"open the way to {need.host}:{need.port} (firewall, DNS, https_proxy), "
                "or provide what it serves offline",
                steps=tuple(sorted(need.steps)),
            )
        )
    return rows


def proxies_from(environ: Mapping[str, str]) -> dict[str, str]:
    """The proxies pip, curl, git and Bazel would use (lower case wins, as in curl)."""
    out = {}
    for scheme in ("http", "https"):
        value = environ.get(f"{scheme}_proxy") or environ.get(f"{scheme.upper()}_PROXY")
        if value:
            out[scheme] = value
    return out


# -- the table -------------------------------------------------------------------------------
def failures(rows: Sequence[Row], accepted: Iterable[str]) -> list[Row]:
    ok = set(accepted)
    return [r for r in rows if r.failed and r.name not in ok]


def render(rows: Sequence[Row], accepted: Iterable[str] = (), flags: bool = True) -> str:
    """The table for a terminal of 80 columns: per check, its status and name (and the steps
    that need it), then what was measured and what is needed; then one line per fix (with
    the command-line flag that accepts it when ``flags``)."""
    ok = set(accepted)
    out = ["Preflight: what this run needs, measured before anything changes"]
    for r in rows:
        mark = "! accepted" if r.failed and r.name in ok else r.status.symbol
        why = f" ({steps_text(r.steps)})" if r.steps else ""
        out.append(f"  {mark:<7} {r.name:<8} {r.check}{why}")
        out.append(f"  {'':<7} {'':<8}   measured: {r.measured}; needed: {r.needed}")
    fixes = [r for r in rows if r.failed]
    if fixes:
        out.append("Fixes:")
        for r in fixes:
            accepted_now = " (accepted)" if r.name in ok else ""
            hint = "" if accepted_now or not flags else f"; or accept it: --skip-preflight {r.name}"
            out.append(f"  {r.name}{accepted_now}: {r.fix}{hint}")
    return "\n".join(out) + "\n"
