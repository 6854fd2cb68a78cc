"""Write a set of small SavedModels with real TensorFlow, and record what TensorFlow itself
says about each: ``saved_model_cli show --all``, the writer's version (MetaInfoDef
tensorflow_version / tensorflow_git_version) and the model's answers to sample inputs.

    PYTHON_WITH_TENSORFLOW tests/real_tf/write_savedmodels.py OUT [--cli]

Runs in ONE Python process (importing TensorFlow costs seconds; the real Debian lane runs it
inside its root). It needs only TensorFlow, never emlsetup. OUT gets:

- ``models/NAME/VERSION/``: the SavedModel (saved_model.pb + variables/), TensorFlow
  Serving's layout;
- ``cli/NAME-VERSION.txt``: what ``saved_model_cli show --all --dir ...`` prints for it
  (the function that command runs, called in this process; ``--cli`` runs the command itself
  per model instead, several seconds each);
- ``manifest.json``: per model version its writer, TensorFlow's version, the ops of its
  graph, the files it wrote in variables/ (none for a graph without variables), and real
  TensorFlow's outputs for ``smoke`` (1 for every number, "a" for every string, one row:
  what ``emlsetup model test`` sends) and ``sample`` inputs (two rows), or the kernel's
  own sentence of TensorFlow's INVALID_ARGUMENT (``error``) where it refuses them.

This is the one writer of the SavedModels the tests use: its output is committed in
tests/fixtures/savedmodels (see the README there for the version that wrote it), and the
real Debian lane (tests/test_real_debian.py) runs it again inside its root.

The models (see ``TF1`` and ``write_tf2``): SAP's Iris tutorial's signature (sap-tutorials
mlb-hxe-tensorflow-iris, iris_export_savedmodel.py: raw float inputs PetalLength,
PetalWidth, SepalLength, SepalWidth of shape [-1, 1] from build_raw_serving_input_receiver_fn;
outputs predicted_class_id, DT_INT64 [-1, 1], the DNN head's ExpandDims of the arg max, and
probabilities, DT_FLOAT [-1, 3]), other signature names, two inputs, int64, string, a
[-1, 3] vector, mixed-case aliases, aliases differing only in case, quoted aliases, an
unsupported dtype (uint8), a string read as a number (StringToNumber, which fails at
predict time on a text that is no number), a graph with no variable, a TF2 model
(tf.Module + tf.function, tf.saved_model.save, which adds ``__saved_model_init_op``), and a
model in two versions with different signatures. TF1-style ones are written the tutorial's
way (a graph, a session, tf.compat.v1.saved_model.Builder, tag "serve").
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # saved_model_cli prints a graph's ops as a Python set: with a fixed hash seed in the
    # same order every run, so writing the set again changes no cli/ text it need not.
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402  (TensorFlow's dependency)
import tensorflow as tf  # noqa: E402

v1 = tf.compat.v1
F32, I64 = tf.float32, tf.int64
# Two rows of the Iris test set (versicolor, virginica), as the tutorial's client sends them.
IRIS_ROWS = {"PetalLength": [4.2, 5.4], "PetalWidth": [1.5, 2.1], "SepalLength": [5.9, 6.9],
             "SepalWidth": [3.0, 3.1]}  # fmt: skip


def _var(name: str, value: Any, dtype: Any = F32) -> Any:
    return v1.Variable(np.array(value, dtype=dtype.as_numpy_dtype), name=name)


def iris() -> tuple[dict[str, Any], dict[str, Any]]:
    """Four [-1, 1] features -> a linear layer -> softmax; the class id as the DNN head
    gives it (ArgMax then ExpandDims, int64 [-1, 1])."""
    feats = {k: v1.placeholder(F32, [None, 1], name=f"{k}_1") for k in sorted(IRIS_ROWS)}
    # Rows: the features in signature order; columns: setosa, versicolor, virginica. Chosen so
    # that the smoke row (all 1) is class 0 and the two sample rows are classes 1 and 2.
    weights = _var("weights", [[-1.0, 0.5, 1.0], [-1.0, 0.5, 2.0], [0.5, 0.0, 0.0],
                               [1.0, 0.0, 0.0]])  # fmt: skip
    bias = _var("bias", [0.0, -2.0, -7.1])
    logits = tf.matmul(tf.concat([feats[k] for k in sorted(feats)], 1), weights) + bias
    probabilities = tf.nn.softmax(logits, name="probabilities")
    class_id = tf.expand_dims(tf.argmax(probabilities, 1), -1, name="ExpandDims")
    return feats, {"predicted_class_id": class_id, "probabilities": probabilities}


def linear(alias_in: str = "x", alias_out: str = "y", a: float = 3.0, b: float = 1.0) -> Any:
    def build() -> tuple[dict[str, Any], dict[str, Any]]:
        x = v1.placeholder(F32, [None], name="x")
        return {alias_in: x}, {alias_out: tf.identity(x * _var("a", a) + _var("b", b), "y")}

    return build


def two_inputs() -> tuple[dict[str, Any], dict[str, Any]]:
    a = v1.placeholder(F32, [None], name="a")
    b = v1.placeholder(F32, [None], name="b")
    return {"a": a, "b": b}, {"weighted_sum": tf.identity(a * _var("w", 2.0) + b, "sum")}


def int64_io() -> tuple[dict[str, Any], dict[str, Any]]:
    x = v1.placeholder(I64, [None], name="count")
    return {"count": x}, {"doubled": tf.identity(x * _var("two", 2, I64) + 1, "doubled")}


def string_io() -> tuple[dict[str, Any], dict[str, Any]]:
    word = v1.placeholder(tf.string, [None], name="word")
    _var("unused", 0.0)  # a real export has variables/ even when the graph needs none
    greeting = tf.strings.join(["Hello, ", word, "!"], name="greeting")
    return {"word": word}, {"greeting": greeting}


def vector3() -> tuple[dict[str, Any], dict[str, Any]]:
    x = v1.placeholder(F32, [None, 3], name="x")
    scaled = tf.identity(x * _var("scale", [1.0, 2.0, 3.0]), "scaled")
    return {"x": x}, {"scaled": scaled, "total": tf.reduce_sum(scaled, 1, name="total")}


def mixed_case() -> tuple[dict[str, Any], dict[str, Any]]:
    sepal = v1.placeholder(F32, [None], name="SepalLength")
    petal = v1.placeholder(F32, [None], name="petalWidth")
    score = tf.identity(sepal * _var("k", 0.5) - petal, "Score")
    return {"SepalLength": sepal, "petalWidth": petal}, {"ClassScore": score}


def case_twins() -> tuple[dict[str, Any], dict[str, Any]]:
    """Aliases that differ only in case: distinct to TensorFlow, one name to an unquoted SQL
    identifier."""
    low = v1.placeholder(F32, [None], name="x_low")
    up = v1.placeholder(F32, [None], name="x_up")
    diff = tf.identity(low - up * _var("k", 2.0), "diff")
    return {"x": low, "X": up}, {"y": tf.identity(low + up, "sum"), "Y": diff}


def uint8_io() -> tuple[dict[str, Any], dict[str, Any]]:
    pixel = v1.placeholder(tf.uint8, [None], name="pixel")
    _var("unused", 0.0)
    return {"pixel": pixel}, {"inverted": tf.identity(255 - pixel, "inverted")}


def parse_number() -> tuple[dict[str, Any], dict[str, Any]]:
    """A string in, the number it spells out (StringToNumber): a text that is no number is
    TensorFlow's INVALID_ARGUMENT at predict time, as the smoke row's "a" is."""
    text = v1.placeholder(tf.string, [None], name="text")
    number = tf.identity(tf.strings.to_number(text) * _var("one", 1.0), "number")
    return {"text": text}, {"number": number}


def no_variables() -> tuple[dict[str, Any], dict[str, Any]]:
    """A graph with no variable: SavedModelBuilder makes no saver and leaves variables/
    empty (git, which keeps no empty folder, then drops it)."""
    x = v1.placeholder(F32, [None], name="x")
    return {"x": x}, {"y": tf.identity(x * 2.0 + 1.0, "y")}


def two_signatures() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    x = v1.placeholder(F32, [None], name="x")
    k = _var("k", 4.0)
    return {"scores": ({"x": x}, {"score": x * k}), "halves": ({"x": x}, {"half": x / 2.0})}


TF1: dict[str, tuple[int, Callable[[], Any], str]] = {
    # name: (version, graph builder, signature key when not serving_default)
    "iris": (1, iris, ""),
    "other_signature": (1, linear(), "predict"),
    "two_inputs": (1, two_inputs, ""),
    "int64_io": (1, int64_io, ""),
    "string_io": (1, string_io, ""),
    "vector3": (1, vector3, ""),
    "mixed_case": (1, mixed_case, ""),
    "case_twins": (1, case_twins, ""),
    "quoted_alias": (1, linear("it's", 'say "hi"'), ""),
    "uint8_io": (1, uint8_io, ""),
    "parse_number": (1, parse_number, ""),
    "no_variables": (1, no_variables, ""),
    "two_signatures": (1, two_signatures, "*"),
    "versioned": (1, linear(a=0.5, b=2.0), ""),
}
VERSIONED_2 = ("versioned", 2, two_inputs)

SMOKE = {tf.string: b"a"}
# Sample rows of a string input whose model reads it as a number (parse_number).
NUMBER_TEXTS = {"text": [b"2.5", b"-4"]}


def _smoke(t: Any) -> Any:
    value = SMOKE.get(t.dtype, 1)
    width = t.shape[1] if t.shape.rank == 2 else None
    return np.array([[value] * width] if width else [value], dtype=t.dtype.as_numpy_dtype)


def _sample(alias: str, t: Any) -> Any:
    if alias in IRIS_ROWS and t.shape.rank == 2:
        return np.array([[v] for v in IRIS_ROWS[alias]], dtype=np.float32)
    if t.dtype == tf.string:
        return np.array(NUMBER_TEXTS.get(alias, [b"SAP", b"HANA"]), dtype=object)
    base = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, 1.0]] if t.shape.rank == 2 else [7, 250])
    return base.astype(t.dtype.as_numpy_dtype)


def write_tf1(out: Path, name: str, version: int, build: Callable[[], Any], key: str) -> Path:
    folder = out / "models" / name / str(version)
    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as sess:
        built = build()
        sigs = built if key == "*" else {key or "serving_default": built}
        sess.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(str(folder))
        builder.add_meta_graph_and_variables(
            sess,
            [v1.saved_model.tag_constants.SERVING],
            signature_def_map={
                k: v1.saved_model.predict_signature_def(inputs=i, outputs=o)
                for k, (i, o) in sigs.items()
            },
        )
        builder.save()
        answers = {
            k: {which: _run_v1(sess, i, o, which) for which in ("smoke", "sample")}
            for k, (i, o) in sigs.items()
        }
    return _record(out, folder, name, version, "tf1 SavedModelBuilder", answers)


def _run_v1(sess: Any, inputs: dict[str, Any], outputs: dict[str, Any], which: str) -> Any:
    feed = {a: (_smoke(t) if which == "smoke" else _sample(a, t)) for a, t in inputs.items()}
    try:
        got = sess.run(outputs, {inputs[a]: v for a, v in feed.items()})
    except tf.errors.InvalidArgumentError as exc:  # TF's own refusal of these inputs
        return {"inputs": _plain(feed), "error": _op_message(exc.message)}
    return {"inputs": _plain(feed), "outputs": _plain(got)}


def _op_message(message: str) -> str:
    """The kernel's own sentence of a session error ("StringToNumberOp could not ..."),
    without the lines TensorFlow wraps it in (where the node was defined, its name)."""
    wrap = ("Graph execution error", "Detected at node", "Node:")
    lines = [x for x in message.splitlines() if x and not x[0].isspace()]
    return [x for x in lines if not x.startswith(wrap)][-1]


class Scaler(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = tf.Variable(3.0)

    @tf.function(input_signature=[tf.TensorSpec([None], F32, name="x")])
    def predict(self, x: Any) -> dict[str, Any]:
        return {"y": x * self.scale - 1.0}


def write_tf2(out: Path) -> Path:
    """A TF2 model with one custom signature: tf.saved_model.save adds
    ``__saved_model_init_op`` to the signature map beside it."""
    folder = out / "models" / "tf2_module" / "1"
    module = Scaler()
    tf.saved_model.save(module, str(folder), signatures={"predict": module.predict})
    fn = tf.saved_model.load(str(folder)).signatures["predict"]
    answers = {"predict": {}}
    for which, xs in (("smoke", [1.0]), ("sample", [7.0, 250.0])):
        feed = {"x": np.array(xs, dtype=np.float32)}
        answers["predict"][which] = {"inputs": _plain(feed), "outputs": _plain(fn(**feed))}
    return _record(out, folder, "tf2_module", 1, "tf2 tf.saved_model.save", answers)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    def one(v: Any) -> Any:
        v = v.numpy() if hasattr(v, "numpy") else v
        if v.dtype == object:
            return [[b.decode() for b in r] if v.ndim == 2 else r.decode() for r in v]
        return v.tolist()

    return {k: one(v) for k, v in values.items()}


MANIFEST: dict[str, Any] = {}


def _record(
    out: Path, folder: Path, name: str, version: int, writer: str, answers: dict[str, Any]
) -> Path:
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    graph = sm.meta_graphs[0]
    info = graph.meta_info_def
    MANIFEST[f"{name}/{version}"] = {
        "path": f"models/{name}/{version}",
        "writer": writer,
        "tensorflow_version": info.tensorflow_version,
        "tensorflow_git_version": info.tensorflow_git_version,
        "tags": list(info.tags),
        "signatures": sorted(graph.signature_def),
        "variables_files": sorted(p.name for p in (folder / "variables").iterdir()),
        "serving_ops": _serving_ops(graph),
        "answers": answers,
    }
    return folder


def _serving_ops(graph: Any) -> list[str]:
    """The ops a Predict on any signature runs: those its outputs depend on, the bodies of
    the functions they call included (not the checkpoint save/restore ops)."""
    nodes = {n.name: n for n in graph.graph_def.node}
    functions = {f.signature.name: f for f in graph.graph_def.library.function}
    todo = [t.name for s in graph.signature_def.values() for t in s.outputs.values()]
    seen: set[str] = set()
    ops: set[str] = set()
    called: list[str] = []
    while todo:
        name = todo.pop().lstrip("^").split(":")[0]
        if name in seen or name not in nodes:
            continue
        seen.add(name)
        ops.add(nodes[name].op)
        todo += list(nodes[name].input)
        called += [a.func.name for a in nodes[name].attr.values() if a.func.name]
    while called:
        body = functions.pop(called.pop(), None)
        for n in body.node_def if body else []:
            ops.add(n.op)
            called += [a.func.name for a in n.attr.values() if a.func.name]
    return sorted(ops)


def show_all(folder: Path, real_cli: bool) -> str:
    from tensorflow.python.tools import saved_model_cli

    if real_cli or not hasattr(saved_model_cli, "_show_all"):  # a private name: may go
        exe = Path(sys.executable).with_name("saved_model_cli")
        argv = [str(exe), "show", "--all", "--dir", str(folder)]
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        return done.stdout
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        saved_model_cli._show_all(str(folder))  # what `show --all` calls
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--cli", action="store_true", help="run saved_model_cli per model")
    opts = ap.parse_args()
    out: Path = opts.out
    if (out / "models").exists():
        print(f"{out / 'models'} exists; give an empty folder", file=sys.stderr)
        return 2
    folders = [write_tf1(out, n, ver, b, k) for n, (ver, b, k) in TF1.items()]
    folders.append(write_tf1(out, *VERSIONED_2, ""))
    folders.append(write_tf2(out))
    (out / "cli").mkdir(parents=True, exist_ok=True)
    for folder in folders:
        text = show_all(folder, opts.cli)
        (out / "cli" / f"{folder.parent.name}-{folder.name}.txt").write_text(text)
    (out / "manifest.json").write_text(json.dumps(MANIFEST, indent=1, sort_keys=True) + "\n")
    print(f"{len(folders)} SavedModels written by TensorFlow {tf.__version__} in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
