"""The report for a support ticket (issue 23): the html format is a real HTML page (headings,
tables, code) rendered from the markdown; step 7's SQL actions show their whole statements;
a command without an exit status says so in words; the md report carries the settings the
run used (HANA host, port, tenant) as the json report does."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from steps.core.state import CommandRecord, RunState
from tests.fakes.fakelib import install_tool
from tests.hana_server import Catalogue, HanaTestServer
from tests.sandbox import Sandbox
from tests.test_run_hana import ML_PW, SYSTEM_PW, hana_env


class Tags(HTMLParser):
    """The elements of a page, and the text inside each kind."""

    def __init__(self) -> None:
        super().__init__()
        self.count: dict[str, int] = {}
        self.text: dict[str, list[str]] = {}
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.count[tag] = self.count.get(tag, 0) + 1
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag)]

    def handle_data(self, data: str) -> None:
        for tag in set(self.open):
            self.text.setdefault(tag, []).append(data)


def _report(sb: Sandbox, fmt: str, env: dict[str, str] | None = None) -> str:
    done = sb.run_cli("report", "--format", fmt, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_steps_2_6_7_report_whole_statements_settings_and_real_html(sandbox: Sandbox) -> None:
    cat = Catalogue(tenant="HXE", users={"SYSTEM": SYSTEM_PW, "ML_USER": ML_PW})
    with HanaTestServer(cat) as srv:
        install_tool(sandbox.fakebin, "tensorflow_model_server")
        env = hana_env(sandbox, srv)
        for args in (["--only-step", "2"], ["--from-step", "6"]):
            done = sandbox.run_cli("run", "--yes", *args, env=env)
            assert done.returncode == 0, done.stdout[-3000:]
        plan = json.loads(sandbox.run_cli("plan", "--json", env=env).stdout)
        md, page = _report(sandbox, "md", env), _report(sandbox, "html", env)
        data = json.loads(_report(sandbox, "json", env))
    statements = [
        s for a in plan["steps"][6]["actions"] if a["kind"] == "sql" for s in a["statements"]
    ]
    assert any("\n" in s for s in statements)  # the procedure: many lines
    tags = Tags()
    tags.feed(page)
    code = "".join(tags.text["code"])
    for statement in statements:  # whole, not its first line
        in_block = "\n".join(f"    {line}" for line in statement.splitlines())
        assert (in_block if "\n" in statement else statement) in md, statement
        assert statement in code, statement
    # The settings, as in the json report: where the wizard connected.
    hana = data["settings"]["hana"]
    assert (hana["address"], hana["sql_port"], hana["tenant"]) == ("127.0.0.1", srv.port, "HXE")
    assert "| hana.address | 127.0.0.1 |" in md
    assert f"| hana.sql_port | {srv.port} |" in md
    assert "| hana.tenant | HXE |" in md
    # A page: headings, tables, code; no markdown syntax left as text.
    assert page.startswith("<!doctype html>")
    assert tags.count.get("h1") == 1 and tags.count.get("h2", 0) >= 8  # settings, 7 steps
    assert tags.count.get("table", 0) >= 5 and tags.count.get("th", 0) >= 10
    assert tags.count.get("pre", 0) >= 1 and tags.count.get("code", 0) >= 10
    assert "127.0.0.1" in "".join(tags.text["td"])
    assert "CREATE REMOTE SOURCE" in "".join(tags.text["code"])
    assert "|---|" not in page and "## Step" not in page and "**" not in page


def test_a_command_without_an_exit_status_says_so_and_html_escapes_output(
    sandbox: Sandbox,
) -> None:
    """A run killed while a command ran leaves a record without an exit status; a tool's
    output holding HTML is shown as text in the page, never run."""
    done = sandbox.run_cli("run", "--yes", "--only-step", "2")
    assert done.returncode == 0, done.stdout[-2000:]
    state_file = sandbox.state_dir / "state.json"
    state = RunState.model_validate_json(state_file.read_text())
    action = state.step(2).action("useradd")
    action.commands.append(CommandRecord(display="useradd -m tmsadm", user="root"))
    action.commands.append(
        CommandRecord(display="zypper in x", user="root", exit_code=4, tail=["<script>x</script>"])
    )
    state_file.write_text(state.model_dump_json())
    for fmt in ("md", "html"):
        text = _report(sandbox, fmt)
        assert "exit None" not in text, fmt
        assert "no exit status (still running, or stopped before it ended)" in text, fmt
    page = _report(sandbox, "html")
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
