"""Our SavedModel parser against TensorFlow's own reading, on the SavedModels real
TensorFlow wrote (tests/fixtures/savedmodels, written by tests/real_tf/write_savedmodels.py;
its README lists them and the version that wrote them): for every model version, the
signatures, their methods, inputs and outputs with dtypes and shapes are what
``saved_model_cli show --all`` printed for the same file. The real Debian lane
(test_real_debian.py) does the same on models its root's TensorFlow writes at test time."""

from __future__ import annotations

import pytest

from tests.real_tf import adapter
from tests.real_tf.cli_text import parse_show_all
from tests.real_tf.written import COMMITTED

FIXTURES = COMMITTED.base
MANIFEST = COMMITTED.manifest


@pytest.mark.parametrize("key", sorted(MANIFEST))
def test_the_parser_reads_what_saved_model_cli_shows(key: str) -> None:
    adapter.assert_reads_like_saved_model_cli(FIXTURES, key)


def test_the_fixtures_cover_what_issue_24_names() -> None:
    """The set itself: SAP's Iris signature, a TF2 init op, int64, string, [-1, 3]."""
    cli = {k: parse_show_all((FIXTURES / "cli" / f"{k.replace('/', '-')}.txt").read_text())
           for k in MANIFEST}  # fmt: skip
    iris = cli["iris/1"]["serving_default"]
    assert {a: (t.dtype, t.shape) for a, t in iris.inputs.items()} == {
        a: ("DT_FLOAT", (-1, 1)) for a in ("PetalLength", "PetalWidth", "SepalLength", "SepalWidth")
    }
    assert {a: (t.dtype, t.shape) for a, t in iris.outputs.items()} == {
        "predicted_class_id": ("DT_INT64", (-1, 1)),
        "probabilities": ("DT_FLOAT", (-1, 3)),
    }
    assert set(cli["tf2_module/1"]) == {adapter.INIT_OP, "predict"}
    dtypes = {t.dtype for c in cli.values() for s in c.values() for t in s.inputs.values()}
    assert {"DT_FLOAT", "DT_INT64", "DT_STRING", "DT_UINT8"} <= dtypes
    # one TensorFlow wrote them all, and the README says which
    (version,) = {m["tensorflow_version"] for m in MANIFEST.values()}
    assert f"real TensorFlow {version}" in (FIXTURES / "README.md").read_text()
