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

    def running_steps(self) -> set[int]:
        """Steps whose work runs although the state file does not say so: a build an
        earlier wizard left running is "pending" there until a resume re-attaches to it
        (read from the system: its process is there)."""
        return {5} if self.driver.running_build() is not None else set()
