"""What the command line says about itself and its arguments: every command's --help, the
step options that contradict each other, and the summary line `check` ends with."""

from __future__ import annotations

import argparse
import difflib
from importlib import metadata
from typing import Any, NoReturn

from checks.result import CheckResult, Status

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """One line for a usage error, and "did you mean" for a mistyped command."""

    def error(self, message: str) -> NoReturn:
        # One line, not the usage block: the admin sees what is wrong and where to look.
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(c) for c in choices]
        close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.5)
        hint = f": did you mean `{close[0]}`?" if close else f"; choose one of {', '.join(names)}"
        if isinstance(action, argparse._SubParsersAction):
            raise argparse.ArgumentError(None, f"unknown command {value!r}{hint}")
        raise argparse.ArgumentError(action, f"invalid choice {value!r}{hint}")


def version() -> str:
    try:
        return f"emlsetup {metadata.version('emlsetup')}"
    except metadata.PackageNotFoundError:  # a checkout run without installing it
        return "emlsetup (version unknown: not installed)"


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
    "status": "Print the state of the run in --state-dir, without taking its lock: for a "
    "person, or (--json) for a fleet controller polling a run.",
    "export": "Write a self-contained Ansible project that runs emlsetup on many servers from "
    "the answers file given with --config.",
    "model": "Serve a TensorFlow SavedModel with TF Serving and make it callable from SQL "
    "through SAP HANA EML (after step 7).",
    "model add": "Check a SavedModel, copy it into the export folder, add it to config.cnf, "
    "reload TF Serving, register it in HANA and create its PREDICT wrapper. Run it again "
    "after a failure or an interrupt and it continues; a second add changes nothing.",
    "model list": "List the models in config.cnf with their versions, HANA row, wrapper and "
    "last test. Changes nothing.",
    "model remove": "Drop the model's PREDICT wrapper and HANA row and take it out of "
    "config.cnf; its files stay in the export folder.",
    "model test": "Send one row from SQL through EML to TF Serving and read the answer back "
    "from HANA (half_plus_two: 2.5 for 1).",
}
# Exit statuses a script or a fleet controller acts on, in the commands' --help.
EXIT_CODES = {
    "run": {
        0: "every requested step is done",
        1: "a step failed, or the run stopped (`emlsetup resume` continues)",
        2: "bad input: an option, the answers file, the state folder",
        4: "every step ran, but some checks could not (done, unverified)",
        130: "interrupted (Ctrl-C); nothing done is lost",
    },
    "status": {
        0: "every requested step is done",
        1: "a step failed, the run stopped, or no run yet",
        2: "bad usage (an unknown option)",
        3: "a run is under way (an emlsetup holds the state folder, or its build runs)",
        4: "done, unverified: every step ran, some checks could not",
    },
}
POSITIONAL_HELP = {"name": "the model's name (letters, digits, _)"}
OPTION_HELP = {
    "--json": "print JSON instead of text",
    "--step": "only this step (1-7)",
    "--from-step": "first step to run (default 1)",
    "--to-step": "last step to run (default 7)",
    "--only-step": "run just this step (not with --from-step / --to-step)",
    "--format": "report format (default md)",
}


def describe_commands(sub: argparse._SubParsersAction, prefix: str = "") -> None:
    """Every command's --help says what it does (sub-commands' too), every option and
    argument has a line of help, and the commands scripts poll list their exit statuses."""
    for choice in sub._choices_actions:
        key = f"{prefix}{choice.dest}"
        sp = sub.choices[choice.dest]
        if not sp.description:
            sp.description = DESCRIPTIONS.get(key) or choice.help
        codes = EXIT_CODES.get(key)
        if codes and not sp.epilog:
            sp.formatter_class = argparse.RawDescriptionHelpFormatter
            sp.description = "\n".join(_wrap(sp.description or ""))
            sp.epilog = "exit status:\n" + "\n".join(f"  {n:<4} {t}" for n, t in codes.items())
        for action in sp._actions:
            if isinstance(action, argparse._SubParsersAction):
                describe_commands(action, prefix=f"{key} ")
            elif action.help is None and action.option_strings:
                action.help = OPTION_HELP.get(action.option_strings[-1])
            elif action.help is None and action.choices:
                action.help = "one of: " + ", ".join(map(str, action.choices))
            elif action.help is None:
                action.help = POSITIONAL_HELP.get(action.dest)


def _wrap(text: str) -> list[str]:
    """A raw description keeps its line breaks: break it as argparse would have."""
    import textwrap

    return textwrap.wrap(text, 78)


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
