"""Terminals the wizard meets over SSH and on a VM console: no colour, 16 colours. Every
status must read from its symbol and word alone."""

from __future__ import annotations

import html
import re

import pytest

from tests.sandbox import Sandbox
from tests.tui_support import open_app, settle


def _screen_text(svg: str) -> str:
    """The characters of an exported screen, line by line, without any styling."""
    rows = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return html.unescape("".join(rows)).replace("\xa0", " ")


@pytest.mark.parametrize(
    "env", [{"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "linux"}], ids=["no-color", "linux"]
)
async def test_every_step_status_reads_without_colour(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    assert sandbox.run_cli("run", "--yes", "--only-step", "2").returncode == 0
    failed = sandbox.run_cli(
        "run", "--yes", "--only-step", "3", env=sandbox.env(FAKE_FAIL="zypper:install")
    )
    assert failed.returncode == 1
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = open_app(sandbox, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if env.get("TERM") == "linux":
            assert app.console.color_system == "standard"  # 16 colours on a VM console
        text = _screen_text(app.export_screenshot())
    statuses = dict(re.findall(r"\b([1-7])\s+([○✔✘▶–⏸] \w+)", text))
    assert statuses.get("2") == "✔ done", text
    assert statuses.get("3") == "✘ failed", text
    assert all(statuses.get(str(n)) == "○ pending" for n in (1, 4, 5, 6, 7)), statuses
