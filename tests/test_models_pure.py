"""The pure parts of `emlsetup model`: SavedModel layout and signature, config.cnf edits,
tensor dtypes -> HANA column types. Samples are real: the shipped model (made by
tools/make_half_plus_two.py with TensorFlow), the tutorial's empty config.cnf and configs
as admins write them (TF Serving docs, blog posts: commas, nested policies, list syntax).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from steps.models import config_text as ct
from steps.models.hana_types import SignatureMappingError, layout
from steps.models.savedmodel import (
    SavedModelError,
    Signature,
    Tensor,
    layout_problem,
    parse_signatures,
    read_signatures,
)

SHIPPED = Path(__file__).resolve().parent.parent / "steps/models/half_plus_two/1"

TUTORIAL = "model_config_list: {\n}\n"
DOCS = """\
model_config_list {
  config {
    name: 'my_first_model'
    base_path: '/tmp/my_first_model/'
    model_platform: 'tensorflow'
  }
  config {
    name: 'my_second_model'
    base_path: '/tmp/my_second_model/'
    model_platform: 'tensorflow'
  }
}
"""
COMMAS_AND_POLICY = """\
# two models; dnn keeps its last 2 versions
model_config_list: {
    config: {
        name: "dnn",
        base_path: "/model/dnn/data/",
        model_platform: "tensorflow",
        model_version_policy: {
            latest: {
                num_versions: 2
            }
        }
    },
    config: {
        name: "brand_model",
        base_path: "/models/brand_model",
        model_platform: "tensorflow"
    }
}
"""
LIST_SYNTAX = """\
model_config_list: {
  config: [
    {name: "recommendation", base_path: "/models/recommendation"},
    {name: "classification", base_path: "/models/classification"}
  ]
}
"""
ONE_LINE = 'model_config_list { config { name: "a" base_path: "/m/a" } }'


# -- SavedModel ---------------------------------------------------------------------------


def test_the_shipped_model_is_a_savedmodel_with_the_signature_it_promises() -> None:
    assert layout_problem(SHIPPED) is None
    sig = read_signatures(SHIPPED)["serving_default"]
    assert sig.method == "tensorflow/serving/predict"
    assert sig.inputs == (Tensor("x", "DT_FLOAT", (-1, 1)),)
    assert sig.outputs == (Tensor("y", "DT_FLOAT", (-1, 1)),)


def test_layout_problems_are_one_sentence_naming_what_is_missing(tmp_path: Path) -> None:
    assert "does not exist" in str(layout_problem(tmp_path / "nope"))
    (tmp_path / "f").write_text("x")
    assert "is a file" in str(layout_problem(tmp_path / "f"))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no saved_model.pb" in str(layout_problem(empty))
    no_vars = tmp_path / "novars"
    no_vars.mkdir()
    shutil.copy(SHIPPED / "saved_model.pb", no_vars)
    assert "no variables/ folder" in str(layout_problem(no_vars))
    text = tmp_path / "text"
    text.mkdir()
    (text / "saved_model.pbtxt").write_text("saved_model_schema_version: 1")
    assert "saved_model.pbtxt (text format)" in str(layout_problem(text))
    base = tmp_path / "base"
    shutil.copytree(SHIPPED, base / "1")
    shutil.copytree(SHIPPED, base / "3")
    problem = str(layout_problem(base))
    assert "version folders (1, 3)" in problem and str(base / "3") in problem


def test_a_file_that_is_not_a_protocol_buffer_is_a_sentence(tmp_path: Path) -> None:
    shutil.copytree(SHIPPED, tmp_path / "m")
    (tmp_path / "m/saved_model.pb").write_bytes(b"\xff\xff\xff")
    with pytest.raises(SavedModelError, match="not a SavedModel protocol buffer"):
        read_signatures(tmp_path / "m")


def test_a_savedmodel_without_a_serve_graph_is_refused() -> None:
    # SavedModel {2: MetaGraphDef {1: MetaInfoDef {4: "train"}}}
    info = b"\x22\x05train"
    graph = b"\x0a" + bytes([len(info)]) + info
    with pytest.raises(SavedModelError, match="tagged 'serve'"):
        parse_signatures(b"\x12" + bytes([len(graph)]) + graph)


# -- config.cnf ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [TUTORIAL, DOCS, COMMAS_AND_POLICY, LIST_SYNTAX, ONE_LINE, ""])
def test_adding_keeps_every_entry_and_adding_twice_changes_nothing(text: str) -> None:
    before = ct.models(text)
    once = ct.add_model(text, "half_plus_two", "/home/tmsadm/export/half_plus_two")
    assert ct.models(once) == [
        *before,
        ct.ModelEntry("half_plus_two", "/home/tmsadm/export/half_plus_two", "tensorflow"),
    ]
    assert ct.add_model(once, "half_plus_two", "/home/tmsadm/export/half_plus_two") == once
    assert ct.models(ct.remove_model(once, "half_plus_two")) == before
    if text and text != ONE_LINE:  # spliced, not rewritten: removing it gives the bytes back
        assert ct.remove_model(once, "half_plus_two") == text


def test_removing_keeps_the_others_and_their_comments() -> None:
    out = ct.remove_model(COMMAS_AND_POLICY, "dnn")
    assert [m.name for m in ct.models(out)] == ["brand_model"]
    assert out.startswith("# two models; dnn keeps its last 2 versions\n")
    assert "num_versions" not in out
    assert ct.remove_model(out, "dnn") == out


@pytest.mark.parametrize("name", ["recommendation", "classification"])
def test_removing_from_list_syntax_leaves_a_valid_list(name: str) -> None:
    out = ct.remove_model(LIST_SYNTAX, name)
    assert [m.name for m in ct.models(out)] == [
        n for n in ("recommendation", "classification") if n != name
    ]
    assert ",\n  ]" not in out and "[\n    ," not in out.replace(" ", "")


def test_the_same_name_for_another_folder_is_a_sentence_not_an_overwrite() -> None:
    with pytest.raises(ct.ConfigError, match="already has a model named dnn at /model/dnn"):
        ct.add_model(COMMAS_AND_POLICY, "dnn", "/home/tmsadm/export/dnn")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("model_config_list: {\n  config {\n", "missing"),
        ("model_config_list: { config { name: } }", "value for name"),
        ("custom_model_config { }", "custom_model_config"),
        ("model_config_list {}\nmodel_config_list {}\n", "twice"),
        ('model_config_list { config { name: "a" } } %', "line 1"),
    ],
)
def test_a_config_we_cannot_edit_is_one_sentence(text: str, words: str) -> None:
    with pytest.raises(ct.ConfigError, match=words):
        ct.add_model(text, "m", "/x/m")


# -- HANA column types --------------------------------------------------------------------


def test_the_shipped_signature_maps_to_float_columns() -> None:
    lay = layout(read_signatures(SHIPPED)["serving_default"])
    assert [[(c.name, c.sql) for c in t] for t in lay.inputs] == [[("x", "FLOAT")]]
    assert [(c.name, c.sql) for c in lay.outputs] == [("y", "FLOAT")]


def test_a_vector_tensor_becomes_one_column_per_element_and_each_input_a_table() -> None:
    sig = Signature(
        "predict",
        "tensorflow/serving/predict",
        (Tensor("features", "DT_FLOAT", (-1, 3)), Tensor("id", "DT_INT64", (-1,))),
        (Tensor("classes", "DT_STRING", (-1, 1)),),
    )
    lay = layout(sig)
    assert [[(c.name, c.sql) for c in t] for t in lay.inputs] == [
        [("features_0", "FLOAT"), ("features_1", "FLOAT"), ("features_2", "FLOAT")],
        [("id", "INTEGER")],
    ]
    assert [(c.name, c.sql) for c in lay.outputs] == [("classes", "VARCHAR(100)")]


@pytest.mark.parametrize(
    ("tensor", "words"),
    [
        (Tensor("z", "DT_COMPLEX64", (-1, 1)), "DT_COMPLEX64, which no SAP source maps"),
        (Tensor("img", "DT_FLOAT", (-1, 28, 28)), r"shape \[-1, 28, 28\]"),
        (Tensor("v", "DT_FLOAT", (-1, -1)), r"shape \[-1, -1\]"),
    ],
)
def test_an_unsupported_tensor_is_a_sentence(tensor: Tensor, words: str) -> None:
    sig = Signature("s", "tensorflow/serving/predict", (tensor,), (Tensor("y", "DT_FLOAT", (-1,)),))
    with pytest.raises(SignatureMappingError, match=words):
        layout(sig)


# -- the validation screen's line -----------------------------------------------------------


def test_the_smoke_prediction_line_tells_the_last_answer_or_how_to_get_one(tmp_path: Path) -> None:
    from steps.models import journal as jn

    assert "none yet (emlsetup model add half_plus_two" in jn.smoke_prediction(tmp_path)
    j = jn.Journal()
    rec = jn.ModelRecord(command="test", model="half_plus_two", status="done")
    rec.result = "HANA asked TensorFlow and got 2.5 for 1"
    j.records.append(rec)
    jn.save(tmp_path, j)
    line = jn.smoke_prediction(tmp_path)
    assert line.startswith("Smoke prediction (half_plus_two, ")
    assert line.endswith("HANA asked TensorFlow and got 2.5 for 1.")
    failed = jn.ModelRecord(command="test", model="m", status="failed")
    failed.phases.append(jn.Phase(name="predict", status="failed", said="EML: no model m"))
    j.records.append(failed)
    jn.save(tmp_path, j)
    assert jn.smoke_prediction(tmp_path).endswith("failed: EML: no model m")
    j.records.append(jn.ModelRecord(command="remove", model="m", status="done"))
    jn.save(tmp_path, j)  # a removed model's test is not today's smoke prediction
    assert jn.smoke_prediction(tmp_path).endswith("HANA asked TensorFlow and got 2.5 for 1.")


def test_only_the_same_command_resumes_an_interrupted_one(tmp_path: Path) -> None:
    import io

    from steps.core.session import Options, Session
    from steps.models.commands import ModelOps
    from tests.sandbox import Sandbox

    sb = Sandbox.create(tmp_path / "sb")
    session = Session.open(Options(root=sb.root, state_dir=sb.state_dir, environ={}))
    out = io.StringIO()
    first = ModelOps(session, None, out).record("add", "m", version=1, source="/a")
    # a kill leaves it "running"; the same command resumes it, another one starts anew
    again = ModelOps(session, None, out).record("add", "m", version=1, source="/a")
    assert (
        again.started == first.started
        and "Resuming the interrupted `model add m`" in out.getvalue()
    )
    ops = ModelOps(session, None, io.StringIO())
    other = ops.record("add", "m", version=2, source="/a")
    assert other.version == 2
    assert [(r.version, r.status) for r in ops.journal.records] == [
        (1, "abandoned"),
        (2, "running"),
    ]


def test_the_restart_finds_the_server_on_its_port_and_trusts_no_recycled_pid() -> None:
    """A restart cut short leaves a server whose pid was never saved: it is the process
    listening on the port. A saved pid may belong to another program by now."""
    import os
    import socket
    import subprocess
    import sys

    from steps.models.restart import listening_pid, runs

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert listening_pid(port) == os.getpid()
    assert listening_pid(port) is None
    assert runs(os.getpid(), sys.executable)
    assert not runs(os.getpid(), "/usr/bin/tensorflow_model_server")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert not runs(int(done.stdout), sys.executable)  # it has ended


def test_a_rollback_that_cannot_undo_everything_says_what_is_left_and_how_to_finish(
    tmp_path: Path,
) -> None:
    """Item 10: the copy goes; the row cannot (no HANA now): said, with both ways out."""
    import io

    from steps.core.session import Options, Session
    from steps.models.commands import ModelOps
    from steps.models.rollback import roll_back
    from tests.sandbox import Sandbox

    sb = Sandbox.create(tmp_path / "sb")
    session = Session.open(Options(root=sb.root, state_dir=sb.state_dir, environ={}))
    ops = ModelOps(session, None, io.StringIO())
    rec = ops.record("add", "m", version=3, source="/models/m/3")
    copy = sb.target("/home/tmsadm/export/m/3")
    shutil.copytree(SHIPPED, copy)
    ops.intend(rec, "copy:/home/tmsadm/export/m/3")
    ops.intend(rec, "row")
    said = roll_back(ops, rec)
    assert not copy.exists() and not copy.parent.exists()
    assert said.startswith("Rolled back: the copy /home/tmsadm/export/m/3. Left: the ")
    assert "_SYS_AFL.EML_MODEL_CONFIGURATION row (`emlsetup model remove m` removes it, " in said
    assert (
        "`emlsetup model add m /models/m/3 --version 3` finishes the add): no HANA access" in said
    )
    assert rec.status == "failed"
