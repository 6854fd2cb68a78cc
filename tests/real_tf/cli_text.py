"""What ``saved_model_cli show --all`` prints, read back into signatures: the reference our
SavedModel parser is compared with (TensorFlow's own reading of the same file).

The format, from tensorflow/python/tools/saved_model_cli.py (_show_all,
_show_inputs_outputs_mgd, _print_tensor_info; unchanged from TF 1.x to 2.21)::

    MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:

    signature_def['NAME']:
      The given SavedModel SignatureDef contains the following input(s):
        inputs['ALIAS'] tensor_info:
            dtype: DT_FLOAT
            shape: (-1, 1)          # "unknown_rank" when the rank is unknown
            name: x:0
      The given SavedModel SignatureDef contains the following output(s):
        outputs['ALIAS'] tensor_info: ...
      Method name is: tensorflow/serving/predict

An alias is printed between single quotes without escaping, so one holding a quote is read
up to the last quote on its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Shape = tuple[int, ...] | None


@dataclass(frozen=True)
class TensorView:
    dtype: str
    shape: Shape


@dataclass
class SignatureView:
    """One signature as both readers can give it, for comparison with ``==``."""

    method: str = ""
    inputs: dict[str, TensorView] = field(default_factory=dict)
    outputs: dict[str, TensorView] = field(default_factory=dict)


_META = re.compile(r"^MetaGraphDef with tag-set: '(.*)' contains the following SignatureDefs:$")
_SIGNATURE = re.compile(r"^signature_def\['(.*)'\]:$")
_TENSOR = re.compile(r"^\s+(inputs|outputs)\['(.*)'\] tensor_info:$")
_FIELD = re.compile(r"^\s+(dtype|shape|name): (.*)$")
_METHOD = re.compile(r"^\s+Method name is: ?(.*)$")


def parse_shape(text: str) -> Shape:
    if text == "unknown_rank":
        return None
    inner = text.strip().removeprefix("(").removesuffix(")").strip()
    return tuple(int(d) for d in inner.split(",") if d.strip()) if inner else ()


def parse_show_all(text: str, tag_set: str = "serve") -> dict[str, SignatureView]:
    """The signatures of the meta graph with ``tag_set`` (tags joined with ", ")."""
    out: dict[str, SignatureView] = {}
    in_tag_set = False
    sig: SignatureView | None = None
    side: dict[str, TensorView] | None = None
    alias = ""
    for line in text.splitlines():
        if m := _META.match(line):
            in_tag_set, sig = m.group(1) == tag_set, None
        elif not in_tag_set:
            continue
        elif m := _SIGNATURE.match(line):
            sig = out.setdefault(m.group(1), SignatureView())
        elif sig is not None and (m := _TENSOR.match(line)):
            side = sig.inputs if m.group(1) == "inputs" else sig.outputs
            alias = m.group(2)
            side[alias] = TensorView("", None)
        elif sig is not None and side is not None and (m := _FIELD.match(line)):
            key, value = m.groups()
            old = side[alias]
            if key == "dtype":
                side[alias] = TensorView(value.strip(), old.shape)
            elif key == "shape":
                side[alias] = TensorView(old.dtype, parse_shape(value))
        elif sig is not None and (m := _METHOD.match(line)):
            sig.method, side = m.group(1).strip(), None
    return out
