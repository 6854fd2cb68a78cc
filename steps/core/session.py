"""Settings -> host -> distro -> plan -> runner and state: everything a command needs, built
once, the same way for the headless CLI and the TUI."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from checks.distro import DistroInfo, detect
from checks.hardware import cpu_count, cpu_flags, mem_total_mb
from checks.host import DEFAULT_PATH, Host
from steps.core.engine import Engine, SqlBackend, new_state
from steps.core.plan import Hardware, Plan, build_plan
from steps.core.runner import Identity, Runner
from steps.core.settings import Settings, load_settings
from steps.core.state import ActionState, ActionStatus, RunState, StateStore, StepState
from steps.routes import RouteError
from steps.tutorial import STEPS  # the one place the engine meets the tutorial's steps

KEEP_RUN_LOGS = 10


def prune_logs(folder: Path, keep: int = KEEP_RUN_LOGS, keep_also: str = "") -> list[Path]:
    """Log folders of old runs go, newest kept: weeks of re-runs never fill the disk. The
    current run's folder always stays (a detached build may be writing into it)."""
    if not folder.is_dir():
        return []
    runs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    removed = [p for p in runs[:-keep] if p.name != keep_also] if len(runs) > keep else []
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


PASSWORD_VARS = ("EMLSETUP_SYSTEM_PASSWORD", "EMLSETUP_ML_USER_PASSWORD")


class SessionError(Exception):
    """One sentence for the admin; exit 2."""


@dataclass
class Options:
    config: Path | None = None
    root: Path = Path("/")
    state_dir: Path | None = None
    distro: str | None = None
    overrides: list[str] = field(default_factory=list)
    chroot: bool = False  # --chroot: run commands inside --root (a real system's root)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    config_text: str | None = None  # the answers file, read from standard input

    @classmethod
    def from_args(cls, args: argparse.Namespace, **more: Any) -> Options:
        """The global options (steps/cli/main.py's parser), the same for a command and the
        wizard so that neither forgets one (the wizard once ignored --chroot)."""
        return cls(
            config=args.config,
            root=args.root,
            state_dir=args.state_dir,
            distro=args.distro,
            overrides=args.overrides,
            chroot=getattr(args, "chroot", False),
            **more,
        )


@dataclass
class Session:
    options: Options
    settings: Settings
    host: Host
    distro: DistroInfo
    hardware: Hardware
    store: StateStore

    @classmethod
    def open(cls, options: Options) -> Session:
        settings = load_settings(
            options.config, options.environ, options.overrides, options.config_text
        )
        if not options.root.is_dir():
            raise SessionError(f"--root {options.root}: not a folder; give the system's root")
        search_path = options.environ.get("PATH") or Host().search_path
        if options.chroot:
            if options.root.resolve() == Path("/"):
                raise SessionError("--chroot needs --root: the folder of the system to enter")
            search_path = DEFAULT_PATH  # the system's own PATH, inside it
        host = Host(root=options.root.resolve(), search_path=search_path, chroot=options.chroot)
        try:
            info = detect(host.root, options.distro)
        except ValueError as exc:
            raise SessionError(str(exc)) from None
        hw = Hardware(
            cpu_flags=cpu_flags(host.root),
            cpus=cpu_count(host.root),
            mem_mb=mem_total_mb(host.root),
        )
        state_dir = options.state_dir or Path(platformdirs.user_state_dir("emlsetup"))
        return cls(options, settings, host, info, hw, StateStore(state_dir))

    def plan(self) -> Plan:
        if not self.distro.supported:
            raise SessionError(self.distro.reason)
        try:
            plan = build_plan(self.settings, self.distro, self.hardware, STEPS)
        except RouteError as exc:
            raise SessionError(str(exc)) from None
        if plan.serving_route == "build" and self.settings.serving.bazel is not None:
            self._check_own_bazel(self.settings.serving.bazel, plan.bazel_version)
        return plan

    def _check_own_bazel(self, target: str, pinned: str) -> None:
        """serving.bazel names a program on this system, or the run stops before it starts
        (exit 2) rather than at the build."""
        local = self.host.path(target)
        what = f"serving.bazel = {target!r}"
        instead = f"or remove the setting and step 5 installs Bazel {pinned}"
        if not local.is_file():
            gone = "is a folder" if local.is_dir() else "no such file on this system"
            raise SessionError(
                f"{what}: {gone}; give the path of your Bazel (command -v bazel), {instead}"
            )
        if not os.access(local, os.X_OK):
            raise SessionError(
                f"{what}: not executable; give the Bazel program itself (or chmod +x it), "
                f"{instead}"
            )

    def runner(self, run_id: str) -> Runner:
        prune_logs(self.store.folder / "logs", keep_also=run_id)
        identity = Identity(admin=self.settings.admin.user, sid_adm=self.settings.hana.sid_adm)
        return Runner(self.host, identity, self.store.folder / "logs" / run_id)

    def sql_backend(self, passwords: Mapping[str, str] | None = None) -> SqlBackend | None:
        """HANA access when any credential is known; None means HANA checks are skipped."""
        given = {**self.options.environ, **(passwords or {})}
        hana = self.settings.hana
        if not any([hana.system_key, hana.ml_user_key, *(given.get(k) for k in PASSWORD_VARS)]):
            return None
        from steps.hana.client import HanaAccess, HanaSecrets  # hdbcli only when needed

        backend: SqlBackend = HanaAccess(hana, HanaSecrets.from_env(given))
        return backend

    def load_or_new_state(self, plan: Plan) -> RunState:
        """The one run state of this folder; a new plan's actions are merged into it."""
        state = self.store.load()
        given = self.settings.model_dump(mode="json", exclude_unset=True)
        if state is None:
            state = new_state(plan, self.settings)
            state.told = given
            return state
        from steps.core.answers_write import merged

        state.told = merged(state.told, given)
        if state.family != plan.family:
            raise SessionError(
                f"the run in {self.store.folder} was for the {state.family} family, this one is "
                f"{plan.family}; use another --state-dir or the same --distro"
            )
        for step in plan.steps:
            if not any(s.number == step.number for s in state.steps):
                state.steps.append(StepState(number=step.number, title=step.title))
            state.steps.sort(key=lambda s: s.number)
            st = state.step(step.number)
            known = {a.id for a in st.actions}
            st.actions += [
                ActionState(id=a.id, title=a.title) for a in step.actions if a.id not in known
            ]
            # An action this plan no longer has (Bazel's installer once serving.bazel is set)
            # is no point to resume at; one that ran stays, for the report.
            planned = {a.id for a in step.actions}
            st.actions = [
                a
                for a in st.actions
                if a.id in planned or a.status != ActionStatus.PENDING or a.commands
            ]
        return state

    def engine(self, plan: Plan, state: RunState, **kwargs: Any) -> Engine:
        return Engine(plan, self.settings, self.runner(state.run_id), self.store, state, **kwargs)
