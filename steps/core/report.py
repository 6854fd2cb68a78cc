"""The run report an admin attaches to a support ticket: md, json or html, from the state.

Nothing secret can be in it: passwords are never in the state, and captured output passes
through ``redact`` once more here in case a tool printed a credential."""

from __future__ import annotations

import html
import json
import platform
import re
import sys
from importlib import metadata
from typing import Any

from steps.core.output import redact
from steps.core.state import CommandRecord, RunState

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
    data = _redacted(json.loads(state.model_dump_json()))
    return {"environment": environment(), **data}


def _redacted(node: Any) -> Any:
    """Every text of the state passes through ``redact``: a credential a tool printed can be
    in a command's output, a reason, a check's measurement or a captured row."""
    if isinstance(node, str):
        return redact(node)
    if isinstance(node, list):
        return [_redacted(x) for x in node]
    if isinstance(node, dict):
        return {k: _redacted(v) for k, v in node.items()}
    return node


def render(state: RunState, fmt: str, models: Any = None) -> str:
    """``models``: the journal of `emlsetup model` commands (steps.models.journal)."""
    if fmt == "json":
        data = report_data(state)
        if models is not None and models.records:
            data["models"] = _redacted(json.loads(models.model_dump_json())["records"])
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
        *_settings(state.settings),
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
                    f"| {c.status.symbol} | {_cell(c.name)} | {_cell(c.measured)} | "
                    f"{_cell(c.expected)} | {_cell(c.fix)} |"
                    for c in checks
                ]
                out.append("")
        for action in step.actions:
            line = f"- **{action.title}**: {action.status.value}"
            out.append(line + (f" — {redact(action.reason)}" if action.reason else ""))
            for cmd in action.commands:
                out += _command(cmd)
            if action.captured:
                out += [f"  - {redact(' | '.join(row))}" for row in action.captured]
        out.append("")
    if models is not None:
        from steps.models.journal import markdown

        out += [redact(line) for line in markdown(models)]
    return "\n".join(out)


def _settings(settings: dict[str, Any]) -> list[str]:
    """The settings the run used (HANA host, port, tenant...), as the json report has them:
    an admin reading the ticket sees where the wizard connected. No password is a setting."""
    rows = _flatten(settings)
    if not rows:
        return []
    out = ["## Settings", "", "| setting | value |", "|---|---|"]
    out += [f"| {_cell(k)} | {_cell(v)} |" for k, v in rows]
    return [*out, ""]


def _flatten(node: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [kv for k, v in node.items() for kv in _flatten(v, f"{prefix}{k}.")]
    shown = json.dumps(node) if not isinstance(node, str) else node
    return [(prefix.rstrip("."), shown)]


def _command(cmd: CommandRecord) -> list[str]:
    """One command of an action: what ran (whole: a statement of step 7 is many lines), as
    whom, how it ended, and the end of its output when it failed."""
    took = f", {cmd.duration_s:.1f}s" if cmd.duration_s is not None else ""
    ended = (
        f"exit {cmd.exit_code}"
        if cmd.exit_code is not None
        else "no exit status (still running, or stopped before it ended)"
    )
    shown = redact(cmd.display)
    if "\n" in shown or "`" in shown:
        out = [f"  - as {cmd.user}: {ended}{took}", *_block(shown)]
    else:
        out = [f"  - `{shown}` as {cmd.user}: {ended}{took}"]
    if cmd.exit_code not in (0, None) and cmd.tail:
        out += _block("\n".join(redact(x) for x in cmd.tail))
    return out


def _block(text: str) -> list[str]:
    """A code block inside a list item; its fence is longer than any run of backticks in
    the text, so nothing in it can end it early (CommonMark, "Fenced code blocks")."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return ["", f"    {fence}", *(f"    {line}" for line in text.splitlines()), f"    {fence}", ""]


def _cell(text: str) -> str:
    return redact(text).replace("|", "\\|").replace("\n", " ")


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:72em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}"
    "pre{background:#f4f4f4;padding:.5em;overflow-x:auto}code{font-family:monospace}"
)


def _html(state: RunState, models: Any = None) -> str:
    """The markdown report as a real HTML page (headings, tables, code), rendered by
    markdown-it-py; raw HTML in captured output is shown as text, never interpreted."""
    from markdown_it import MarkdownIt

    body = (
        MarkdownIt("commonmark", {"html": False}).enable("table").render(_markdown(state, models))
    )
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>emlsetup run report {html.escape(state.run_id)}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n"
    )
