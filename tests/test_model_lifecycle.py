"""`emlsetup model` over a model's life, with SavedModels real TensorFlow wrote (issue 24,
items 5-10): a second version with another signature, names that differ in case only, a
TF2 model, aliases SQL cannot carry as they are, malformed files, a failed add that is
rolled back, and remove / list afterwards."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from steps.models import tf_proto as tp
from steps.models.commands import SHIPPED
from tests.model_bench import EXPORT, FIXTURES, Bench, ready
from tests.real_tf.written import COMMITTED
from tests.sandbox import Sandbox


@pytest.fixture
def bench(sandbox: Sandbox) -> Iterator[Bench]:
    yield from ready(sandbox)


def test_versions_names_remove_and_list(bench: Bench) -> None:
    bench.ok("model", "add", "half", FIXTURES / "versioned/1")
    assert "got 2.5 for 1" in bench.ok("model", "test", "half")
    # item 5: version 2 has another signature (inputs a and b): the wrapper follows it
    out = bench.ok("model", "add", "half", FIXTURES / "versioned/2", "--version", "2")
    assert "PREDICT_HALF replaced for half%serving_default" in out
    assert "got 3 for a=1, b=1" in out  # 2a + b
    tested = bench.ok("model", "test", "half", "--input", "a=4", "--input", "b=0.5")
    assert "got 8.5 for a=4, b=0.5" in tested
    assert bench.objects("TT_HALF") == [
        "TT_HALF_INPUT_1", "TT_HALF_INPUT_2", "TT_HALF_OUTPUT", "TT_HALF_PARAMS",
    ]  # fmt: skip
    before = bench.snapshot()
    said = bench.failed("model", "add", "half", FIXTURES / "versioned/1", "--version", "1")
    assert "half has version 2 in /home/tmsadm/export/half" in said
    assert "latest with num_versions 1), so version 1 would never answer" in said
    # item 6: a name that differs in case only shares HANA's (upper case) objects
    said = bench.failed("model", "add", "HALF")
    assert said.startswith("Failed: model half is here already and HALF differs from it")
    assert bench.snapshot() == before
    said = bench.failed("model", "remove", "HALF")
    assert "there is no model HALF: config.cnf lists half (half differs in case only)" in said
    assert bench.snapshot() == before  # half's wrapper is still there
    # item 10: remove nosuch, a stale last test, the same version again
    said = bench.failed("model", "remove", "nosuch")
    assert said == "Failed: there is no model nosuch: config.cnf lists half; nothing was removed"
    removed = bench.ok("model", "remove", "half")
    assert "its files moved to /home/tmsadm/export/.removed/half-" in removed
    assert json.loads(bench.ok("model", "list", "--json")) == []
    assert bench.objects("HALF") == []
    bench.ok("model", "add", "half", FIXTURES / "versioned/2", "--version", "2")
    (listed,) = json.loads(bench.ok("model", "list", "--json"))
    assert listed["versions"] == [2] and listed["last_test"] == ""  # not the removed one's


def test_a_tf2_model_has_one_signature_and_tf_serving_1_8_is_said_at_once(bench: Bench) -> None:
    """Item 7: the sandbox's route builds TF Serving 1.8.0, which cannot load a TF2 model."""
    before = bench.snapshot()
    written_by = COMMITTED.manifest["tf2_module/1"]["tensorflow_version"]
    said = bench.failed("model", "add", "scale", FIXTURES / "tf2_module/1")
    assert (
        f"a TensorFlow 2 SavedModel (tf.saved_model.save, tensorflow_version {written_by})" in said
    )
    assert "the TensorFlow Serving 1.8.0 this server runs cannot load it" in said
    assert bench.snapshot() == before
    tf2 = {"EMLSETUP_SERVING__REF": "2.20.0"}  # a TF Serving 2 build
    out = bench.ok("model", "add", "scale", FIXTURES / "tf2_module/1", **tf2)
    assert "signature predict, in: x DT_FLOAT [-1]; out: y DT_FLOAT [-1]" in out
    assert "got 6.5 for 2.5" in bench.ok("model", "test", "scale", "--input", "x=2.5", **tf2)


