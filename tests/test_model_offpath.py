"""A new admin off the happy path with `emlsetup model`, through the real CLI, hdbcli, the
HANA test server and the TF Serving stand-in, output piped (no TTY) at 80 columns: what
they tried and got wrong before (issue 24's reconciliation, the off-path try).

- a second emlsetup with another state folder (root and tmsadm each have their own) ran
  its `model add` inside another's: both rewrote config.cnf through the same temporary
  file, and one add ended in a traceback with the other's entry in place of its own;
- a version folder given as the path (TF's exports are NAME/VERSION, an estimator's
  NAME/TIMESTAMP) was served as version 1 whatever its name;
- a 200-character model name was echoed whole in its one-line error;
- removing the last model said "serving " with nothing after it;
- a graph with no variable (SavedModelBuilder leaves its variables/ empty, and git, which
  keeps no empty folder, drops it) was refused for its missing variables/ folder, and the
  TF Serving stand-in failed on the empty one, where TensorFlow's loader restores nothing
  and serves the model.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from steps.models.checkpoints import ENV
from tests.model_bench import EXPORT, FIXTURES, Bench, ready
from tests.real_tf import adapter
from tests.real_tf.model_cycle import assert_answer
from tests.real_tf.written import COMMITTED
from tests.sandbox import REPO, Sandbox

POINT = "config.cnf: the new text written next to it"


@pytest.fixture
def bench(sandbox: Sandbox) -> Iterator[Bench]:
    for b in ready(sandbox):
        b.env["COLUMNS"] = "80"
        yield b


def _other_state(bench: Bench, *args: str) -> subprocess.CompletedProcess[str]:
    """emlsetup with a state folder of its own (as another user's default would be)."""
    argv = [sys.executable, "-m", "tui", "--root", str(bench.sb.root), "--state-dir",
            str(bench.sb.path / "other-state"), *args]  # fmt: skip
    return subprocess.run(argv, cwd=REPO, env=bench.env, capture_output=True, text=True,
                          timeout=180)  # fmt: skip


def test_a_second_emlsetup_waits_for_the_model_add_under_way(bench: Bench) -> None:
    fifos = bench.sb.path / "points"
    fifos.mkdir()
    os.mkfifo(fifos / "events")
    os.mkfifo(fifos / "go")
    events = os.open(fifos / "events", os.O_RDONLY | os.O_NONBLOCK)
    keep = os.open(fifos / "events", os.O_WRONLY)
    go = os.open(fifos / "go", os.O_RDWR)
    first = subprocess.Popen(
        bench.sb.cli_argv("model", "add", "half", str(FIXTURES / "versioned/1")),
        cwd=REPO, env={**bench.env, ENV: str(fifos)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        with os.fdopen(os.dup(events), "rb", buffering=0) as stream:
            os.set_blocking(stream.fileno(), True)
            while (point := stream.readline().decode().strip()) != POINT:
                assert point, "the first model add ended before it wrote config.cnf"
                os.write(go, b"g")
        # The first add holds its new config.cnf, not yet renamed into place.
        second = _other_state(bench, "model", "add", "iris", str(FIXTURES / "iris/1"))
        said = second.stdout + second.stderr
        assert second.returncode == 2, said
        assert "Traceback" not in said
        assert said.strip() == (
            f"emlsetup: another emlsetup is adding, testing or removing a model in {EXPORT}; "
            "wait for it to finish, then run this again"
        )
    finally:
        for fd in (events, keep, go):
            os.close(fd)  # the first add runs on
        out, _ = first.communicate(timeout=180)
    assert first.returncode == 0, out
    assert not bench.target(f"{EXPORT}/iris").exists()
    assert [r[0] for r in bench.sql("SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION")] == [
        "half"
    ]
    # Once it is done, the other admin's add goes through, and both are served.
    again = _other_state(bench, "model", "add", "iris", str(FIXTURES / "iris/1"))
    assert again.returncode == 0, again.stdout[-2000:]
    config = bench.target(f"{EXPORT}/config.cnf").read_text()
    assert 'name: "half"' in config and 'name: "iris"' in config
    assert "got 2.5 for 1" in bench.ok("model", "test", "half")


def test_a_version_folder_keeps_its_number_unless_version_is_given(bench: Bench) -> None:
    out = bench.ok("model", "add", "v", FIXTURES / "versioned/2")
    assert out.startswith(
        f"model add v from {FIXTURES / 'versioned/2'}, version 2 (the folder's name)\n"
    )
    assert "v version 2 is served and callable from SQL" in out
    assert sorted(p.name for p in bench.target(f"{EXPORT}/v").iterdir()) == ["2"]
    # a lower version folder is refused as any lower version is
    said = bench.failed("model", "add", "v", FIXTURES / "versioned/1")
    assert "v has version 2 in /home/tmsadm/export/v" in said
    # --version still decides
    out = bench.ok("model", "add", "w", FIXTURES / "versioned/2", "--version", "7")
    assert out.startswith(f"model add w from {FIXTURES / 'versioned/2'}, version 7\n")
    assert sorted(p.name for p in bench.target(f"{EXPORT}/w").iterdir()) == ["7"]


def test_a_model_folder_of_versions_is_refused_with_the_command_that_works(
    bench: Bench,
) -> None:
    said = bench.failed("model", "add", "v", FIXTURES / "versioned")
    assert said == (
        f"Failed: {FIXTURES / 'versioned'} holds version folders (1, 2), not a SavedModel; "
        f"give one of them, e.g. {FIXTURES / 'versioned/2'}; nothing was changed."
    )


def test_a_long_model_name_is_one_short_line(bench: Bench) -> None:
    done = bench.cli("model", "add", "m" * 200, FIXTURES / "iris/1")
    assert done.returncode == 2
    (line,) = done.stdout.splitlines() or done.stderr.splitlines()
    assert len(line) <= 240, line
    assert line.startswith(f"emlsetup: model name '{'m' * 40}...' (200 characters): use a letter")


def test_removing_the_last_model_says_tf_serving_serves_none(bench: Bench) -> None:
    bench.ok("model", "add", "half_plus_two")
    out = bench.ok("model", "remove", "half_plus_two")
    assert "  reload TF Serving: HandleReloadConfigRequest: serving no model\n" in out


@pytest.mark.parametrize("as_written", [True, False], ids=["empty-variables", "no-variables"])
def test_a_model_without_variables_is_served_as_tensorflow_serves_it(
    bench: Bench, tmp_path: Path, as_written: bool
) -> None:
    key = "no_variables/1"
    assert COMMITTED.manifest[key]["variables_files"] == []  # TF wrote variables/ empty
    folder = tmp_path / "no_variables" / "1"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / key / "saved_model.pb", folder)
    if as_written:
        (folder / "variables").mkdir()
    out = bench.ok("model", "add", "novars", folder)
    assert_answer(out, COMMITTED.answer(key))
    sample = COMMITTED.answer(key, "sample")
    tested = bench.ok("model", "test", "novars", *adapter.model_test_arguments(sample["inputs"]))
    assert_answer(tested, sample)
    # a model whose graph restores variables still needs them
    iris = tmp_path / "iris" / "1"
    iris.mkdir(parents=True)
    shutil.copy(FIXTURES / "iris/1/saved_model.pb", iris)
    said = bench.failed("model", "add", "iris", iris)
    assert said == (
        f"Failed: {iris} has saved_model.pb but no variables/ folder: copy the whole export "
        "folder, variables/ included; nothing was changed."
    )


def test_model_list_with_hana_down_still_lists_the_served_files(bench: Bench) -> None:
    """HANA stopped (or the port wrong): `model list` shows what config.cnf serves and its
    versions, HANA's columns as ?, then HANA's one sentence with its fix; exit 1."""
    bench.ok("model", "add", "half", FIXTURES / "versioned/1")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = str(closed.getsockname()[1])  # bound, never listening: connection refused
    try:
        done = bench.cli("model", "list", EMLSETUP_HANA__SQL_PORT=port)
        as_json = bench.cli("model", "list", "--json", EMLSETUP_HANA__SQL_PORT=port)
    finally:
        closed.close()
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    first, said = done.stdout.splitlines()
    assert first.startswith("half: versions [1] in /home/tmsadm/export/half; HANA row ?, ")
    assert said.startswith("Failed: HANA could not be asked: nothing accepts connections")
    assert "check hana.sql_port" in said
    assert as_json.returncode == 1
    (row,) = json.loads(as_json.stdout)
    assert row["versions"] == [1] and "hana_row" not in row
    assert "connection refused" in row["hana_error"]


def test_model_test_after_its_files_were_deleted_names_them_and_the_two_ways_on(
    bench: Bench,
) -> None:
    bench.ok("model", "add", "half", FIXTURES / "versioned/1")
    shutil.rmtree(bench.target(f"{EXPORT}/half"))
    said = bench.failed("model", "test", "half")
    assert said == (
        f"Failed: half's files are gone from {EXPORT}/half (no version folder with "
        "saved_model.pb), so TF Serving cannot answer for it: add it again (`emlsetup model "
        "add half PATH`) or remove it (`emlsetup model remove half`)"
    )
    bench.ok("model", "remove", "half")  # the way on it names works
