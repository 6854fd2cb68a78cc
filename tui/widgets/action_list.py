"""The exact commands a step runs on this distro, as whom, and what a run would do."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from steps.core.engine import describe
from steps.core.model import Action, Command, EnsureDir, Manual, Sql, StartDaemon
from steps.core.state import ActionStatus, StepState
from tui.status import action_label
from tui.widgets.wrapping import Wrapped

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
        blocks: list[Wrapped] = []
        for i, action in enumerate(actions):
            status: ActionStatus | None = ActionStatus.PENDING
            if st is not None:
                status = st.action(action.id).status
            if verdicts and action.id in verdicts and status in (ActionStatus.PENDING, None):
                status = verdict_status(verdicts[action.id])
            who_runs = Text(f"  [{who.get(action.id, '?')}] ", style="bold")
            head = Text("\n" if i else "").append_text(action_label(status)).append_text(who_runs)
            blocks.append(Wrapped(head.append(action.title)))
            blocks += command_blocks(action)
        self.update(Group(*blocks))


def command_blocks(action: Action) -> list[Wrapped]:
    """What the action runs, verbatim: a command line laid out to be copied (broken only at
    spaces, continued with ` \\`); a file's content or an SQL statement as it is."""
    lines = describe(action).splitlines()
    shell = isinstance(action, (Command, StartDaemon, EnsureDir)) and len(lines) == 1
    prompt = "" if isinstance(action, (Manual, Sql)) else "$ "
    blocks = []
    for line in lines:
        if shell and "`" not in line:
            blocks.append(Wrapped((f"    $ `{line}`", "")))
        else:  # backticks in a file or a statement are its own: shown, not interpreted
            style = "italic" if not prompt else ""
            blocks.append(Wrapped((f"    {prompt}{line}", style), commands=False))
        prompt = "  " if prompt else ""
    return blocks
