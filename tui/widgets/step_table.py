"""The seven steps and their state, one row each; Enter opens a step."""

from __future__ import annotations

from textual.widgets import DataTable

from steps.core.state import RunState
from tui.status import step_label


class StepTable(DataTable[object]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.add_column("Step", key="step")
        self.add_column("Status", key="status", width=16)
        self.add_column("Title", key="title")

    def show(self, state: RunState, running: set[int] | frozenset[int] = frozenset()) -> None:
        """``running``: steps whose work runs now although the state does not say so."""
        row = self.cursor_row
        self.clear()
        for st in state.steps:
            label = step_label(st, st.number in running)
            self.add_row(str(st.number), label, st.title, key=str(st.number))
        if self.row_count:
            self.move_cursor(row=min(max(row, 0), self.row_count - 1))
