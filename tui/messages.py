"""Messages the app sends its screens."""

from __future__ import annotations

from textual.message import Message

from tui.driver import Outcome


class RunDone(Message):
    """A step's run ended (done, failed, interrupted or refused); re-read the state."""

    def __init__(self, number: int, outcome: Outcome) -> None:
        super().__init__()
        self.number, self.outcome = number, outcome
