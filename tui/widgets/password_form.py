"""HANA passwords typed into masked fields; they stay in this process's memory only."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from tui.driver import PASSWORD_VARS
from tui.widgets.text_field import TextField


class PasswordForm(Vertical):
    def __init__(self, system_user: str, ml_user: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.users = (system_user, ml_user)

    def compose(self) -> ComposeResult:
        for var, user in zip(PASSWORD_VARS, self.users, strict=True):
            yield Label(f"HANA password for {user} (empty: skip)", markup=False)
            yield TextField(password=True, id=var.lower(), placeholder=f"password of {user}")

    def values(self) -> dict[str, str]:
        found = {var: self.query_one(f"#{var.lower()}", TextField).value for var in PASSWORD_VARS}
        return {k: v for k, v in found.items() if v}
