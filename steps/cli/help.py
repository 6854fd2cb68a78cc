"""What the command line says about itself and its arguments: every command's --help, the
step options that contradict each other, and the summary line `check` ends with."""

from __future__ import annotations

import argparse

from checks.result import CheckResult, Status

# What each command does, for its own --help (argparse shows `help=` only in the list).
DESCRIPTIONS = {
    "plan": "Print every command the run would execute on this system, step by step, with "
    "the user each runs as. Changes nothing.",
    "detect": "Print the detected system (distro, version) and the tutorial family it "
    "follows. Exit 1 when the system is not supported.",
    "check": "Read the prerequisites and expected results of every step (or one) from the "
    "system and print them with their fixes. Changes nothing. Exit 1 when one fails.",
    "run": "Run the setup headless: steps 1-7, or a range of them, asking before each root "
    "action unless --yes. The state is saved after every change; `resume` continues.",
    "resume": "Continue an interrupted run at the action it stopped on (re-attaching to a "
    "build still running).",
    "report": "Write the run report (md, json or html) for a support ticket; no password "
    "is ever in it.",
}
OPTION_HELP = {
    "--json": "print JSON instead of text",
    "--step": "only this step (1-7)",
    "--from-step": "first step to run (default 1)",
    "--to-step": "last step to run (default 7)",
    "--only-step": "run just this step (not with --from-step / --to-step)",
    "--format": "report format (default md)",
}


def describe_commands(sub: argparse._SubParsersAction) -> None:
    """Every command's --help says what it does, and every option has a line of help."""
    for choice in sub._choices_actions:
        sp = sub.choices[choice.dest]
        if not sp.description:
            sp.description = DESCRIPTIONS.get(choice.dest) or choice.help
        for action in sp._actions:
            if action.help is None and action.option_strings:
                action.help = OPTION_HELP.get(action.option_strings[-1])
            elif action.help is None and action.choices:
                action.help = "one of: " + ", ".join(map(str, action.choices))


def run_range_error(args: argparse.Namespace) -> str | None:
    """`run`'s step options that contradict each other, as one sentence."""
    if getattr(args, "command", None) != "run":
        return None
    first, last, only = args.from_step, args.to_step, args.only_step
    if only is not None and (first is not None or last is not None):
        return "--only-step runs one step: give it without --from-step / --to-step"
    if first is not None and last is not None and first > last:
        return f"--from-step {first} comes after --to-step {last}: no step to run"
    return None


def check_summary(results: list[CheckResult]) -> str:
    """The last line of `check`: how many checks, how many of each status, what to do."""
    counts = {st: sum(1 for r in results if r.status == st) for st in Status}
    said = ", ".join(f"{n} {st.symbol}" for st, n in counts.items() if n) or "none"
    verdict = (
        "fix the ✘ rows, then check again" if counts[Status.FAIL] else "nothing blocks the run"
    )
    return f"{len(results)} checks: {said}: {verdict}\n"
