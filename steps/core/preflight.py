"""The preflight of `run` and `resume` (and of the wizard, before its first root prompt):
everything the steps of this run will need, measured before anything changes.

What the route needs, and where the figures come from (defaults in steps/core/settings.py,
``PreflightSettings``; each can be changed with --set preflight.NAME=VALUE):

- Bazel's output base (``~/.cache/bazel``, Bazel's default output root on Linux:
  https://bazel.build/remote/output-directories) holds the whole TensorFlow Serving build:
  20 GB. A TensorFlow build filled a 29 GB root (https://github.com/bazelbuild/bazel/issues/1871)
  and months of TensorFlow builds left 75 GB there (https://github.com/bazelbuild/bazel/issues/1628).
- The checkout of TensorFlow Serving 1.8.0 with its TensorFlow submodule: 1.5 GB; the Python
  2.7 virtualenv with TensorFlow 1.x, gRPC and the serving API: 1.5 GB; the compilers and
  -devel packages of step 3: 2 GB.
- Memory: 8 GB of RAM available plus free swap. A TF Serving build on 2 cores / 7 GB failed
  to link ("Memory exhausted") and passed on 14 GB
  (https://github.com/tensorflow/serving/issues/87); a maintainer builds with 12 GB and
  caps Bazel below that (https://github.com/tensorflow/serving/issues/379). On the HXE VM
  HANA holds most of the memory, so what counts is MemAvailable, not MemTotal.
- Bazel: the admin's own (``serving.bazel``) must be the release the TF Serving tag pins
  (steps/bazel/version.py reads it); another one may fail hours into the build.
- Hosts: what each step's commands download from: the package repositories named in the
  system's own repository files, SUSE Customer Center for SUSEConnect, PyPI for pip, GitHub
  for the Bazel installer and the clone, and mirror.bazel.build / github.com, from which
  Bazel fetches TensorFlow's external archives (tensorflow/workspace.bzl lists each archive
  at both URLs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from checks.evaluate import ProbeResult
from checks.preflight import (
    GB,
    DiskNeed,
    HostNeed,
    Row,
    disk_rows,
    endpoint,
    host_rows,
    measure_space,
    memory_row,
    parse_meminfo,
    proxies_from,
    repo_urls,
)
from checks.spec import CommandsPresent, PackagesInstalled, ToolVersion
from steps.bazel import version as bazel_version
from steps.core.model import Command, Manual, Sql, StartDaemon, WriteFile
from steps.core.plan import Plan
from steps.core.preflight_hana import hana_login, hana_rows, roles_needed
from steps.core.settings import Settings

BUILD_ACTIONS = {"build", "test", "model-server"}
REPO_FILES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "sles": ("/etc/zypp/repos.d", (".repo",), "rpm"),
    "rhel": ("/etc/yum.repos.d", (".repo",), "rpm"),
    "debian": ("/etc/apt/sources.list.d", (".list", ".sources"), "apt"),
}
# Services a step's commands talk to that are in no URL of theirs.
SERVICE_HOSTS = {
    "SUSEConnect": ("scc.suse.com", 443, "SUSE Customer Center"),
    "subscription-manager": ("subscription.rhsm.redhat.com", 443, "Red Hat subscriptions"),
}
PYPI = (("pypi.org", 443), ("files.pythonhosted.org", 443))
BAZEL_FETCH = (("mirror.bazel.build", 443), ("github.com", 443))

Runs = Mapping[int, set[str]]  # per step, the ids of the actions that would run


# -- disk, memory ------------------------------------------------------------------------------
def disk_needs(plan: Plan, settings: Settings, runs: Runs) -> list[DiskNeed]:
    p = settings.preflight
    home = settings.admin.home_dir
    needs = []
    if runs.get(3):
        needs.append(DiskNeed("system packages (/usr)", "/usr", p.packages_gb * GB, 3))
    if runs.get(4):
        venv = settings.expand(settings.serving.venv)
        needs.append(DiskNeed(f"the virtualenv {venv}", venv, p.venv_gb * GB, 4))
    five = runs.get(5, set())
    if "clone" in five:
        checkout = settings.expand(settings.serving.checkout)
        needs.append(DiskNeed(f"the checkout {checkout}", checkout, p.checkout_gb * GB, 5))
    if "build" in five:  # the full build fills the output base; later targets reuse it
        cache = f"{home}/.cache/bazel"
        needs.append(DiskNeed(f"Bazel's output base {cache}", cache, p.bazel_output_gb * GB, 5))
    return needs


# -- commands ----------------------------------------------------------------------------------
def commands_needed(plan: Plan, runs: Runs, euid: int) -> dict[str, set[int]]:
    """The executables of the actions that would run (and sudo to run them as another
    user), and the package query tool their checks use."""
    needed: dict[str, set[int]] = {}

    def add(cmd: str, step: int) -> None:
        if cmd and "/" not in cmd and "{" not in cmd:
            needed.setdefault(cmd, set()).add(step)

    for step in plan.steps:
        ids = runs.get(step.number, set())
        for a in step.actions:
            if a.id not in ids or isinstance(a, (Manual, Sql)):
                continue
            if isinstance(a, (Command, StartDaemon)):
                add(a.argv[0], step.number)
            if isinstance(a, WriteFile) and a.validate_argv:
                add(a.validate_argv[0], step.number)
            if a.run_as != "root" or euid != 0:
                add("sudo", step.number)
            for spec in a.done_when:
                if isinstance(spec, PackagesInstalled):
                    add(spec.manager, step.number)
    return needed


def commands_provided(plan: Plan, numbers: list[int]) -> dict[str, int]:
    """Commands a step of the run puts in place: its expected results say so, or one of its
    actions is done when they are present (step 5's podman install on the container route)."""
    out: dict[str, int] = {}
    for step in plan.steps:
        if step.number not in numbers:
            continue
        for spec in [*step.results, *(s for a in step.actions for s in a.done_when)]:
            if isinstance(spec, CommandsPresent):
                for cmd in spec.commands:
                    out.setdefault(cmd, step.number)
            if isinstance(spec, ToolVersion):
                out.setdefault(Path(spec.argv[0]).name, step.number)
    return out


# -- hosts -------------------------------------------------------------------------------------
def host_needs(plan: Plan, runs: Runs, repo_texts: Mapping[int, list[str]]) -> list[HostNeed]:
    """The hosts each step's would-run actions download from. ``repo_texts``: per step that
    uses the package manager, the download URLs of the system's repository files."""
    found: dict[tuple[str, int], HostNeed] = {}

    def add(ep: tuple[str, int] | None, step: int, why: str) -> None:
        if ep is None:
            return
        need = found.setdefault(ep, HostNeed(ep[0], ep[1]))
        need.steps.add(step)
        need.why.add(why)

    for step in plan.steps:
        ids = runs.get(step.number, set())
        if not ids:
            continue
        for a in step.actions:
            if a.id not in ids:
                continue
            argv = a.argv if isinstance(a, (Command, StartDaemon)) else []
            for word in argv:
                add(endpoint(word), step.number, "download")
            if isinstance(a, WriteFile):
                for url in repo_urls(a.content, "apt"):
                    add(endpoint(url), step.number, "package repository")
            if argv and argv[0] in SERVICE_HOSTS:
                host, port, why = SERVICE_HOSTS[argv[0]]
                add((host, port), step.number, why)
            if argv and argv[0].endswith("/pip"):
                for ep in PYPI:
                    add(ep, step.number, "PyPI")
            if a.id in BUILD_ACTIONS:
                for ep in BAZEL_FETCH:
                    add(ep, step.number, "Bazel's downloads")
        for url in repo_texts.get(step.number, []):
            add(endpoint(url), step.number, "package repository")
    return list(found.values())


def repository_urls(root: Path, family: str) -> list[str]:
    """The download URLs of the package manager's repository files on the target."""
    folder, suffix, kind = REPO_FILES[family]
    files = [root / "etc/apt/sources.list"] if family == "debian" else []
    d = root / folder.lstrip("/")
    if d.is_dir():
        files += sorted(p for p in d.iterdir() if p.name.endswith(suffix))
    urls = []
    for f in files:
        try:
            urls += repo_urls(f.read_text(errors="replace"), kind)
        except OSError:
            continue
    return urls


def uses_packages(plan: Plan, number: int, runs: Runs) -> bool:
    managers = ("zypper", "yum", "apt-get")
    return any(
        isinstance(a, Command) and a.argv[0] in managers and a.id in runs.get(number, set())
        for a in plan.step(number).actions
    )


# -- all of it ---------------------------------------------------------------------------------
def would_run(engine: Any, plan: Plan, numbers: list[int]) -> dict[int, set[str]]:
    """Per step of the run, the actions the engine's preview says would run (read from the
    system, nothing changed). A build still running from an earlier wizard is re-attached
    to, not started: it needs no new disk or memory."""
    from steps.core.state import ActionStatus

    def started(number: int, action_id: str) -> bool:
        return engine.state.step(number).action(action_id).status == ActionStatus.RUNNING

    return {
        step.number: {
            a.id
            for a, verdict in engine.preview(step)
            if verdict == "would run" and not started(step.number, a.id)
        }
        for step in plan.steps
        if step.number in numbers
    }


Probe = Callable[[list[str], str], ProbeResult]


def measure(
    session: Any,
    plan: Plan,
    runs: Runs,
    numbers: list[int],
    passwords: Mapping[str, str] | None = None,
    login: Callable[[str], str | None] | None = None,
    probe: Probe | None = None,
) -> list[Row]:
    """Every row for this run. ``session`` is a steps.core.session.Session (its settings, host and
    environment); ``runs`` what the engine's preview says would run, per step; ``probe`` runs
    a short read-only command (an engine runner's probe)."""
    settings: Settings = session.settings
    host = session.host
    environ = session.options.environ
    given = {**environ, **(passwords or {})}
    timeout = settings.preflight.timeout_s
    rows = hana_rows(
        settings,
        roles_needed(plan, numbers),
        given,
        login or hana_login(settings, given),
        timeout,
    )
    needs = disk_needs(plan, settings, runs)
    rows += disk_rows([(n, measure_space(host.path(n.path), _shown(host, n.path))) for n in needs])
    if runs.get(5, set()) & BUILD_ACTIONS:
        try:
            info = parse_meminfo((host.root / "proc/meminfo").read_text())
        except OSError:
            info = {}
        rows.append(memory_row(info, settings.preflight.build_memory_gb * GB, (5,)))
        own = settings.serving.bazel
        if own is not None and probe is not None:
            found, said = bazel_version.read(probe, own)
            rows.append(bazel_version.row(own, found, said, plan.bazel_version, plan.serving_ref))
    from checks.preflight import command_rows

    needed = commands_needed(plan, runs, host.euid)
    if needed:
        rows += command_rows(
            needed,
            commands_provided(plan, [s.number for s in plan.steps]),
            lambda c: host.which(c, tuple(_path_extra(plan, needed[c]))) is not None,
            numbers,
        )
    repos = {
        n: repository_urls(host.root, plan.family) for n in numbers if uses_packages(plan, n, runs)
    }
    rows += host_rows(
        host_needs(plan, runs, repos),
        settings.preflight.hosts,
        proxies_from(environ),
        timeout,
    )
    return rows


def _path_extra(plan: Plan, steps: set[int]) -> list[str]:
    return [p for s in plan.steps if s.number in steps for p in s.path_extra]


def _shown(host: Any, target: str) -> str:
    """The target's name for the folder whose filesystem is measured."""
    from checks.preflight import existing_ancestor

    return str(host.unmap(existing_ancestor(host.path(target))))


def gate(
    session: Any,
    plan: Plan,
    state: Any,
    numbers: list[int],
    passwords: Mapping[str, str],
    accepted: list[str],
    trust_state: bool,
    out: Any,
) -> bool:
    """The headless preflight: the table, then True to go on, or False (with one line per
    fix already shown) when a row failed that the admin did not accept."""
    from checks.preflight import failures, render
    from steps.core import preflight_record

    engine = session.engine(plan, state, trust_state=trust_state)
    runs = would_run(engine, plan, numbers)
    rows = measure(session, plan, runs, numbers, passwords, probe=engine.runner.probe)
    out.write(render(rows, accepted))
    blocking = failures(rows, accepted)
    folder = session.store.folder
    if blocking:
        names = " ".join(f"--skip-preflight {n}" for n in dict.fromkeys(r.name for r in blocking))
        # The last line names what failed: a fleet controller keeps only that line.
        said = "; ".join(preflight_record.line(r) for r in blocking)
        out.write(
            f"Stopped before anything changed: {said}; fix what the table shows, or accept "
            f"it and go on with {names}\n"
        )
        preflight_record.save(folder, plan.distro.name, plan.family, blocking)
        return False
    preflight_record.clear(folder)
    return True