def _renamed(tmp: Path, new: str) -> Path:
    """The shipped model with its input alias x renamed (the graph is unchanged)."""
    folder = tmp / "renamed"
    shutil.copytree(SHIPPED, folder)
    pb = folder / "saved_model.pb"
    model = tp.parse("SavedModel", pb.read_bytes())
    inputs = model.meta_graphs[0].signature_def["serving_default"].inputs
    inputs[new].CopyFrom(inputs["x"])
    del inputs["x"]
    pb.write_bytes(model.SerializeToString())
    return folder


@pytest.mark.parametrize("alias", ["it's", 'x"y'])
def test_an_alias_sql_cannot_carry_is_refused_before_any_change(
    bench: Bench, tmp_path: Path, alias: str
) -> None:
    """Item 9: a quote in an alias left a HANA row and a table type behind."""
    before = bench.snapshot()
    said = bench.failed("model", "add", "quoted", _renamed(tmp_path, alias))
    assert f"tensor alias {alias!r} cannot name a HANA column" in said
    # one sentence, as every refusal made before any change
    assert said.endswith("in the signature's aliases; nothing was changed.")
    assert bench.snapshot() == before


def test_a_failed_add_is_rolled_back_then_added_with_inputs_it_takes(bench: Bench) -> None:
    """Item 10: the proving PREDICT fails ('a' is no number to StringToNumber): what the
    add did is taken back, and the same add with --input then succeeds."""
    before = bench.snapshot()
    said = bench.failed("model", "add", "parse", FIXTURES / "parse_number/1")
    tf_said = COMMITTED.answer("parse_number/1")["error"]  # TensorFlow's own words
    assert "the PREDICT call that proves the model failed: HANA failed CALL" in said
    assert tf_said in said
    assert "give values it takes with --input COLUMN=VALUE" in said
    assert "Rolled back: EML_DATA.PREDICT_PARSE and its tables and types, the " in said
    assert (
        "the config.cnf entry (TF Serving reloaded), the copy /home/tmsadm/export/parse/1" in said
    )
    assert bench.snapshot() == before
    journal = json.loads((bench.sb.state_dir / "models.json").read_text())
    assert journal["records"][-1]["status"] == "rolled back"
    out = bench.ok("model", "add", "parse", FIXTURES / "parse_number/1", "--input", "text=2.5")
    assert "PREDICT: HANA asked TensorFlow and got 2.5 for 2.5" in out
    assert (bench.target(EXPORT) / "parse/1/saved_model.pb").is_file()


def test_a_failed_new_version_says_how_to_call_the_served_one_again(bench: Bench) -> None:
    """The wrapper of version 1 was replaced for version 2, whose proof failed: version 2
    goes, and so does the wrapper; the sentence says how to make it for version 1."""
    bench.ok("model", "add", "half", FIXTURES / "versioned/1")
    said = bench.failed("model", "add", "half", FIXTURES / "parse_number/1", "--version", "2")
    assert "the copy /home/tmsadm/export/half/2." in said
    assert said.endswith(
        "To call version 1 from SQL again: emlsetup model add half "
        "/home/tmsadm/export/half/1 --version 1"
    )
    assert not (bench.target(EXPORT) / "half/2").exists()
    bench.ok("model", "add", "half", bench.target(f"{EXPORT}/half/1"), "--version", "1")
    assert "got 2.5 for 1" in bench.ok("model", "test", "half")


def test_a_malformed_savedmodel_is_one_sentence(sandbox: Sandbox, tmp_path: Path) -> None:
    """Item 8: invalid UTF-8 in saved_model.pb used to exit 70 with a traceback file."""
    bad = tmp_path / "bad"
    shutil.copytree(SHIPPED, bad)
    pb = bad / "saved_model.pb"
    pb.write_bytes(pb.read_bytes().replace(b"serving_default", b"serving_\xffefault"))
    done = sandbox.run_cli("model", "add", "bad", str(bad), env=sandbox.env())
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Failed: {bad}/saved_model.pb is not a SavedModel protocol buffer" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert not sandbox.target(f"{EXPORT}/bad").exists()
