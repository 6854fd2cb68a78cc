"""How a headless run talks to its terminal: events printed as they come, root actions
confirmed at a prompt, and Ctrl-C turned into one clean interrupt of the running command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import TextIO

from checks.result import CheckResult, Status
from steps.core.engine import Event, describe
from steps.core.model import Action


def check_line(step: int, r: CheckResult) -> str:
    fix = f"\n          fix: {r.fix}" if r.fix and r.status != Status.OK else ""
    return f"{step}  {r.status.symbol:<7} {r.name}: {r.measured} (expected {r.expected}){fix}\n"


ALL = ("a", "all")


def confirmer(yes: bool, out: TextIO) -> Callable[[Action], bool]:
    """Each root action asks first (y: this one; a: this one and every later one of this
    run, as --yes would have; anything else: no, and the run stops before it)."""
    said_all = False

    def confirm(action: Action) -> bool:
        nonlocal said_all
        if yes or said_all:
            return True
        if not sys.stdin.isatty():
            return False
        out.write(
            f"\nAs root: {describe(action)}\n"
            "Run it? [y = yes, a = yes to all root actions of this run, N = no] "
        )
        out.flush()
        answer = sys.stdin.readline().strip().lower()
        said_all = answer in ALL
        return said_all or answer in ("y", "yes")

    return confirm


def printer(out: TextIO) -> Callable[[Event], None]:
    def show(event: Event) -> None:
        if event.kind == "line":
            out.write(f"   | {event.text}\n")
        elif event.kind == "output":
            text = event.data.decode(errors="replace")
            out.write("".join(f"   | {line}\n" for line in text.splitlines()))
        elif event.kind == "step":
            out.write(f"\n== {event.text}\n")
        elif event.kind in ("checks", "results"):
            for r in event.results or []:
                out.write(check_line(event.step, r))
        elif event.kind == "action":
            out.write(f"-> {event.text}\n")
        else:
            out.write(f"   {event.kind}: {event.text}\n")
        out.flush()

    return show


def interrupt_handler(engine: object, out: TextIO) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        from steps.core.engine import Engine

        assert isinstance(engine, Engine)
        if not engine.cancelled.is_set():
            out.write(
                "\nInterrupting: the running command gets one interrupt and is waited for...\n"
            )
            engine.cancelled.set()
            engine.runner.interrupt()

    return handler
