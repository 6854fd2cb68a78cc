"""The validation screen against the HANA test server, with passwords typed into the wizard."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env
from tests.tui_support import open_app, opened, settle, text_of, wait_for
from tui.screens.validation import ValidationScreen


async def _validate(sb: Sandbox, srv: HanaTestServer, monkeypatch: pytest.MonkeyPatch) -> str:
    env = hana_env(sb, srv)
    app = open_app(sb, monkeypatch, **{k: v for k, v in env.items() if "PASSWORD" not in k})
    async with opened(app) as pilot:
        app.push_screen(ValidationScreen())
        await settle(pilot)
        screen = app.screen
        inputs = list(screen.query(Input))
        assert len(inputs) == 2 and all(i.password for i in inputs)  # masked
        for box, secret in zip(inputs, (SYSTEM_PW, ML_PW), strict=True):
            box.focus()
            await pilot.press(*secret)
        # A screenshot of the typed-in form shows bullets, never the passwords.
        typed = app.export_screenshot()
        assert SYSTEM_PW not in typed and ML_PW not in typed and "•" in typed
        await pilot.press("enter")
        summary = screen.query_one("#summary", Static)
        await wait_for(
            pilot, lambda: "checks:" in text_of(summary) or "No results" in text_of(summary)
        )
        await settle(pilot)
        table = screen.query_one("#results")
        rows = "\n".join(
            " ".join(str(c) for c in table.get_row_at(i))  # type: ignore[attr-defined]
            for i in range(table.row_count)  # type: ignore[attr-defined]
        )
        shown = text_of(summary) + "\n" + rows + "\n" + text_of(screen.query_one("#models", Static))
        after = app.export_screenshot()
        assert SYSTEM_PW not in after and ML_PW not in after
        return shown


async def test_a_configured_system_shows_every_expected_result_green(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        done = sandbox.run_cli("run", "--yes", env=hana_env(sandbox, srv))
        assert done.returncode == 0, done.stdout[-2000:]
        shown = await _validate(sandbox, srv, monkeypatch)
    for expected in (
        "AFL_AREAS",
        "AFL_PACKAGES",
        "AFL_FUNCTIONS",
        "has role AFL__SYS_AFL_EML_EXECUTE",
        'remote source "TensorFlow" exists',
        "UPDATE_CONFIGURATION answered Status 0 OK",
        "TensorFlow Serving answers",
        "mnist",
    ):
        assert expected in shown, expected
    assert "✘" not in shown and "all expected results are there" in shown


async def test_missing_afl_is_a_red_row_with_its_fix(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW}, afl_installed=False)
    with HanaTestServer(cat) as srv:
        shown = await _validate(sandbox, srv, monkeypatch)
    assert "✘" in shown and "eml.tgz" in shown and "fix the ✘ rows" in shown
