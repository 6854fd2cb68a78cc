"""What the screens, widgets and the palette may ask of the app that hosts them. A Protocol,
so that they need not import the app (tui/app.py imports them to push them); tui/app.py
checks statically that WizardApp is one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tui.bridge import EventPump
from tui.driver import Driver, Outcome


class Wizard(Protocol):
    driver: Driver
    live: EventPump | None  # the run under way, or the last one
    clock: Callable[[], float]
    reattach: str  # the shell command that re-attaches to a run left going
    demo_notice: str  # "" unless in tests.demo
    report_folder: Path  # where reports go by default
    logs_folder: Path  # the runs' command logs, a folder per run
    running_all: bool  # "Run all" is under way (busy between its steps too)
    leave_running: bool  # the admin quit leaving the build running: the app is closing

    @property
    def busy(self) -> bool: ...

    # -- navigation: each opens the screen only; none runs anything -------------------------
    def open_welcome(self) -> None: ...

    def open_step(self, number: int) -> None: ...

    def open_build(self, *, run: bool = False) -> None: ...

    def open_validation(self) -> None: ...

    def open_finish(self) -> None: ...

    def ask_passwords(self, then: Callable[[], None]) -> None: ...

    def action_export(self) -> None: ...

    def action_help(self) -> None: ...

    # -- running --------------------------------------------------------------------------
    def start_run(self, number: int) -> EventPump | None: ...

    def action_run_all(self) -> None: ...

    def new_pump(self, number: int) -> EventPump: ...

    def run_done(self, live: EventPump, outcome: Outcome) -> None: ...
