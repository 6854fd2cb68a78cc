"""Shared fixtures: a sandboxed target system per test (see tests/sandbox.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox import Sandbox


@pytest.fixture
def make_sandbox(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    made: list[Sandbox] = []

    def make(distro: str = "sles12sp2", name: str = "", **kwargs: Any) -> Sandbox:
        sb = Sandbox.create(tmp_path / (name or f"sb{len(made)}"), distro, **kwargs)
        made.append(sb)
        return sb

    yield make
    for sb in made:
        sb.cleanup()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox()
