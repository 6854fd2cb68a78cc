"""Every screen, pictured at 80x24 (a default SSH window) and 120x40. The scenes are the ones
`python -m tests.screenshots` draws for the README, replayed on the test sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.sandbox import Sandbox
from tests.screenshots import SCENES, Scene, scene_app
from tests.tui_support import SIZES


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", SCENES, ids=lambda s: s.name)
def test_screen(
    snap_compare: Callable[..., bool],
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    scene: Scene,
    size: tuple[int, int],
) -> None:
    app = scene_app(sandbox, scene, monkeypatch.setenv)
    assert snap_compare(app, terminal_size=size, run_before=scene.run_before)
