"""Before a step's first root prompt: what the step needs that this system lacks, measured
(the same table `emlsetup run` prints), and the admin's choice to stop or to go on."""

from __future__ import annotations

from checks.preflight import Row, render
from tui.screens.confirm import ConfirmScreen

CHOICES = (("accept", "Go on anyway", "g"), ("no", "Stop", "n"))


class PreflightScreen(ConfirmScreen):
    """Answers "accept" (go on; these names are not asked about again in this session) or
    "no" (nothing of the step runs)."""

    def __init__(self, what: str, rows: list[Row]) -> None:
        """``what``: the subject of the question, "Step 2 needs" or "Steps 2-7 need"."""
        failed = [r for r in rows if r.failed]
        names = ", ".join(dict.fromkeys(r.name for r in failed))
        super().__init__(
            f"{what} what this system lacks ({names}). Go on anyway?",
            render(rows, flags=False).removeprefix(
                "Preflight: what this run needs, measured before anything changes\n"
            ),
            CHOICES,
        )
        self.rows = rows
