"""Writes the tiny model emlsetup ships: y = x / 2 + 2 (SavedModel, version 1).

Run once, by hand, in a throwaway virtualenv with TensorFlow (never a dependency of the
project): ``python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu &&
/tmp/tf/bin/python tools/make_half_plus_two.py steps/models/half_plus_two/1``.

A TF1-style graph (Placeholder, two variables, Mul, Add) saved with the v1 SavedModel
builder: the ops and the ``serving_default`` predict signature exist since TensorFlow 1.0,
so the TensorFlow Serving 1.8 the tutorial builds loads it too. Input "x": DT_FLOAT
[-1, 1]; output "y": DT_FLOAT [-1, 1].
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def main(out: str) -> None:
    import tensorflow as tf  # the throwaway venv's

    v1 = tf.compat.v1
    v1.disable_eager_execution()
    target = Path(out)
    if target.exists():
        shutil.rmtree(target)
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, shape=[None, 1], name="x")
        # Ref variables (VariableV2), "Add" rather than TF2's "AddV2", and an unsharded
        # saver: only ops that TensorFlow 1.8 knows.
        a = v1.Variable(0.5, name="a", use_resource=False)
        b = v1.Variable(2.0, name="b", use_resource=False)
        y = tf.raw_ops.Add(x=tf.raw_ops.Mul(x=a, y=x), y=b, name="y")
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            signature = v1.saved_model.signature_def_utils.predict_signature_def(
                inputs={"x": x}, outputs={"y": y}
            )
            builder = v1.saved_model.builder.SavedModelBuilder(str(target))
            builder.add_meta_graph_and_variables(
                sess,
                [v1.saved_model.tag_constants.SERVING],
                signature_def_map={"serving_default": signature},
                strip_default_attrs=True,
                saver=v1.train.Saver(sharded=False),
            )
            builder.save()
            print(sess.run(y, {x: [[1.0], [2.0], [5.0]]}).tolist())


if __name__ == "__main__":
    main(sys.argv[1])
