"""Every screen, pictured at 80x24 (a default SSH window) and 120x40. The scenes are the ones
`python -m tui.screenshots` draws for the README, replayed on the test sandbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from steps.session import Options, Session
from tests.sandbox import Sandbox
from tests.tui_support import SIZES
from tui.app import WizardApp
from tui.screenshots import FIXED, NOW, SCENES, Scene


def scene_app(sb: Sandbox, monkeypatch: pytest.MonkeyPatch, scene: Scene) -> WizardApp:
    env = sb.env(**FIXED)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def factory() -> WizardApp:
        session = Session.open(Options(root=sb.root, state_dir=sb.state_dir, environ=env))
        app = WizardApp(session, clock=lambda: NOW)
        app.reattach = "emlsetup --root /srv/hxe --state-dir /srv/state resume"
        app.report_folder = Path("/srv/state")
        return app

    if scene.prepare is not None:
        scene.prepare(sb.fakebin, factory)
    return factory()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", SCENES, ids=lambda s: s.name)
def test_screen(
    snap_compare: Callable[..., bool],
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    scene: Scene,
    size: tuple[int, int],
) -> None:
    app = scene_app(sandbox, monkeypatch, scene)
    assert snap_compare(app, terminal_size=size, run_before=scene.run_before)
