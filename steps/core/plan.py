"""Settings + distro + hardware -> the concrete steps to run: placeholders filled, and only the
actions of this distro family. Pure: nothing is run or read here but what is passed in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from checks.distro import DistroInfo
from steps import serving_build
from steps.core.model import Note, Step
from steps.core.settings import CPU_FLAGS as CPU_FLAG_ORDER
from steps.core.settings import Settings
from steps.routes import RouteError, route_of
from steps.routes import values as route_values
from steps.serving_build import TUTORIAL_BAZEL

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Below this, a full-speed TensorFlow build gets the server OOM-killed.
SMALL_VM_MB = 8192
M = TypeVar("M", bound=BaseModel)


class Hardware(BaseModel):
    cpu_flags: set[str] = set()
    cpus: int = 1
    mem_mb: int | None = None


class Plan(BaseModel):
    family: str
    route: str = ""  # the release's route (steps/routes.py)
    route_title: str = ""
    serving_route: str = ""  # build, container or apt
    serving_duration: str = ""
    serving_ref: str = ""  # the TF Serving tag a source build checks out
    bazel_version: str = ""  # the Bazel that tag pins
    distro: DistroInfo
    steps: list[Step]
    optimisation_note: str = ""

    def step(self, number: int) -> Step:
        return next(s for s in self.steps if s.number == number)


def optimisation_flags(settings: Settings, hw: Hardware) -> tuple[list[str], str]:
    """The tutorial's --copt flags the CPU really has; a flag it lacks is never passed."""
    wanted = settings.serving.optimisation
    if wanted == "off":
        return [], 'optimisation flags off (serving.optimisation = "off")'
    asked = list(CPU_FLAG_ORDER) if wanted == "auto" else list(wanted)
    have = [f for f in CPU_FLAG_ORDER if f in asked and f in hw.cpu_flags]
    lacking = [f for f in asked if f not in hw.cpu_flags]
    note = "CPU has " + (", ".join(have) or "none of the tutorial's flags")
    if lacking:
        note += "; left out (the CPU lacks them): " + ", ".join(lacking)
    return [f"--copt=-m{f}" for f in have] + ["--copt=-O3"], note


def resource_flags(hw: Hardware, bazel: str = TUTORIAL_BAZEL) -> list[str]:
    """On a small VM, cap Bazel's memory and jobs so the build does not take HANA down."""
    if hw.mem_mb is None or hw.mem_mb >= SMALL_VM_MB:
        return []
    ram = max(1024, int(hw.mem_mb * 0.6))
    jobs = max(1, min(hw.cpus, hw.mem_mb // 2048))
    return serving_build.resource_flags(bazel, ram, hw.cpus, jobs)


def placeholders(settings: Settings, info: DistroInfo, hw: Hardware) -> dict[str, Any]:
    copts, _ = optimisation_flags(settings, hw)
    s = settings.serving
    route, python = route_of(info)
    venv, export = settings.expand(s.venv), settings.expand(s.export_dir)
    values = route_values(
        route, python, venv, export, str(s.port), s.route, settings.expand(s.checkout),
        own_bazel=s.bazel is not None,
    )
    ref, bazel, last = _build_tag(settings, python, values)
    return {
        **values,
        "admin": settings.admin.user,
        "home": settings.admin.home_dir,
        "venv": settings.expand(s.venv),
        "checkout": settings.expand(s.checkout),
        "export": settings.expand(s.export_dir),
        "port": str(s.port),
        "serving_host": s.host,
        "ref": ref,
        "git_url": s.git_url,
        "bazel_version": bazel,
        # The admin's own Bazel (serving.bazel), else the one step 5 installs in ~/bin.
        "bazel": s.bazel or "bazel",
        "bazel_source": "own" if s.bazel else "installer",
        "checkout_last": last,
        "sid_adm": settings.hana.sid_adm,
        "hxe_bin": settings.hana.hxe_bin_dir,
        "ml_user": settings.hana.ml_user,
        "system_user": settings.hana.system_user,
        "tenant": settings.hana.tenant,
        "sles_release": info.sles_release,
        "sles_sp_repo": info.sles_sp_repo,
        "build_flags": copts + resource_flags(hw, bazel),
        "installer_fetch": _installer_fetch(settings, bazel),
        "bazel_output_base": bazel_output_base(settings),
    }


def bazel_output_base(settings: Settings) -> str:
    """Where Bazel keeps the build of the checkout: outputRoot ~/.cache/bazel, then
    _bazel_$USER, then the MD5 of the workspace's path (bazel.build, "Output Directory
    Layout")."""
    import hashlib

    checkout = settings.expand(settings.serving.checkout)
    digest = hashlib.md5(checkout.encode()).hexdigest()
    return f"{settings.admin.home_dir}/.cache/bazel/_bazel_{settings.admin.user}/{digest}"


def _build_tag(settings: Settings, python: str, values: dict[str, Any]) -> tuple[str, str, str]:
    """(TF Serving tag, Bazel version, the clone's last file): serving.ref and
    serving.bazel_version where the admin set them, else the table's (steps/serving_build.py)
    for the route's TensorFlow version. An unknown tag stops only a build that would use it."""
    s = settings.serving
    given = s.model_fields_set
    ref = s.ref if "ref" in given else None
    bazel = s.bazel_version if "bazel_version" in given else None
    try:
        return serving_build.resolve(ref, bazel, python, values["tf_version"])
    except serving_build.UnknownTag as exc:
        if values["serving_route"] == "build":
            raise RouteError(str(exc)) from None
        return s.ref, bazel or TUTORIAL_BAZEL, "WORKSPACE"


def _installer_fetch(settings: Settings, version: str) -> list[str]:
    """The tutorial downloads the installer; an offline server copies one already on disk."""
    target = f"{settings.admin.home_dir}/bazel-{version}-installer-linux-x86_64.sh"
    if settings.serving.bazel_installer:
        return ["cp", settings.serving.bazel_installer, target]
    url = f"https://github.com/bazelbuild/bazel/releases/download/{version}/"
    return ["curl", "-fL", "-o", target, f"{url}bazel-{version}-installer-linux-x86_64.sh"]


def render(model: M, values: dict[str, Any]) -> M:
    return type(model).model_validate(_fill(model.model_dump(), values))


def _fill(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1)), m.group(0)), node)
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            whole = _PLACEHOLDER.fullmatch(item) if isinstance(item, str) else None
            if whole and isinstance(values.get(whole.group(1)), list):
                out.extend(values[whole.group(1)])  # a list placeholder splices into argv
            else:
                out.append(_fill(item, values))
        return out
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    return node


