"""The interactive wizard (issue 3 builds the screens); for now it shows the plan's steps."""

from __future__ import annotations

import argparse

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from steps.session import Options, Session, SessionError
from steps.settings import SettingsError


class WizardApp(App[int]):
    TITLE = "emlsetup"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Header()
        d = self.session.distro
        lines = [f"{d.name}: family {d.family or 'unsupported'}", ""]
        if d.supported:
            lines += [f"{s.number}. {s.title}" for s in self.session.plan().steps]
        else:
            lines.append(d.reason)
        yield Static("\n".join(lines))
        yield Footer()


def run_wizard(args: argparse.Namespace) -> int:
    try:
        session = Session.open(
            Options(
                config=args.config,
                root=args.root,
                state_dir=args.state_dir,
                distro=args.distro,
                overrides=args.overrides,
            )
        )
    except (SettingsError, SessionError) as exc:
        print(f"emlsetup: {exc}")
        return 2
    return WizardApp(session).run() or 0
