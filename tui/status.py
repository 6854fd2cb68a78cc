"""Status words with a symbol beside them, and a colour only as an extra: every status reads
the same with NO_COLOR, on a monochrome terminal, or in a report pasted into a ticket."""

from __future__ import annotations

from rich.text import Text

from checks.result import Status
from steps.core.state import ActionStatus, StepState, StepStatus

# (symbol + word, style): the style is decoration; the words carry the meaning.
_STEP = {
    StepStatus.PENDING: ("○ pending", ""),
    StepStatus.RUNNING: ("▶ running", "bold cyan"),
    StepStatus.DONE: ("✔ done", "green"),
    StepStatus.FAILED: ("✘ failed", "bold red"),
    StepStatus.SKIPPED: ("– skipped", "dim"),
    StepStatus.UNVERIFIED: ("? unverified", "yellow"),  # done, but its checks could not run
}
_ACTION = {
    ActionStatus.PENDING: ("○ pending", ""),
    ActionStatus.RUNNING: ("▶ running", "bold cyan"),
    ActionStatus.DONE: ("✔ done", "green"),
    ActionStatus.ALREADY_DONE: ("✔ already done", "green"),
    ActionStatus.SKIPPED: ("– skipped", "dim"),
    ActionStatus.MANUAL: ("✋ for you", "yellow"),
    ActionStatus.FAILED: ("✘ failed", "bold red"),
}
_CHECK = {
    Status.OK: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.SKIP: "dim",
}
WILL_RUN = ("→ will run", "bold")
INTERRUPTED = ("⏸ interrupted", "yellow")


def interrupted(st: StepState) -> bool:
    """A step the engine stopped part-way (cancel or quit): pending, with the reason kept."""
    return st.status == StepStatus.PENDING and st.reason.startswith("interrupted")


def step_label(st: StepState, running: bool = False) -> Text:
    """``running``: its command runs although the state says otherwise (a build left
    running by an earlier wizard is "pending" in the state until resume re-attaches)."""
    if running:
        word, style = _STEP[StepStatus.RUNNING]
    else:
        word, style = INTERRUPTED if interrupted(st) else _STEP[st.status]
    return Text(word, style=style)


def step_word(st: StepState, running: bool = False) -> str:
    return step_label(st, running).plain


def action_label(status: ActionStatus | None) -> Text:
    """An action's status; None is the engine's "would run" verdict."""
    word, style = WILL_RUN if status is None else _ACTION[status]
    return Text(word, style=style)


def check_label(status: Status) -> Text:
    return Text(status.symbol, style=_CHECK[status])
