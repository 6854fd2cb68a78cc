"""`emlsetup export ansible`: a self-contained Ansible project that runs emlsetup headless
on many hosts from one answers file.

The playbook and its templates are package data (``steps/ansible``), copied as they are;
only the settings (``group_vars/all/settings.yml``) and the README's header are made here.
No step is rewritten as Ansible tasks, and no password can be in what is written: settings
have no password field, and the playbook takes passwords from Vault or a prompt.
"""

from __future__ import annotations

import argparse
import json
from importlib import metadata, resources
from pathlib import Path
from typing import Any, TextIO

from steps.core.session import SessionError
from steps.core.settings import SettingsError, load_settings

# (package data file, where it goes in the exported project, what it is for the README)
FILES = (
    ("playbook.yml", "playbook.yml", "the play: install, check, run, poll, summary"),
    ("inventory.example.ini", "inventory.example.ini", "an inventory to copy and fill in"),
    ("defaults.yml", "group_vars/all/main.yml", "the playbook's variables and their defaults"),
    ("answers.toml.j2", "templates/answers.toml.j2", "the answers file rendered on each host"),
    ("summary.txt.j2", "templates/summary.txt.j2", "the summary table across hosts"),
    ("summary.json.j2", "templates/summary.json.j2", "the same summary as JSON"),
)
SETTINGS = "group_vars/all/settings.yml"
WHEELHOUSE = "wheelhouse/"


class ExportError(Exception):
    """One line for the admin; exit 2."""


def settings_yaml(settings: dict[str, Any], source: str) -> str:
    """The answers file as group_vars. JSON scalars and lists are valid YAML flow values,
    so no YAML library is needed on the machine that exports."""
    out = [
        "---",
        f"# From {source} by `emlsetup export ansible`; rendered on each host as the",
        "# answers file. Per host or group, change it with emlsetup_settings_overrides.",
    ]
    if not settings:
        return "\n".join([*out, "emlsetup_settings: {}", ""])
    out.append("emlsetup_settings:")
    for section, fields in sorted(settings.items()):
        out.append(f"  {section}:")
        for key, value in sorted(fields.items()):
            out.append(f"    {key}: {json.dumps(value)}")
    return "\n".join(out) + "\n"


def files_table(source: str) -> str:
    """The README's list of what the export writes, made from the same table that writes
    it, so the two cannot disagree."""
    rows = [(target, what) for _, target, what in FILES]
    rows += [
        (SETTINGS, f"`emlsetup_settings`: the answers file as variables (from {source})"),
        ("README.md", "this file"),
        (WHEELHOUSE, "empty: put the offline wheelhouse here (see Requirements)"),
    ]
    lines = ["| file | what it is |", "|---|---|"]
    lines += [f"| `{target}` | {what} |" for target, what in sorted(rows)]
    return "\n".join(lines)


def version_yaml() -> str:
    try:
        version = metadata.version("emlsetup")
    except metadata.PackageNotFoundError:
        return ""
    return (
        "# The emlsetup that exported this project; its wheelhouse must hold this version.\n"
        f"emlsetup_version: {json.dumps(version)}\n"
    )


def export_ansible(
    config: Path | None, folder: Path, overrides: list[str] | None = None
) -> list[Path]:
    """Writes the project into ``folder``; returns the files written."""
    try:
        settings = load_settings(config, {}, overrides or [])
    except SettingsError as exc:
        raise ExportError(str(exc)) from None
    data = settings.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    source = str(config) if config else "the default settings (no --config)"
    texts = {
        target: resources.files("steps.ansible").joinpath(name).read_text()
        for name, target, _ in FILES
    }
    texts[SETTINGS] = settings_yaml(data, source) + version_yaml()
    readme = resources.files("steps.ansible").joinpath("README.md").read_text()
    readme = readme.replace("@@ANSWERS@@", f"`{source}`")
    texts["README.md"] = readme.replace("@@FILES@@", files_table(source))
    written = []
    try:
        for target, text in texts.items():
            path = folder / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
        (folder / WHEELHOUSE).mkdir(exist_ok=True)
    except OSError as exc:
        raise ExportError(f"-o {folder}: cannot write {exc.filename} ({exc.strerror})") from None
    return written


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    """`emlsetup export ansible [-o DIR]`: needs no session, so any controller can export."""
    try:
        written = export_ansible(args.config, args.output, args.overrides)
    except ExportError as exc:
        raise SessionError(str(exc)) from None
    out.write(
        f"Ansible project written to {args.output} ({len(written)} files); "
        f"see {args.output / 'README.md'}\n"
    )
    return 0
