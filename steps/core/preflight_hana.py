"""The HANA lines of the preflight: which roles the run's steps log in as, whether HANA
answers, and whether each login works (through the real client)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from checks.preflight import Row, knock, steps_text
from checks.result import Status
from checks.spec import SqlCount
from checks.sql import NO_HANA_FIX
from steps.core.model import Sql
from steps.core.plan import Plan
from steps.core.settings import Settings


def roles_needed(plan: Plan, numbers: list[int]) -> dict[str, set[int]]:
    """Which HANA login each step of the run uses: its SQL checks and SQL actions."""
    roles: dict[str, set[int]] = {}
    for step in plan.steps:
        if step.number not in numbers:
            continue
        specs = [*step.checks, *step.results]
        for a in step.actions:
            specs += [*a.done_when, *a.only_if, *a.unneeded_when]
            if isinstance(a, Sql):
                roles.setdefault(a.role, set()).add(step.number)
        for spec in specs:
            if isinstance(spec, SqlCount):
                roles.setdefault(spec.role, set()).add(step.number)
    return roles


def hana_rows(
    settings: Settings,
    roles: Mapping[str, set[int]],
    given: Mapping[str, str],
    login: Callable[[str], str | None],
    timeout: float,
) -> list[Row]:
    """Credentials for each login the run needs, HANA answering, and each login working."""
    if not roles:
        return []
    hana = settings.hana
    users = {"system": hana.system_user, "ml_user": hana.ml_user}
    keys = {"system": hana.system_key, "ml_user": hana.ml_user_key}
    env = {"system": "EMLSETUP_SYSTEM_PASSWORD", "ml_user": "EMLSETUP_ML_USER_PASSWORD"}
    have = {r: bool(keys[r] or given.get(env[r])) for r in roles}
    rows = []
    missing = [r for r in roles if not have[r]]
    if missing:
        rows.append(
            Row(
                name="hana",
                check="HANA credentials",
                status=Status.FAIL,
                measured="none for " + ", ".join(users[r] for r in missing),
                needed="a password or hdbuserstore key for "
                + ", ".join(f"{users[r]} ({steps_text(roles[r])})" for r in roles),
                fix=NO_HANA_FIX,
                steps=tuple(sorted({s for r in missing for s in roles[r]})),
            )
        )
    all_steps = tuple(sorted({s for steps in roles.values() for s in steps}))
    answered: str | None = None
    if any(have[r] and not keys[r] for r in roles):  # a key holds its own address
        answered = knock(hana.address, hana.sql_port, timeout)
        rows.append(
            _hana_row(
                f"HANA answers at {hana.address}:{hana.sql_port}",
                answered,
                works="answers",
                needed=f"reachable in {timeout:g} s",
                fix="start HANA (HDB start as the <sid>adm user) or correct hana.address / "
                "hana.sql_port (3<instance>15 for the tenant)",
                steps=all_steps,
            )
        )
    for role in roles:
        if not have[role]:
            continue
        error = "not tried: HANA does not answer" if answered else login(role)
        rows.append(
            _hana_row(
                f"HANA login as {users[role]}",
                error,
                works="works",
                needed=f"works ({steps_text(roles[role])})",
                fix=f"check {users[role]}'s password or key",
                steps=tuple(sorted(roles[role])),
            )
        )
    return rows


def _hana_row(
    check: str, error: str | None, works: str, needed: str, fix: str, steps: tuple[int, ...]
) -> Row:
    """A HANA line: what works, or the sentence it failed with and its fix."""
    return Row(
        name="hana",
        check=check,
        status=Status.OK if error is None else Status.FAIL,
        measured=works if error is None else error,
        needed=needed,
        fix="" if error is None else fix,
        steps=steps,
    )


def hana_login(settings: Settings, given: Mapping[str, str]) -> Callable[[str], str | None]:
    """A login as a role through the real client: None when it works, else the sentence."""

    def login(role: str) -> str | None:
        from checks.sql import SqlFailure
        from steps.hana.client import HanaAccess, HanaSecrets

        with HanaAccess(settings.hana, HanaSecrets.from_env(given)) as access:
            try:
                access.login(role)
            except SqlFailure as exc:
                return exc.message
        return None

    return login
