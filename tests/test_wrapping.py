"""The one layout every screen uses for text and for commands to copy (tui/widgets/wrapping):
rows fit the width, words are never cut in two, and a command's rows, pasted into bash as
a terminal copies them (with the screen's left margin), are the same command."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from steps.core.model import Command
from steps.core.secret_input import missing_sentence
from tests.screenshots import BAZEL_FIXTURES
from tui.widgets.log_view import CONTINUED, wrap_lines
from tui.widgets.wrapping import command_lines, plain_lines, shell_words

COMMANDS = [
    "emlsetup --root /srv/hxe --state-dir /var/lib/emlsetup/state-of-this-run resume",
    "emlsetup --state-dir '/var/lib/emlsetup/state of this run' --set 'a=b c' resume",
    'sudo su -l hxeadm -c "/usr/sap/HXE/home/bin/hxe_gc.sh --quiet"',
    "bazel build -c opt --copt=-msse4.1 --copt=-msse4.2 --copt=-mavx --copt=-mavx2 "
    "--copt=-mfma --copt=-O3 //tensorflow_serving/model_servers:tensorflow_model_server",
]


def pasted(text: str) -> list[str]:
    """The words bash reads from the text pasted at its prompt."""
    done = subprocess.run(
        ["/bin/bash", "-c", "printf '%s\\0' " + text], capture_output=True, text=True, check=True
    )
    return done.stdout.split("\0")[:-1]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("width", [30, 44, 60, 78, 200])
def test_a_command_s_rows_paste_as_the_command(command: str, width: int) -> None:
    rows = command_lines(command, width)
    longest_word = max(len(w) for w in shell_words(command))
    assert all(len(r) <= max(width, longest_word + 6) for r in rows), rows
    assert (len(rows) == 1) == (len(command) <= width)
    assert all(r.endswith(" \\") for r in rows[:-1])
    copied = "\n".join(" " + r for r in rows)  # a terminal copies the screen's margin too
    assert pasted(copied) == shlex.split(command)


@pytest.mark.parametrize("width", [40, 52, 66, 78])
def test_a_command_in_a_sentence_stays_whole_or_continues_with_a_backslash(width: int) -> None:
    action = Command(
        id="hxe-gc", title="x", argv=["/usr/sap/HXE/home/bin/hxe_gc.sh"], idempotent=True
    )
    said = missing_sentence(action, "hxeadm", None)
    command = "sudo su -l hxeadm -c /usr/sap/HXE/home/bin/hxe_gc.sh"
    rows = plain_lines("» " + said, width, CONTINUED)
    assert all(len(r) <= width for r in rows), rows
    at = next(i for i, r in enumerate(rows) if "sudo" in r)
    block = rows[at:]
    assert not any("↪" in r for r in block), rows  # no mark inside what is copied
    assert pasted("\n".join(block)) == shlex.split(command), rows


@pytest.mark.parametrize("width", [40, 60, 76, 100])
def test_log_rows_break_between_words(width: int) -> None:
    lines = []
    for name in ("01-first-build", "04-compile-error"):
        lines += (BAZEL_FIXTURES / f"{name}.stderr.raw").read_text().splitlines()
    for line in lines:
        rows = wrap_lines([line], width)
        assert all(len(r) <= width for r in rows), rows
        words = line.split()
        too_wide = [w for w in words if len(w) > width - len(CONTINUED)]  # folded: no choice
        for row in rows:
            for w in row.removeprefix(CONTINUED).split():
                assert w in words or any(w in long for long in too_wide), (w, rows)
        assert "".join(r.removeprefix(CONTINUED) for r in rows).replace(" ", "") == (
            line.expandtabs(4).replace(" ", "")
        )


def test_backticks_in_a_tool_s_output_are_shown_as_they_are() -> None:
    line = "broken.cc:1:21: error: `undefined_symbol_here' was not declared " + "x " * 40
    assert "`undefined_symbol_here'" in "".join(wrap_lines([line], 60))


def test_rows_in_columns_continue_under_their_column() -> None:
    row = "  y, a, n        at a root prompt: yes, yes to all (every root action of every step"
    wrapped = plain_lines(row, 50)
    assert wrapped[0].startswith("  y, a, n        at a root")
    assert all(r.startswith(" " * 17) and r[17] != " " for r in wrapped[1:]), wrapped
