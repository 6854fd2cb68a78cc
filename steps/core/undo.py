"""`emlsetup undo`: what emlsetup recorded doing, reversed, last step first.

Each step's undo is data (``Step.undo``, steps/undo_system.py and steps/undo_hana.py). An
entry runs only when the state shows emlsetup did what it reverses (``performed``, not
found done), the system shows something of it is still there, and unchanged since. Every
decision and command goes into the state's undo journal, saved before and after each one:
a kill anywhere, and the next `emlsetup undo` goes on (an entry under way runs its
commands again, each guarded by its own check). An undone step is pending again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checks.evaluate import all_pass, evaluate_all
from checks.result import Status
from steps.core import undo_ops as ops
from steps.core.actions import describe
from steps.core.engine import Engine, Event, NeedsConfirmation
from steps.core.model import (
    Action,
    Command,
    DropModelObjects,
    RemoveLine,
    RemoveModelEntry,
    Sql,
    Step,
    StopDaemon,
    Undo,
)
from steps.core.plan import render
from steps.core.state import (
    ActionState,
    ActionStatus,
    RunState,
    StepStatus,
    UndoEntry,
    UndoJournal,
    now,
)
from steps.models import journal as model_journal

UNDONE = "undone by `emlsetup undo`"  # how a step's reason starts once undone (status reads it)

FINAL = ("undone", "nothing", "kept", "listed", "declined", "n/a")
LABEL = {
    "undo": "would undo",
    "nothing": "nothing to undo",
    "kept": "kept",
    "listed": "left in place",
    "declined": "kept (you said no)",
    "undone": "undone",
    "blocked": "cannot tell",
    "n/a": "not emlsetup's",
    "later": "would check then",
}


@dataclass
class Item:
    step: Step
    undo: Undo  # placeholders filled, a model's too
    key: str
    model: str = ""


@dataclass
class Verdict:
    status: str  # one of LABEL's keys
    reason: str = ""


class UndoEngine:
    def __init__(
        self,
        engine: Engine,
        state_folder: Any,
        *,
        ask: Callable[[str], bool] = lambda q: False,
    ) -> None:
        self.engine, self.plan, self.state = engine, engine.plan, engine.state
        self.folder, self.ask = state_folder, ask
        self.models_journal = model_journal.load(state_folder)
        self._reads: dict[int, str] = {}

    # -- what there is to undo ---------------------------------------------------------------
    def models(self) -> list[str]:
        """The models `emlsetup model add` worked on since the last undo of them."""
        names: list[str] = []
        for rec in self.models_journal.records:
            if rec.command == "undo" and rec.model in names:
                names.remove(rec.model)
            elif rec.command == "add" and rec.model not in names:
                names.append(rec.model)
        return names

    def items(self, steps: list[int]) -> list[Item]:
        out = []
        for step in sorted(self.plan.steps, key=lambda s: -s.number):
            if step.number not in steps:
                continue
            for undo in step.undo:
                if not undo.per_model:
                    out.append(Item(step, undo, undo.reverses[0]))
                    continue
                for name in reversed(self.models()):
                    filled = render(undo, {"model": name, "model_upper": name.upper()})
                    out.append(Item(step, filled, f"model:{name}:{undo.reverses[0]}", name))
        return out

    def ours(self, item: Item) -> list[str]:
        """What of it emlsetup did: the actions it ran to their end, the model phases that
        changed something (or were cut short by a kill)."""
        if item.model:
            phases = [
                p
                for rec in self.models_journal.records
                if rec.command == "add" and rec.model == item.model
                for p in rec.phases
                if p.name in item.undo.reverses
            ]
            return [p.name for p in phases if p.changed or p.status != "done"]
        st = next((s for s in self.state.steps if s.number == item.step.number), None)
        return [
            a.id
            for a in (st.actions if st else [])
            if a.id in item.undo.reverses and (a.performed or a.status == ActionStatus.DONE)
        ]

    def _unread(self, item: Item, specs: list[Any]) -> tuple[list[Any], str]:
        results = evaluate_all(specs, self.engine.context(item.step))
        skipped = next((r for r in results if r.status == Status.SKIP), None)
        if skipped is not None:
            return results, f"{skipped.name}: {skipped.measured}; {skipped.fix}".rstrip("; ")
        return results, ""

    def verdict(self, item: Item, entry: UndoEntry | None, before: bool = False) -> Verdict:
        """What undo does with the item now; ``before``: in a preview where lines above it
        will run first (they can empty what it checks)."""
        if entry is not None and entry.status in FINAL:
            return Verdict(entry.status, entry.reason)
        if entry is not None and entry.status == "running":
            return Verdict("undo")  # cut short: its commands run again, each guarded
        undo = item.undo
        st = next((s for s in self.state.steps if s.number == item.step.number), None)
        if undo.gone_with and any(
            a.id == undo.gone_with and (a.performed or a.status == ActionStatus.DONE)
            for a in (st.actions if st else [])
        ):
            return Verdict("n/a", f"goes with what {undo.gone_with} made")
        if not self.ours(item):
            found = any(
                a.id in undo.reverses and a.status == ActionStatus.ALREADY_DONE
                for a in (st.actions if st else [])
            )
            if not found:
                return Verdict("n/a", "not done by emlsetup")  # never ran, or not here
            return Verdict("nothing", "found done before emlsetup ran it: left as it is")
        if undo.keep:
            return Verdict("listed", undo.keep)
        if undo.reads:
            if item.step.number not in self._reads:
                results = evaluate_all(undo.reads, self.engine.context(item.step))
                bad = next((r for r in results if r.status != Status.OK), None)
                self._reads[item.step.number] = (
                    f"{bad.name}: {bad.measured}; {bad.fix}".rstrip("; ") if bad else ""
                )
            if self._reads[item.step.number]:
                return Verdict("blocked", self._reads[item.step.number])
        if undo.present_when:
            results, unread = self._unread(item, undo.present_when)
            if unread:
                return Verdict("blocked", unread)
            if not any(r.status == Status.OK for r in results):
                return Verdict("nothing", "already gone: " + ", ".join(r.measured for r in results))
        if undo.ours_when:
            results, unread = self._unread(item, undo.ours_when)
            if unread:
                return Verdict("blocked", unread)
            changed = next((r for r in results if r.status != Status.OK), None)
            if changed is not None and before:
                why = f"{changed.name}: {changed.measured} now; read again once the lines above ran"
                return Verdict("later", why)
            if changed is not None:
                return Verdict("kept", f"{changed.name}: {changed.measured}; left as it is")
        journal = self.state.undo
        host = self.engine.runner.host
        inside = next(
            (
                p
                for p in (journal.kept if journal else [])
                if undo.holds and p.startswith(undo.holds + "/") and host.path(p).exists()
            ),
            None,
        )
        if inside:
            return Verdict("kept", f"{undo.holds} holds {inside}, which you chose to keep")
        return Verdict("undo")

    def still_needed(self, steps: list[int]) -> str | None:
        """A step asked to be undone while a later step that needs it (Step.needs: step 2's
        user, whose home holds the venv and the checkout) keeps what emlsetup made there:
        the sentence that says which to undo first, else None."""
        for step in self.plan.steps:
            if step.number in steps:
                continue
            st = next((s for s in self.state.steps if s.number == step.number), None)
            made = st is not None and any(
                a.performed or a.status == ActionStatus.DONE for a in st.actions
            )
            for need in step.needs if made else []:
                if need.step in steps:
                    return (
                        f"step {need.step} cannot be undone while step {step.number} keeps "
                        f"what emlsetup made with it ({need.why}): undo step {step.number} "
                        f"first (emlsetup undo --step {step.number}), or every step (--all)"
                    )
        return None

    def preview(self, steps: list[int]) -> list[tuple[Item, Verdict]]:
        """What an undo would do, read from the state and the system; nothing is changed."""
        journal, out, above = self.state.undo, [], False
        if journal is not None and journal.finished is not None:
            journal = None  # history: what was done since is what a new undo reverses
        for i in self.items(steps):
            v = self.verdict(i, journal.entry(i.step.number, i.key) if journal else None, above)
            above = above or v.status == "undo"
            out.append((i, v))
        return out

    # -- doing it ------------------------------------------------------------------------
    def run(self, steps: list[int]) -> bool:
        """Undoes the steps, last first; False when an entry failed or could not be told.
        Raises NeedsConfirmation, with nothing of that entry done, for an unconfirmed root
        command. An interrupted undo is finished first, its steps with these."""
        journal = self.state.undo
        if journal is None or journal.finished is not None:
            kept = journal.kept if journal else []
            journal = self.state.undo = UndoJournal(kept=kept)
        journal.steps = sorted(set(journal.steps) | set(steps), reverse=True)
        self._save()
        items = self.items(journal.steps)
        for number in journal.steps:
            step = self.plan.step(number)
            self.engine._step = number
            self._emit("step", f"Undo step {number}: {step.title}")
            for item in (i for i in items if i.step.number == number):
                if not self._one(item, journal):
                    return False
            self._pending_again(number, journal)
        journal.finished = now()
        self._save()
        return True

    def _one(self, item: Item, journal: UndoJournal) -> bool:
        entry = journal.entry(item.step.number, item.key)
        if entry is None:
            entry = UndoEntry(step=item.step.number, key=item.key, title=item.undo.title)
            journal.entries.append(entry)
        v = self.verdict(item, entry)
        if v.status == "blocked":
            entry.reason = v.reason
            self._save()
            self._emit("failed", f"{item.undo.title}: cannot tell what is there: {v.reason}")
            return False
        if v.status in FINAL:
            if (entry.status, entry.reason) != (v.status, v.reason):
                entry.status, entry.reason = v.status, v.reason
                self._save()
            if v.status != "n/a":
                why = f" ({v.reason})" if v.reason else ""  # an entry an earlier undo did
                self._emit("skip", f"{item.undo.title}: {LABEL[v.status]}{why}")
            return True
        if item.undo.ask and entry.status != "running" and not self.ask(item.undo.ask):
            entry.status, entry.reason = "declined", "kept, as you chose"
            entry.path = item.undo.ask_path
            journal.kept = sorted({*journal.kept, item.undo.ask_path})
            self._save()
            self._emit("skip", f"{item.undo.title}: kept, as you chose")
            return True
        for op in item.undo.do:
            asked = isinstance(op, (Command, Sql, RemoveLine)) and op.needs_root
            if asked and not self.engine.confirm(op):  # type: ignore[arg-type]
                self._emit("stopped", f"not confirmed, nothing of it was run: {item.undo.title}")
                raise NeedsConfirmation(item.undo.title)
        entry.status, entry.reason = "running", ""
        self._save()
        error = self._do(item, entry)
        if error is not None:
            entry.status, entry.reason = "failed", error
            self._save()
            self._emit("failed", f"{item.undo.title} failed: {error}")
            return False
        entry.status = "undone"
        self._save()
        self._emit("done", f"{item.undo.title}: undone")
        if item.model and item.undo.reverses == ["config.cnf"]:
            self._models_undone(item.model)
        return True

    def _do(self, item: Item, entry: UndoEntry) -> str | None:
        ctx = self.engine.context(item.step)
        for op in item.undo.do:
            if self.engine.cancelled.is_set():
                return "interrupted; `emlsetup undo` again goes on"
            if op.only_if and not all_pass(op.only_if, ctx):
                self._emit("skip", f"  {op.title}: not needed ({op.only_if[0].name}: no)")
                continue
            self._emit("action", f"{op.title}\n  $ {describe(op)}")
            ast = ActionState(id=op.id, title=op.title)
            if isinstance(op, StopDaemon):
                st = self.state.step(item.step.number)
                started = next((a for a in st.actions if a.id == item.undo.reverses[0]), None)
                error = ops.stop_daemon(self.engine, op, ast, started.commands if started else [])
            elif isinstance(op, RemoveModelEntry):
                error = ops.remove_model_entry(self.engine, op, ast)
            elif isinstance(op, DropModelObjects):
                error = ops.drop_model_objects(self.engine, op, ast, self._emit)
            else:
                error = self.engine.executor.execute(item.step, op, ast)
            entry.commands += ast.commands
            self._save()
            if error is not None:
                return error + (f"; fix: {op.fix}" if op.fix else "")
        return None

    def _models_undone(self, model: str) -> None:
        """What model add did for ``model`` is undone: its records count no more."""
        self.models_journal.records.append(
            model_journal.ModelRecord(command="undo", model=model, status="done")
        )
        model_journal.save(self.folder, self.models_journal)

    def _pending_again(self, number: int, journal: UndoJournal) -> None:
        st = self.state.step(number)
        done = [e for e in journal.entries if e.step == number and e.status == "undone"]
        when = f"{now():%Y-%m-%d %H:%M} UTC"
        if done:
            st.reason = f"{UNDONE} ({when}): `emlsetup run --only-step {number}` does it again"
            self._emit("done", f"Step {number} undone: pending again")
        else:
            st.reason = f"{UNDONE} ({when}): it found nothing emlsetup made here to remove"
            self._emit("done", f"Step {number}: nothing to undo (nothing emlsetup made is left)")
        st.status, st.checks, st.results = StepStatus.PENDING, [], []
        if self.state.requested and number not in self.state.requested:
            self.state.requested = sorted({*self.state.requested, number})  # status shows it
        for a in st.actions:
            a.status, a.reason, a.performed, a.attempts = ActionStatus.PENDING, "", False, 0
        if self.state.current and self.state.current[0] == number:
            self.state.current = None
        self._save()

    # -- plumbing ------------------------------------------------------------------------
    def _save(self) -> None:
        self.engine.store.save(self.state)

    def _emit(self, kind: str, text: str) -> None:
        self.engine.on_event(Event(kind, self.engine._step, text))


def root_ops(items: list[tuple[Item, Verdict]]) -> list[tuple[int, Action | Any]]:
    """The root commands an undo would run, for the list shown before it starts."""
    return [
        (i.step.number, op)
        for i, v in items
        if v.status in ("undo", "later")
        for op in i.undo.do
        if op.needs_root and not isinstance(op, StopDaemon)
    ]


def state_after(state: RunState) -> str:
    return ", ".join(str(s.number) for s in state.steps if s.status == StepStatus.PENDING)
