"""Evaluate check specs against the real system (under the host's root), concurrently.

Commands that a check runs (``bazel version``, ``rpm -q``) go through a ``Probe`` that the
engine supplies, so they run as the right user with the same environment as the actions.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from checks import spec as s
from checks.distro import DistroInfo
from checks.host import Host
from checks.result import CheckResult, Status
from checks.system import (
    find_sudoers_rule,
    password_state,
    read_passwd,
)
from checks.versions import extract_version, satisfies


@dataclass(frozen=True)
class ProbeResult:
    exit_code: int
    output: str


class Probe(Protocol):
    def __call__(self, argv: list[str], run_as: str) -> ProbeResult: ...


@dataclass
class CheckContext:
    host: Host
    probe: Probe
    distro: DistroInfo | None = None
    sql: Callable[[str, str, list[str]], list[tuple[object, ...]]] | None = None
    path_extra: tuple[str, ...] = field(default_factory=tuple)


def evaluate(spec: s.CheckSpec, ctx: CheckContext) -> CheckResult:
    try:
        return _EVALUATORS[spec.kind](spec, ctx)
    except OSError as exc:
        return _result(spec, Status.FAIL, f"could not look: {exc.strerror or exc}")


def evaluate_all(specs: Sequence[s.CheckSpec], ctx: CheckContext) -> list[CheckResult]:
    """A step's checks run concurrently: probes and SQL round trips dominate, not CPU."""
    if len(specs) <= 1:
        return [evaluate(x, ctx) for x in specs]
    with ThreadPoolExecutor(max_workers=min(8, len(specs))) as pool:
        return list(pool.map(lambda x: evaluate(x, ctx), specs))


def all_pass(specs: Sequence[s.CheckSpec], ctx: CheckContext) -> bool:
    return bool(specs) and all(r.status == Status.OK for r in evaluate_all(specs, ctx))


# What checks run other commands through: when one is missing, the check's own fix (upgrade
# pip, re-install TensorFlow) would not help; installing it does.
WRAPPERS = ("sudo", "su", "runuser")


def _result(spec: s.CheckSpec, status: Status, measured: str, expected: str = "") -> CheckResult:
    fix = "" if status == Status.OK else spec.fix
    missing = measured.removesuffix(": command not found")
    if status == Status.FAIL and missing != measured and missing in WRAPPERS:
        fix = f"{missing} is not installed and this check runs through it: install {missing}"
    return CheckResult(name=spec.name, status=status, measured=measured, expected=expected, fix=fix)


def _ok(flag: bool) -> Status:
    return Status.OK if flag else Status.FAIL


def _distro(spec: s.DistroSupported, ctx: CheckContext) -> CheckResult:
    d = ctx.distro
    if d is None:
        return _result(spec, Status.SKIP, "not detected")
    shown = f"{d.name} -> {d.family or 'unsupported'}" + (" (forced)" if d.forced else "")
    res = _result(spec, _ok(d.supported), shown, "sles, rhel or debian family")
    return res if d.supported else res.model_copy(update={"fix": d.reason})


def _commands(spec: s.CommandsPresent, ctx: CheckContext) -> CheckResult:
    missing = [c for c in spec.commands if ctx.host.which(c, ctx.path_extra) is None]
    shown = "missing: " + ", ".join(missing) if missing else "all found"
    return _result(spec, _ok(not missing), shown, ", ".join(spec.commands))


def _tool_version(spec: s.ToolVersion, ctx: CheckContext) -> CheckResult:
    expected = f"{spec.op} {spec.version}" if spec.op == ">=" else spec.version
    probe = ctx.probe(spec.argv, spec.run_as)
    found = extract_version(probe.output, spec.pattern) if probe.exit_code == 0 else None
    if found is None:
        first = probe.output.strip().splitlines()[:1]
        return _result(spec, Status.FAIL, first[0][:80] if first else "not installed", expected)
    return _result(spec, _ok(satisfies(found, spec.op, spec.version)), found, expected)


def _user(spec: s.UserExists, ctx: CheckContext) -> CheckResult:
    entry = read_passwd(ctx.host.path("/etc/passwd")).get(spec.user)
    if entry is not None and entry.uid == 0 and spec.user != "root":
        # useradd never hands out uid 0 (it allocates from UID_MIN up): this account is root
        # under another name, and everything "as the admin" would run as root.
        return CheckResult(
            name=spec.name,
            status=Status.FAIL,
            measured=f"uid 0, home {entry.home}: a second root account",
            expected="exists, with a uid of its own (not 0)",
            fix=f"give {spec.user} a uid of its own (usermod -u UID {spec.user}, a free uid "
            f"of 1000 or more), or remove it (userdel {spec.user}) and run step 2 again",
        )
    if entry is None and spec.absent_ok:
        return _result(spec, Status.OK, "no such user (step 2 creates it)", "not uid 0")
    shown = f"uid {entry.uid}, home {entry.home}" if entry else "no such user"
    return _result(spec, _ok(entry is not None), shown, "not uid 0" if spec.absent_ok else "exists")


