"""What `emlsetup plan` and `run --dry-run` print: every step's commands, as whom, and what
a run would do with each; and the list of root actions a run asks about first."""

from __future__ import annotations

from typing import TextIO

from steps.core.engine import describe
from steps.core.model import Action, Manual, Sql
from steps.core.plan import Plan
from steps.core.session import Session
from steps.core.settings import Settings


def print_plan(plan: Plan, settings: Settings, out: TextIO) -> None:
    out.write(f"Plan for {plan.distro.name}, family {plan.family}\n")
    if plan.route_title:
        out.write(f"Route: {plan.route_title}\n")
        out.write(
            f"TF Serving: {plan.serving_route} ({plan.serving_duration}); "
            'choose with serving.route = "build" | "container" | "apt"\n'
        )
    out.write(f"Build optimisation: {plan.optimisation_note}\n")
    for step in plan.steps:
        out.write(f"\n== Step {step.number}: {step.title}\n")
        for note in step.corrections:
            out.write(f"   note: {note}\n")
        if step.checks:
            out.write(f"   checks first: {'; '.join(c.name for c in step.checks)}\n")
        for action in step.actions:
            out.write(f" - [{who_runs(settings, action)}] {action.title}\n")
            for line in describe(action).splitlines():
                out.write(f"     {'$ ' if is_command(action) else ''}{line}\n")
        if step.results:
            out.write(f"   then expects: {'; '.join(c.name for c in step.results)}\n")


def who_runs(settings: Settings, action: Action) -> str:
    if isinstance(action, Sql):
        hana = settings.hana
        return hana.system_user if action.role == "system" else hana.ml_user
    run_as = getattr(action, "run_as", "root")
    return {"admin": settings.admin.user, "sid_adm": settings.hana.sid_adm}.get(run_as, run_as)


def is_command(action: Action) -> bool:
    return action.kind in ("command", "daemon")


def dry_run(session: Session, plan: Plan, numbers: list[int], out: TextIO) -> int:
    engine = session.engine(plan, session.load_or_new_state(plan), sql=session.sql_backend())
    for step in plan.steps:
        if step.number not in numbers:
            continue
        out.write(f"== Step {step.number}: {step.title}\n")
        for action, verdict in engine.preview(step):
            who, first = who_runs(session.settings, action), describe(action).splitlines()[0]
            out.write(f" - {verdict:<13} [{who}] {first}\n")
    out.write("Dry run: nothing was changed.\n")
    return 0


def list_root_actions(
    session: Session, plan: Plan, numbers: list[int], out: TextIO, mark: str = ""
) -> None:
    """``mark`` around each command (the wizard's backticks: a command it lays out to paste
    whole, broken only at spaces); none in a terminal, which shows the line as it is."""
    root = [
        (s.number, a)
        for s in plan.steps
        if s.number in numbers
        for a in s.actions
        if a.needs_root and not isinstance(a, Manual)
    ]
    if root:
        out.write(f"{len(root)} actions of this run need root (each is skipped if already done):\n")
        for n, a in root:
            first = describe(a).splitlines()[0]
            if is_command(a) and mark not in first:
                first = f"{mark}{first}{mark}"
            out.write(f"  step {n}: {first}\n")
