"""The exact commands a step runs on this distro, as whom, and what a run would do."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from steps.core.engine import describe
from steps.core.model import Action, Manual, Sql
from steps.core.state import ActionStatus, StepState
from tui.status import action_label

_VERDICTS = {s.value: s for s in ActionStatus}


def verdict_status(verdict: str) -> ActionStatus | None:
    """engine.preview's words back to a status; "would run" is None."""
    return _VERDICTS.get(verdict)


class ActionList(Static):
    """One block per action: status, [user] title, then the command or file, verbatim."""

    def show(
        self,
        actions: list[Action],
        who: dict[str, str],
        st: StepState | None,
        verdicts: dict[str, str] | None = None,
    ) -> None:
        text = Text()
        for i, action in enumerate(actions):
            status: ActionStatus | None = ActionStatus.PENDING
            if st is not None:
                status = st.action(action.id).status
            if verdicts and action.id in verdicts and status in (ActionStatus.PENDING, None):
                status = verdict_status(verdicts[action.id])
            if i:
                text.append("\n")
            text.append_text(action_label(status))
            text.append(f"  [{who.get(action.id, '?')}] ", style="bold")
            text.append(action.title + "\n")
            prompt = "" if isinstance(action, (Manual, Sql)) else "$ "
            for line in describe(action).splitlines():
                text.append(f"    {prompt}{line}\n", style="italic" if not prompt else "")
                prompt = "  " if prompt else ""
        self.update(text)
