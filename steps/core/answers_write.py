"""The answers file of a run: every setting, each with a comment saying what it means and
its default, and what the run detected (release, route, tag), so that the next server (or
a fleet, `emlsetup export ansible`) gets the same choices.

Values the admin gave (answers file, environment, --set; those of the recorded run too)
and plain defaults are written as settings; what emlsetup works out per release (the TF
Serving tag and its Bazel) is written as a commented line with the detected value, so the
same file on another release follows that release unless a tag is pinned. No password is
ever written: settings have none, and a URL's credentials are cut out.
"""

from __future__ import annotations

import time
from typing import Any

from checks.distro import DistroInfo
from steps.core.answers_check import toml_value
from steps.core.buildenv import strip_url_credentials
from steps.core.plan import Hardware, Plan, placeholders
from steps.core.settings import Settings
from steps.routes import SERVING_ALLOWED

MEANING = {
    "hana.address": "Host name or address of the SAP HANA server (its SQL port).",
    "hana.sql_port": "SQL port of the tenant: 3<instance>15 (39015 for instance 90).",
    "hana.tenant": "The tenant database EML runs in.",
    "hana.system_user": "The administrator that grants ML_USER its role (needs ROLE ADMIN).",
    "hana.ml_user": "The user that owns the remote source, EML_DATA and the models.",
    "hana.system_key": "An hdbuserstore key for system_user, instead of a password.",
    "hana.ml_user_key": "An hdbuserstore key for ml_user, instead of a password.",
    "hana.encrypt": "Connect to HANA with TLS.",
    "hana.validate_certificate": "With encrypt: check HANA's certificate.",
    "hana.connect_timeout_s": "Seconds to wait for HANA to answer a connection.",
    "hana.command_timeout_s": "Seconds a HANA statement may take.",
    "hana.sid_adm": "HANA's <sid>adm user, which runs hxe_gc.sh (step 1).",
    "hana.hxe_bin_dir": "Where HXE's scripts are (hxe_gc.sh).",
    "hana.eml_deadline_ms": "How long EML's PREDICT waits for TF Serving (ms; model add, test).",
    "admin.user": "The TensorFlow Serving administrator that step 2 creates.",
    "admin.home": "Its home folder; ~ in the paths below is this folder.",
    "serving.venv": "The Python virtual environment of step 4.",
    "serving.checkout": "Where TF Serving's source is cloned (build route).",
    "serving.git_url": "The repository cloned (a mirror, offline); never with a credential.",
    "serving.ref": "The TF Serving tag built; unset: the tag of this release's TensorFlow.",
    "serving.bazel_version": "The Bazel that builds it; unset: the one the tag pins.",
    "serving.bazel_installer": "A Bazel installer already on disk (offline servers).",
    "serving.bazel": "A Bazel already on this server (full path): no installer runs; its "
    "version is checked against the tag's pin in the preflight.",
    "serving.export_dir": "The models' folder with config.cnf (steps 6 and model add).",
    "serving.host": "Where HANA reaches TF Serving (the remote source's server).",
    "serving.port": "TF Serving's gRPC port.",
    "serving.optimisation": 'CPU flags for the build: "auto" (what the CPU has), "off", or a list.',
    "serving.run_tests": "Also run TF Serving's own tests after the build (hours).",
    "serving.route": 'How TF Serving gets there: "auto" (the release\'s), "build", "container", '
    '"apt".',
    "preflight.checkout_gb": "Free disk the checkout needs (GB).",
    "preflight.bazel_output_gb": "Free disk Bazel's output base needs (GB).",
    "preflight.venv_gb": "Free disk the virtual environment needs (GB).",
    "preflight.packages_gb": "Free disk the packages of step 3 need (GB).",
    "preflight.build_memory_gb": "RAM and swap the build needs (GB).",
    "preflight.timeout_s": "Seconds to wait for each download host in the preflight.",
    "preflight.hosts": 'Another address to probe for a download host ("*": every host).',
}
# Written commented out when not given: emlsetup works them out for each release.
DETECTED = {"serving.ref": "ref", "serving.bazel_version": "bazel_version"}
EXAMPLES = {
    "hana.system_key": "HXESYSTEM",
    "hana.ml_user_key": "HXEMLUSER",
    "serving.bazel_installer": "/root/bazel-0.11.1-installer-linux-x86_64.sh",
}
PASSWORDS = [
    "# No password is ever written here, nor read from here. Give them as",
    "#   EMLSETUP_SYSTEM_PASSWORD / EMLSETUP_ML_USER_PASSWORD in the environment, on standard",
    "#   input (--passwords-from-stdin), typed when asked, or as hdbuserstore keys",
    "#   (hana.system_key, hana.ml_user_key).",
]


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            merged(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def given(settings: Settings) -> set[str]:
    """SECTION.FIELD of every setting that was given, not defaulted."""
    return {
        f"{section}.{name}"
        for section in settings.model_fields_set
        for name in getattr(settings, section).model_fields_set
    }


def meaning(key: str, settings: Settings) -> str:
    section, name = key.split(".", 1)
    info = type(getattr(settings, section)).model_fields[name]
    return MEANING.get(key) or info.description or f"See README, Settings ({key})."


def _default(key: str, settings: Settings) -> Any:
    section, name = key.split(".", 1)
    return type(getattr(settings, section)).model_fields[name].default


def _lines(key: str, settings: Settings, told: set[str], detected: dict[str, Any]) -> list[str]:
    section, name = key.split(".", 1)
    value = getattr(getattr(settings, section), name)
    default = _default(key, settings)
    shown_default = "none" if default is None else toml_value(default)
    if key in DETECTED:
        shown_default = "worked out per release"
    out = [f"# {meaning(key, settings)} Default: {shown_default}."]
    if key == "serving.route":
        can = ", ".join(k for k, routes in SERVING_ALLOWED.items() if detected["route"] in routes)
        out.append(f"# Detected here: {detected['serving_route']} (this release can take: {can})")
    if isinstance(value, str) and value.startswith("~/"):
        out.append(f"# On this server: {settings.expand(value)}")
    if isinstance(value, str):
        value = strip_url_credentials(value)
    if isinstance(value, dict):
        value = {k: strip_url_credentials(str(v)) for k, v in value.items()}
    if key in DETECTED and key not in told:
        out.append(f"# {name} = {toml_value(detected[DETECTED[key]])}   (detected here)")
    elif value is None:
        example = settings.admin.home_dir if key == "admin.home" else EXAMPLES.get(key, "")
        out.append(f"# {name} = {toml_value(example)}")
    else:
        out.append(f"{name} = {toml_value(value)}")
    return out


def answers_text(
    settings: Settings, info: DistroInfo, hw: Hardware, plan: Plan, source: str = ""
) -> str:
    told = given(settings)
    detected = placeholders(settings, info, hw)
    head = [
        f"# emlsetup answers file, written {time.strftime('%Y-%m-%d %H:%M')} by "
        "`emlsetup answers write`" + (f" from {source}" if source else "") + ".",
        f"# Detected here: {info.name} (route {plan.route}: {plan.route_title});",
        f"#   TF Serving {plan.serving_route} ({plan.serving_duration})"
        + (
            f", tag {detected['ref']} built with Bazel {detected['bazel_version']}"
            if plan.serving_route == "build"
            else ""
        )
        + f"; admin home {settings.admin.home_dir}.",
        "# On the next server: emlsetup answers validate FILE, then",
        "#   emlsetup --config FILE plan / run --yes, or emlsetup --config FILE export ansible.",
        *PASSWORDS,
    ]
    out = head
    for section in Settings.model_fields:
        doc = (type(getattr(settings, section)).__doc__ or "").strip().splitlines()[0]
        out += ["", f"# {doc}", f"[{section}]"]
        for name in type(getattr(settings, section)).model_fields:
            out += _lines(f"{section}.{name}", settings, told, detected)
    return "\n".join(out) + "\n"
