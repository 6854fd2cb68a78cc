"""What every wizard screen shares: typed access to the app (through tui.shell.Wizard, never
the app's class) and its driver, and the rule that text fields own the keyboard."""

from __future__ import annotations

from typing import cast

from textual.screen import Screen

from tui.driver import Driver
from tui.screens.modal import FieldsFirst
from tui.shell import Wizard


class WizardScreen(FieldsFirst, Screen[None]):
    @property
    def wizard(self) -> Wizard:
        return cast(Wizard, self.app)

    @property
    def driver(self) -> Driver:
        return self.wizard.driver
