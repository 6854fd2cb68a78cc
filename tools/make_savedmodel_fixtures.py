"""Writes the small SavedModels of tests/fixtures/savedmodels/ with real TensorFlow.

Run once, by hand, in a throwaway virtualenv with TensorFlow (never a dependency of the
project): ``python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu &&
/tmp/tf/bin/python tools/make_savedmodel_fixtures.py tests/fixtures/savedmodels``. The
parser (steps/models/savedmodel.py) and the TF Serving stand-in's evaluator are tested on
these files; ``saved_model_cli show --all`` of each is written beside it
(``NAME/cli-VERSION.txt``).

- iris/1: SAP's Iris layout (sap-tutorials mlb-hxe-tensorflow-iris): four DT_FLOAT [-1, 1]
  inputs PetalLength, PetalWidth, SepalLength, SepalWidth; outputs predicted_class_id
  (DT_INT64 [-1, 1], the class with the highest probability) and probabilities (DT_FLOAT
  [-1, 3], a softmax);
- sum/1: signature "predict" only, two inputs a, b (DT_FLOAT [-1]), output total = a + b;
- counts/1: DT_INT64 [-1] in, doubled = 2 * count out;
- greet/1: DT_STRING [-1] in (name), greeting = "hello " + name out;
- vector/1: features DT_FLOAT [-1, 3] in, sum DT_FLOAT [-1, 1] and scaled [-1, 3] out;
- mixed/1: aliases that differ in case only: x and X in, Y = x - X and y = x + X out;
- parse/1: text DT_STRING [-1] in, number = the text as a float out (StringToNumber: a
  text that is no number is TensorFlow's INVALID_ARGUMENT, a failure at predict time);
- signatures/1: two signatures, double (y = 2x) and triple (y = 3x), no serving_default;
- tf2/1: a TF2 model (tf.saved_model.save of a tf.Module): one signature "scale" (y =
  3 * x), so the graph has __saved_model_init_op and a StatefulPartitionedCall;
- versions/1 and versions/2: y = x / 2 + 2, then a second output z = x / 2 + 3.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def _v1_model(
    target: Path, build: Any, signature: str | dict[str, Any] = "serving_default"
) -> None:
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        built = build(tf, v1)
        sigs = built if isinstance(built, dict) else {signature: built}
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            make = v1.saved_model.signature_def_utils.predict_signature_def
            builder = v1.saved_model.builder.SavedModelBuilder(str(target))
            builder.add_meta_graph_and_variables(
                sess,
                [v1.saved_model.tag_constants.SERVING],
                signature_def_map={k: make(inputs=i, outputs=o) for k, (i, o) in sigs.items()},
                strip_default_attrs=True,
                saver=v1.train.Saver(sharded=False),
            )
            builder.save()


def iris(tf: Any, v1: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    names = ["PetalLength", "PetalWidth", "SepalLength", "SepalWidth"]
    feats = {n: v1.placeholder(tf.float32, [None, 1], name=n) for n in names}
    weights = v1.Variable(
        [[0.5, -0.2, 0.1], [1.0, 0.3, -0.4], [-0.3, 0.2, 0.6], [0.2, -0.5, 0.1]],
        name="weights",
        use_resource=False,
    )
    bias = v1.Variable([0.1, 0.0, -0.1], name="bias", use_resource=False)
    joined = tf.concat([feats[n] for n in names], axis=1)
    probabilities = tf.nn.softmax(tf.matmul(joined, weights) + bias, name="probabilities")
    class_id = tf.expand_dims(tf.argmax(probabilities, axis=1), -1, name="class_id")
    return feats, {"predicted_class_id": class_id, "probabilities": probabilities}


def sum_model(tf: Any, v1: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    a = v1.placeholder(tf.float32, [None], name="a")
    b = v1.placeholder(tf.float32, [None], name="b")
    one = v1.Variable(1.0, name="one", use_resource=False)  # a model has variables
    return {"a": a, "b": b}, {"total": tf.add(a, b * one, name="total")}


def counts(tf: Any, v1: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    count = v1.placeholder(tf.int64, [None], name="count")
    two = v1.Variable(tf.constant(2, tf.int64), name="two", use_resource=False)
    return {"count": count}, {"doubled": tf.multiply(count, two, name="doubled")}


def greet(tf: Any, v1: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    name = v1.placeholder(tf.string, [None], name="name")
    hello = v1.Variable("hello ", name="hello", use_resource=False)
    return {"name": name}, {"greeting": tf.strings.join([hello, name], name="greeting")}


def parse(tf: Any, v1: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    text = v1.placeholder(tf.string, [None], name="text")
    one = v1.Variable(1.0, name="one", use_resource=False)
    return {"text": text}, {"number": tf.strings.to_number(text) * one}


def vector(tf: Any, v1: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    features = v1.placeholder(tf.float32, [None, 3], name="features")
    scale = v1.Variable([1.0, 2.0, 3.0], name="scale", use_resource=False)
    scaled = tf.multiply(features, scale, name="scaled")
    total = tf.reduce_sum(scaled, axis=1, keepdims=True, name="sum")
    return {"features": features}, {"sum": total, "scaled": scaled}


def mixed(tf: Any, v1: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    low = v1.placeholder(tf.float32, [None, 1], name="low")
    up = v1.placeholder(tf.float32, [None, 1], name="up")
    one = v1.Variable(1.0, name="one", use_resource=False)
    return {"x": low, "X": up}, {"Y": tf.subtract(low, up), "y": tf.add(low, up) * one}


def two_signatures(tf: Any, v1: Any) -> dict[str, Any]:
    x = v1.placeholder(tf.float32, [None, 1], name="x")
    k = v1.Variable(1.0, name="k", use_resource=False)
    return {
        "double": ({"x": x}, {"y": tf.multiply(x, 2.0 * k, name="double")}),
        "triple": ({"x": x}, {"y": tf.multiply(x, 3.0 * k, name="triple")}),
    }


def half(extra: bool) -> Any:
    def build(tf: Any, v1: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        x = v1.placeholder(tf.float32, [None, 1], name="x")
        a = v1.Variable(0.5, name="a", use_resource=False)
        b = v1.Variable(2.0, name="b", use_resource=False)
        half_x = tf.multiply(a, x)
        outputs = {"y": tf.add(half_x, b, name="y")}
        if extra:
            outputs["z"] = tf.add(half_x, b + 1.0, name="z")
        return {"x": x}, outputs

    return build


def tf2(target: Path) -> None:
    import tensorflow as tf

    class Scale(tf.Module):
        def __init__(self) -> None:
            self.factor = tf.Variable(3.0)

        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name="x")])
        def scale(self, x: Any) -> dict[str, Any]:
            return {"y": x * self.factor}

    module = Scale()
    tf.saved_model.save(module, str(target), signatures={"scale": module.scale})


def main(out: str) -> None:
    import tensorflow as tf  # the throwaway venv's

    tf.compat.v1.disable_eager_execution()
    base = Path(out)
    made = {
        "iris/1": lambda t: _v1_model(t, iris),
        "sum/1": lambda t: _v1_model(t, sum_model, "predict"),
        "counts/1": lambda t: _v1_model(t, counts),
        "greet/1": lambda t: _v1_model(t, greet),
        "vector/1": lambda t: _v1_model(t, vector),
        "parse/1": lambda t: _v1_model(t, parse),
        "signatures/1": lambda t: _v1_model(t, two_signatures),
        "mixed/1": lambda t: _v1_model(t, mixed),
        "versions/1": lambda t: _v1_model(t, half(False)),
        "versions/2": lambda t: _v1_model(t, half(True)),
    }
    for rel, write in made.items():
        target = base / rel
        if target.exists():
            shutil.rmtree(target)
        write(target)
    cli = Path(sys.executable).parent / "saved_model_cli"
    # TF2's saver needs eager execution: a fresh interpreter writes that one.
    target = base / "tf2/1"
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
         f"import make_savedmodel_fixtures as m; m.tf2(__import__('pathlib').Path({str(target)!r}))"],
        check=True,
    )  # fmt: skip
    for rel in [*made, "tf2/1"]:
        shown = subprocess.run(
            [str(cli), "show", "--all", "--dir", str(base / rel)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        name, version = rel.split("/")
        (base / name / f"cli-{version}.txt").write_text(shown.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