def _password(spec: s.PasswordSet, ctx: CheckContext) -> CheckResult:
    state = password_state(ctx.host.path("/etc/shadow"), spec.user)
    if state is None:
        return _result(spec, Status.SKIP, "cannot read /etc/shadow (not root)", "set")
    return _result(spec, _ok(state), "set" if state else "not set", "set")


def _sudoers(spec: s.SudoersGrant, ctx: CheckContext) -> CheckResult:
    where = find_sudoers_rule(
        ctx.host.path("/etc/sudoers"), ctx.host.path("/etc/sudoers.d"), spec.rule
    )
    if where is None:
        return _result(spec, Status.SKIP, "cannot read the sudoers files (not root)", spec.rule)
    shown = f"in {ctx.host.unmap(where)}" if isinstance(where, Path) else "not found"
    return _result(spec, _ok(bool(where)), shown, spec.rule)


def _path(spec: s.PathExists, ctx: CheckContext) -> CheckResult:
    p = ctx.host.path(spec.path)
    exists = p.exists() and (not spec.executable or (p.is_file() and _executable(p)))
    if spec.empty:
        empty = p.is_dir() and not any(p.iterdir())
        shown = "empty" if empty else "holds files" if exists else "absent"
        return _result(spec, _ok(empty), shown, "empty")
    ok = not exists if spec.absent else exists
    return _result(
        spec, _ok(ok), "present" if exists else "absent", "absent" if spec.absent else "present"
    )


def _executable(p: object) -> bool:
    import os

    return os.access(str(p), os.X_OK)


def _line(spec: s.FileHasLine, ctx: CheckContext) -> CheckResult:
    p = ctx.host.path(spec.path)
    lines = p.read_text(errors="replace").splitlines() if p.exists() else []
    exact = any(x.strip() == spec.line.strip() for x in lines)
    alike = bool(spec.alike) and any(re.search(spec.alike or "", x) for x in lines)
    shown = "present" if exact else "a similar line is present" if alike else "absent"
    return _result(spec, _ok(exact or alike), shown, spec.line)


def _file_is(spec: s.FileIs, ctx: CheckContext) -> CheckResult:
    p = ctx.host.path(spec.path)
    if not p.is_file():
        return _result(spec, Status.FAIL, "absent", "as written")
    same = p.read_text(errors="replace") == spec.content
    return _result(spec, _ok(same), "as written" if same else "changed since", "as written")


def _port(spec: s.PortOpen, ctx: CheckContext) -> CheckResult:
    port = int(spec.port)
    try:
        with socket.create_connection((spec.host, port), timeout=1.5):
            return _result(spec, Status.OK, "accepting", f"{spec.host}:{port} accepting")
    except OSError as exc:
        return _result(spec, Status.FAIL, exc.strerror or str(exc), f"{spec.host}:{port} accepting")


def _tf_serving(spec: s.TfServingAnswers, ctx: CheckContext) -> CheckResult:
    from checks.tf_serving import Verdict, ask, configured_models  # gRPC only when asked

    port = int(spec.port)
    config = ctx.host.path(spec.config_file) if spec.config_file else None
    models = (
        configured_models(config.read_text(errors="replace")) if config and config.exists() else []
    )
    answer = ask(spec.host, port, models, spec.timeout_s)
    expected = "TensorFlow Serving answers GetModelStatus"
    res = _result(spec, _ok(answer.verdict == Verdict.SERVING), answer.measured, expected)
    if answer.verdict == Verdict.NOT_SERVING:
        # Starting TF Serving would only fail to bind: the port has to be freed first.
        fix = (
            f"another program holds port {port}: stop it (`ss -ltnp 'sport = :{port}'` names "
            f"it) or set serving.port to a free port, then {spec.fix}"
        )
        return res.model_copy(update={"fix": fix})
    return res


