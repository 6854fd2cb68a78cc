"""The command palette (Ctrl+P): every step, running all that remain, the build, the
validation and the report."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.shell import Wizard


class WizardCommands(Provider):
    def entries(self) -> list[tuple[str, Callable[[], object], str]]:
        app = cast(Wizard, self.app)
        found: list[tuple[str, Callable[[], object], str]] = [
            ("Welcome: the steps and their state", app.open_welcome, "the first screen"),
        ]
        if app.driver.plan is not None:
            for step in app.driver.plan.steps:
                found.append(
                    (f"Step {step.number}: {step.title}", partial(app.open_step, step.number), "")
                )
            found.append(
                ("Run all remaining steps", app.action_run_all, "asks once, then runs them")
            )
            found.append(("Build log (step 5)", app.open_build, "the live Bazel build"))
            found.append(("Validation in HANA", app.open_validation, "the expected results"))
        found.append(("Export the report", app.action_export, "md, json or html"))
        found.append(("Help: keys", app.action_help, ""))
        return found

    async def discover(self) -> Hits:
        for name, run, help_text in self.entries():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self.entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
