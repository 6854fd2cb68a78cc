"""The run report an admin attaches to a support ticket: md, json or html, from the state.

Nothing secret can be in it: passwords are never in the state, and captured output passes
through ``redact`` once more here in case a tool printed a credential."""

from __future__ import annotations

import html
import json
import platform
import sys
from importlib import metadata
from typing import Any

from steps.core.output import redact
from steps.core.state import RunState

FORMATS = ("md", "json", "html")


def environment() -> dict[str, str]:
    try:
        version = metadata.version("emlsetup")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "emlsetup": version,
        "python": sys.version.split()[0],
        "kernel": platform.release(),
        "machine": platform.machine(),
    }


def report_data(state: RunState) -> dict[str, Any]:
    data = json.loads(state.model_dump_json())
    for step in data["steps"]:
        for action in step["actions"]:
            for cmd in action["commands"]:
                cmd["tail"] = [redact(x) for x in cmd["tail"]]
    return {"environment": environment(), **data}


def render(state: RunState, fmt: str, models: Any = None) -> str:
    """``models``: the journal of `emlsetup model` commands (steps.models.journal)."""
    if fmt == "json":
        data = report_data(state)
        if models is not None and models.records:
            data["models"] = json.loads(models.model_dump_json())["records"]
        return json.dumps(data, indent=2, default=str) + "\n"
    md = _markdown(state, models)
    if fmt == "md":
        return md
    return _html(state, models)


def _markdown(state: RunState, models: Any = None) -> str:
    env = environment()
    out = [
        f"# emlsetup run report {state.run_id}",
        "",
        f"- System: {state.distro} (family {state.family})",
        f"- Started: {state.created:%Y-%m-%d %H:%M:%S} UTC, last change "
        f"{state.updated:%Y-%m-%d %H:%M:%S} UTC",
        f"- emlsetup {env['emlsetup']}, Python {env['python']}, kernel {env['kernel']}",
        "",
    ]
    for step in state.steps:
        out += [f"## Step {step.number}: {step.title} — {step.status.value}", ""]
        if step.reason:
            out += [f"> {redact(step.reason)}", ""]
        for title, checks in (("Prerequisites", step.checks), ("Results", step.results)):
            if checks:
                out += [
                    f"{title}:",
                    "",
                    "| status | check | measured | expected | fix |",
                    "|---|---|---|---|---|",
                ]
                out += [
                    f"| {c.status.symbol} | {c.name} | {_cell(c.measured)} | "
                    f"{_cell(c.expected)} | {_cell(c.fix)} |"
                    for c in checks
                ]
                out.append("")
        for action in step.actions:
            line = f"- **{action.title}**: {action.status.value}"
            out.append(line + (f" — {redact(action.reason)}" if action.reason else ""))
            for cmd in action.commands:
                took = f", {cmd.duration_s:.1f}s" if cmd.duration_s is not None else ""
                out.append(
                    f"  - `{cmd.display.splitlines()[0]}` as {cmd.user}: exit {cmd.exit_code}{took}"
                )
                if cmd.exit_code not in (0, None) and cmd.tail:
                    out += ["", "    ```", *[f"    {redact(x)}" for x in cmd.tail], "    ```", ""]
            if action.captured:
                out += [f"  - {' | '.join(row)}" for row in action.captured]
        out.append("")
    if models is not None:
        from steps.models.journal import markdown

        out += [redact(line) for line in markdown(models)]
    return "\n".join(out)


def _cell(text: str) -> str:
    return redact(text).replace("|", "\\|").replace("\n", " ")


def _html(state: RunState, models: Any = None) -> str:
    body = html.escape(_markdown(state, models))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>emlsetup run report {html.escape(state.run_id)}</title>"
        "<style>body{font-family:monospace;white-space:pre-wrap;margin:2em}</style>"
        f"</head><body>{body}</body></html>\n"
    )