def _packages(spec: s.PackagesInstalled, ctx: CheckContext) -> CheckResult:
    """rpm is asked what *provides* each name (EPEL 7's python2-pip provides python-pip:
    `rpm -q python-pip` says "not installed" where `rpm -q --whatprovides python-pip` names
    python2-pip, rpm(8) QUERY OPTIONS); dpkg is asked for the real package names the route
    tables give (dpkg -s knows no virtual packages, dpkg-query(1))."""
    if spec.manager == "rpm":
        argv = ["rpm", "-q", "--whatprovides", *spec.packages]
        gone = r"no package provides {}$|package {} is not installed"
    else:
        argv = ["dpkg", "-s", *spec.packages]
        gone = r"package '{}' is not installed|{}.*not installed"
    probe = ctx.probe(argv, "self")
    missing = [
        p
        for p in spec.packages
        if re.search(gone.format(re.escape(p), re.escape(p)), probe.output, re.M)
    ]
    if probe.exit_code == 0:
        return _result(spec, Status.OK, "all installed", ", ".join(spec.packages))
    shown = "missing: " + ", ".join(missing) if missing else probe.output.strip()[:80]
    return _result(spec, Status.FAIL, shown, ", ".join(spec.packages))


def _command(spec: s.CommandSucceeds, ctx: CheckContext) -> CheckResult:
    probe = ctx.probe(spec.argv, spec.run_as)
    ok = probe.exit_code == 0 and (spec.expect is None or spec.expect in probe.output)
    last = [x for x in probe.output.strip().splitlines() if x.strip()][-1:]
    shown = (last[0][:80] if last else "") or f"exit {probe.exit_code}"
    return _result(spec, _ok(ok), shown, spec.expect or "exit 0")


def _git_ref(spec: s.GitCheckoutAt, ctx: CheckContext) -> CheckResult:
    if not ctx.host.path(spec.path + "/.git").exists():
        return _result(spec, Status.OK, "no checkout yet", f"none, or at {spec.ref}")
    probe = ctx.probe(["git", "-C", spec.path, "describe", "--tags", "--exact-match"], "admin")
    at = probe.output.strip().splitlines()[-1] if probe.exit_code == 0 and probe.output else ""
    return _result(
        spec, _ok(at == spec.ref), f"at {at}" if at else "not at a tag", f"none, or at {spec.ref}"
    )


def _service_fresh(spec: s.ServiceFresh, ctx: CheckContext) -> CheckResult:
    """`systemctl show -p ActiveState -p ActiveEnterTimestamp UNIT` prints KEY=VALUE lines,
    the timestamp as "Sun 2026-11-29 13:44:23 UTC" in the system's time zone (systemctl(1),
    show; systemd.time(7))."""
    probe = ctx.probe(
        ["systemctl", "show", "-p", "ActiveState", "-p", "ActiveEnterTimestamp", spec.unit], "self"
    )
    props = dict(line.split("=", 1) for line in probe.output.splitlines() if "=" in line)
    if probe.exit_code != 0 or props.get("ActiveState") != "active":
        return _result(spec, Status.FAIL, props.get("ActiveState") or "unknown", "active")
    started = _systemd_time(props.get("ActiveEnterTimestamp", ""))
    paths = [ctx.host.path(f) for f in spec.files]
    changed = max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)
    if started is None:
        return _result(spec, Status.FAIL, "start time unknown", "started after its files changed")
    fresh = started >= int(changed)
    shown = "running since its files last changed" if fresh else "files changed since it started"
    return _result(spec, _ok(fresh), shown, "started after its files changed")


def _systemd_time(text: str) -> float | None:
    import calendar
    import time

    parts = text.split()
    if len(parts) < 3:
        return None
    try:
        stamp = time.strptime(f"{parts[1]} {parts[2]}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    utc = len(parts) > 3 and parts[3] == "UTC"
    return float(calendar.timegm(stamp)) if utc else time.mktime(stamp)


def _sql(spec: s.SqlCount, ctx: CheckContext) -> CheckResult:
    from checks.sql import evaluate_sql_count  # hdbcli is only loaded when HANA is asked

    return evaluate_sql_count(spec, ctx.sql)


_EVALUATORS: dict[str, Callable[..., CheckResult]] = {
    "distro_supported": _distro,
    "commands_present": _commands,
    "tool_version": _tool_version,
    "user_exists": _user,
    "password_set": _password,
    "sudoers_grant": _sudoers,
    "path_exists": _path,
    "file_has_line": _line,
    "file_is": _file_is,
    "port_open": _port,
    "tf_serving": _tf_serving,
    "packages_installed": _packages,
    "command_succeeds": _command,
    "git_checkout_at": _git_ref,
    "service_fresh": _service_fresh,
    "sql_count": _sql,
}
