"""The wizard's last screen (issue 23): once the validation in HANA passes, what was set up
(a line per step, from the run state), where the logs and the report are, and what next,
with the exact commands: the shipped model served, tested, and called from SQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Static

from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env
from tests.tui_support import settle, text_of, until_screen, wizard
from tui.screens.finish import FinishScreen
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
        said = {w: text_of(screen.query_one(f"#{w}", Static)) for w in ("setup", "paths", "next")}
        assert text_of(screen.query_one("#finish-title", Static)).startswith(
            "✔ Every expected result is there"
        )
        lines = said["setup"].splitlines()
        assert len(lines) == 7 and all(line.startswith("✔ done") for line in lines), lines
        assert "2 Create a dedicated user: 2 run, 1 for you" in lines[1], lines[1]
        assert "Logs    /srv/state/logs: a folder per run" in said["paths"]
        assert "/srv/state/emlsetup-report.md" in said["paths"]
        cli = "emlsetup --root /srv/hxe --state-dir /srv/state"
        shell = said["next"].replace(" \\\n       ", " ")  # the shell joins what " \\" folds
        assert f"   $ {cli} model add half_plus_two\n" in shell
        assert f"   $ {cli} model test half_plus_two\n" in shell
        assert all(len(line) <= 76 for line in said["next"].splitlines())  # nothing cut
        assert f"   $ {cli} model sql half_plus_two\n" in shell
        assert "3. Call it from your own SQL, as ML_USER:" in said["next"]
        await pilot.press("escape")  # back to the results it came from
        await settle(pilot)
        assert isinstance(app.screen, ValidationScreen)
        assert "all expected results are there" in text_of(app.screen.query_one("#summary", Static))
    # The SQL shown works as shown: after `model add`, typed into HANA as ML_USER.
    added = sandbox.run_cli("model", "add", "half_plus_two", env=hana_env(sandbox, hana))
    assert added.returncode == 0, added.stdout[-2000:]
    assert as_ml_user(hana, shown_sql(said["next"])) == [(2.5,)]


def shown_sql(text: str) -> list[str]:
    """The statements of "Call it from your own SQL", each joined from its folded lines."""
    block = text.split("own SQL, as ML_USER:\n")[1].split("\n   The whole script")[0]
    joined = block.replace("\n     ", " ").replace("--", "\n--").splitlines()
    return [s.strip() for line in joined if not line.startswith("--") for s in line.split(";")
            if s.strip()]  # fmt: skip


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
