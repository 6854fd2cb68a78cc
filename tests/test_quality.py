"""The project's standing rules, enforced on every run: lint, types, layers, module size."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAX_LINES = 420  # "small enough to read in one sitting"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"), [("steps", {"tui"}), ("checks", {"tui", "steps"})]
)
def test_layers_import_only_downwards(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(p.relative_to(REPO)): sorted(_imports(p) & forbidden)
        for p in (REPO / package).rglob("*.py")
        if _imports(p) & forbidden
    }
    assert not offenders, offenders


def _modules_imported(path: Path) -> set[str]:
    """Every module a file imports, in full (``from tui import app`` counts as ``tui.app``),
    those imported only for type checking included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


# Those that start the app; every other module reaches it through tui.shell.Wizard or
# messages, so that screens, widgets and the palette never import the app that imports them.
APP_STARTERS = {"tui/app.py", "tui/entry.py", "tui/__main__.py"}


def test_only_the_app_and_its_starters_import_the_app() -> None:
    offenders = sorted(
        rel
        for p in (REPO / "tui").rglob("*.py")
        if (rel := str(p.relative_to(REPO))) not in APP_STARTERS
        and "tui.app" in _modules_imported(p)
    )
    assert not offenders, offenders


def test_tui_modules_import_each_other_without_a_cycle() -> None:
    """Imports for type checking and inside functions count too: a cycle through them is
    still two modules that cannot be read, or changed, one without the other."""
    files = {
        p: ".".join(p.relative_to(REPO).with_suffix("").parts) for p in (REPO / "tui").rglob("*.py")
    }
    names = {n.removesuffix(".__init__") for n in files.values()}
    graph = {
        name.removesuffix(".__init__"): {m for m in _modules_imported(p) if m in names} - {name}
        for p, name in files.items()
    }
    done: set[str] = set()

    def cycle_from(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return []
        for nxt in sorted(graph[module]):
            if found := cycle_from(nxt, [*path, module]):
                return found
        done.add(module)
        return []

    cycles = [c for m in sorted(graph) if (c := cycle_from(m, []))]
    assert not cycles, " -> ".join(cycles[0])


def test_modules_stay_small() -> None:
    big = {
        str(p.relative_to(REPO)): n
        for pkg in ("steps", "checks", "tui")
        for p in (REPO / pkg).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not big, big


def test_ruff_is_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "steps", "checks", "tui", "tests", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_mypy_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
