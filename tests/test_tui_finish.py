"""The wizard's last screen (issue 23): once the validation in HANA passes, what was set up
(a line per step, from the run state), where the logs and the report are, and what next,
with the exact commands: the shipped model served, tested, and called from SQL."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from textual.widgets import Static

from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env
from tests.tui_support import pasted, rows_through, settle, text_of, until_screen, wizard
from tui.screens.finish import MODEL, FinishScreen
from tui.screens.validation import ValidationScreen


@pytest.fixture
def hana() -> Iterator[HanaTestServer]:
    with HanaTestServer(Catalogue(users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})) as srv:
        yield srv


async def test_the_last_screen_after_the_validation_passes(
    sandbox: Sandbox, hana: HanaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = sandbox.run_cli("run", "--yes", env=hana_env(sandbox, hana))
    assert done.returncode == 0, done.stdout[-2000:]
    async with wizard(sandbox, monkeypatch, **hana_env(sandbox, hana)) as (app, pilot):
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("ctrl+r")  # check: the passwords are in the environment
        screen = await until_screen(pilot, FinishScreen)
        await settle(pilot)
        rows = await rows_through(pilot, screen.query_one("#body"))
        said = {w: text_of(screen.query_one(f"#{w}", Static)) for w in ("setup",)}
        await pilot.press("escape")  # back to the results it came from
        await settle(pilot)
        assert isinstance(app.screen, ValidationScreen)
        assert "all expected results are there" in text_of(app.screen.query_one("#summary", Static))
    # The words on the 80-column screen: the headline goes on under its words, not at the
    # screen's edge (it did: "EML." alone at column 0).
    assert rows[0].startswith("✔ Every expected result is there"), rows
    assert rows[1].startswith("  ") and rows[1].split() == ["EML."], rows
    lines = said["setup"].splitlines()
    assert len(lines) == 7 and all(line.startswith("✔ done") for line in lines), lines
    assert "2 Create a dedicated user: 2 run, 1 for you" in lines[1], lines[1]
    assert "Logs    /srv/state/logs: a folder per run, a file per command" in rows, rows
    report = next(i for i, r in enumerate(rows) if r.startswith("Report  "))
    assert "/srv/state/emlsetup-report.md" in " ".join(rows[report : report + 2]), rows
    assert rows[report + 1].startswith(" " * 8), rows  # under the report's sentence
    # Each command, copied from its rows as they are shown, pastes as that command.
    cli = "emlsetup --root /srv/hxe --state-dir /srv/state"
    commands = commands_shown(rows)
    assert [pasted("\n".join(shown)) for shown in commands] == [
        [*shlex.split(cli), "model", *words]
        for words in (["add", MODEL], ["test", MODEL], ["sql", MODEL], ["add", "NAME", "PATH"])
    ], rows
    assert any(len(shown) > 1 for shown in commands), rows  # wider than 80: broken to paste
    for shown in commands:
        assert all(r.startswith("     ") for r in shown[1:]), shown  # deeper than the $
    assert "3. Call it from your own SQL, as ML_USER:" in rows, rows
    # The SQL shown works as shown: after `model add`, typed into HANA as ML_USER.
    added = sandbox.run_cli("model", "add", "half_plus_two", env=hana_env(sandbox, hana))
    assert added.returncode == 0, added.stdout[-2000:]
    assert as_ml_user(hana, shown_sql(rows)) == [(2.5,)]


def commands_shown(rows: list[str]) -> list[list[str]]:
    """The rows of each `$ emlsetup ...` command, from its $ on."""
    out = []
    for start in (i for i, r in enumerate(rows) if r.lstrip().startswith("$ ")):
        shown = [rows[start].split("$ ", 1)[1]]
        while shown[-1].endswith(" \\"):
            shown.append(rows[start + len(shown)])
        out.append(shown)
    return out


def shown_sql(rows: list[str]) -> list[str]:
    """The statements of "Call it from your own SQL", each joined from its rows."""
    start = rows.index("3. Call it from your own SQL, as ML_USER:") + 1
    end = next(i for i in range(start, len(rows)) if "The whole script" in rows[i])
    text = " ".join(r.strip() for r in rows[start:end]).replace("--", "\n--")
    return [s.strip() for line in text.splitlines() if not line.startswith("--")
            for s in line.split(";") if s.strip()]  # fmt: skip


def as_ml_user(srv: HanaTestServer, statements: list[str]) -> list[tuple[object, ...]]:
    """The statements run one after another through hdbcli; the last one's rows."""
    from hdbcli import dbapi

    conn = dbapi.connect(
        address=srv.host, port=srv.port, user="ML_USER", password=ML_PW, databaseName="HXE"
    )
    try:
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
        return [tuple(float(v) for v in row) for row in cur.fetchall()]
    finally:
        conn.close()
