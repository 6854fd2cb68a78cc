"""The folder tests/real_tf/write_savedmodels.py fills (models/, cli/, manifest.json): the
committed one, tests/fixtures/savedmodels, or one the real Debian lane writes in its root."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAVEDMODELS = Path(__file__).resolve().parents[1] / "fixtures" / "savedmodels"


@dataclass
class Written:
    base: Path
    root: Path | None = None  # the chroot it was written in, if any

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(json.loads((self.base / "manifest.json").read_text()))

    def folder(self, key: str) -> Path:
        """The SavedModel of ``key`` (NAME/VERSION): TF Serving's layout."""
        return self.base / "models" / key

    def answer(self, key: str, which: str = "smoke", signature: str = "") -> dict[str, Any]:
        """Real TensorFlow's answer to the ``smoke`` input (one row: 1 for every number, "a"
        for every string, what ``model test`` sends by default) or the ``sample`` rows:
        {"inputs": {alias: rows}, "outputs": {alias: rows}}, or "error" instead of
        "outputs": the first line of TensorFlow's INVALID_ARGUMENT for those inputs."""
        answers = self.manifest[key]["answers"]
        return dict(answers[signature or next(iter(answers))][which])


COMMITTED = Written(SAVEDMODELS)