def _text(value: Any, original: str) -> str:
    if value is None:
        return original  # not ours: filled later (e.g. {file} for a validation command)
    return " ".join(value) if isinstance(value, list) else str(value)


def notes_for(
    corrections: list[str | Note],
    info: DistroInfo,
    route: str = "",
    serving: str = "",
    bazel: str = "",
) -> list[str | Note]:
    """The corrections that hold on this system, as text: a RHEL plan never speaks of SUSE,
    a plan that pulls the container image never of the Bazel build."""
    family = info.family or ""
    return [
        str(n)
        for n in corrections
        if isinstance(n, str) or n.applies(family, info.id, route, serving, bazel)
    ]


def build_plan(
    settings: Settings, info: DistroInfo, hw: Hardware, tutorial: Sequence[Step]
) -> Plan:
    """The tutorial's steps (steps/tutorial.py, handed in: the engine knows no step) as they
    hold on this system with these settings."""
    if info.family is None:
        raise ValueError(info.reason)
    values = placeholders(settings, info, hw)
    route, serving, bazel = values["route"], values["serving_route"], values["bazel_source"]

    def here(x: Any) -> bool:
        return (
            (x.families is None or info.family in x.families)
            and (x.routes is None or route in x.routes)
            and (x.serving is None or serving in x.serving)
            and (x.bazel is None or x.bazel == bazel)
        )

    steps = []
    for step in tutorial:
        rendered = render(step, values)
        actions = [
            a
            for a in rendered.actions
            if here(a) and (a.distro_ids is None or info.id in a.distro_ids)
        ]
        undo = [u for u in rendered.undo if here(u) and u.distro_ids in (None, [info.id])]
        checks = [c for c in rendered.checks if here(c)]
        results = [c for c in rendered.results if here(c)]
        notes = notes_for(rendered.corrections, info, route, serving, bazel)
        steps.append(
            rendered.model_copy(
                update={
                    "actions": actions,
                    "checks": checks,
                    "results": results,
                    "corrections": notes,
                    "undo": undo,
                }
            )
        )
    return Plan(
        family=info.family,
        route=route,
        route_title=values["route_title"],
        serving_route=serving,
        serving_duration=values["serving_duration"],
        serving_ref=values["ref"],
        bazel_version=values["bazel_version"],
        distro=info,
        steps=steps,
        optimisation_note=optimisation_flags(settings, hw)[1],
    )
