"""What every wizard screen shares: typed access to the app and its driver."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from tui.driver import Driver

if TYPE_CHECKING:
    from tui.app import WizardApp


class WizardScreen(Screen[None]):
    @property
    def wizard(self) -> WizardApp:
        return cast("WizardApp", self.app)

    @property
    def driver(self) -> Driver:
        return self.wizard.driver
