"""The few places where the real-TensorFlow checks touch emlsetup's own API or wording, kept
in one module so that a change of that API (issue 24, branch i24-models) is one edit here.

- ``parsed_signatures``: what our SavedModel parser (steps/models/savedmodel.py) reads;
- ``answer_text``: the answer ``emlsetup model test`` reports;
- ``wrapper_call_arguments``: how many tables the model's PREDICT wrapper is called with;
- ``hana_objects``: what HANA holds for a model (its EML row, its tables and procedures).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.real_tf.cli_text import SignatureView, TensorView, parse_show_all

# TensorFlow's init op of a TF2 SavedModel (tf.saved_model.save): an entry of the signature
# map that no client calls (tensorflow/python/saved_model/constants.py, INIT_OP_SIGNATURE_KEY).
INIT_OP = "__saved_model_init_op"


def parsed_signatures(folder: Path) -> dict[str, SignatureView]:
    """Every signature our parser reads from ``folder`` (a SavedModel version folder)."""
    from steps.models.savedmodel import read_signatures

    def side(tensors: Any) -> dict[str, TensorView]:
        return {t.alias: TensorView(t.dtype, t.shape) for t in tensors}

    return {
        name: SignatureView(sig.method, side(sig.inputs), side(sig.outputs))
        for name, sig in read_signatures(folder).items()
    }


def servable(signatures: dict[str, SignatureView]) -> dict[str, SignatureView]:
    """The signatures a Predict can name: all but TF2's init op."""
    return {k: v for k, v in signatures.items() if k != INIT_OP}


def assert_reads_like_saved_model_cli(base: Path, key: str) -> None:
    """Our parser reads ``base/models/KEY`` (KEY = NAME/VERSION) as ``saved_model_cli show
    --all`` did (its text in ``base/cli/NAME-VERSION.txt``, write_savedmodels.py's layout);
    TF2's init op is left out on both sides, as no Predict names it."""
    name, version = key.split("/")
    cli = parse_show_all((base / "cli" / f"{name}-{version}.txt").read_text())
    ours = parsed_signatures(base / "models" / name / version)
    assert cli, f"saved_model_cli showed no signature for {key}"
    assert servable(ours) == servable(cli), key


_GOT = re.compile(r"HANA asked TensorFlow and got (.*?)(?: for .*)?$", re.M)


def answer_text(stdout: str) -> str | None:
    """The values ``model test`` says HANA got back, as printed ("0, 0.61205, ...")."""
    m = _GOT.search(stdout)
    return m.group(1) if m else None


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.I)


def numbers_in(text: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text)]


def wrapper_call_arguments(statements: list[str], model: str) -> list[int]:
    """For each CALL of the model's PREDICT wrapper sent to HANA, its number of arguments
    (SAP's layout: the parameter table, one table per input tensor, the output table)."""
    counts = []
    for sql in statements:
        text = sql.strip()
        upper = text.upper()
        if not upper.startswith("CALL ") or any(
            s in upper for s in ("SYS.", "_SYS_AFL", "UPDATE_CONFIGURATION")
        ):
            continue
        if model.upper() not in upper.split("(", 1)[0]:
            continue
        depth, args, started = 0, 1, False
        for ch in text[text.index("(") :]:
            if ch == "(":
                depth += 1
                started = True
            elif ch == ")":
                depth -= 1
                if started and depth == 0:
                    break
            elif ch == "," and depth == 1:
                args += 1
        counts.append(args)
    return counts


def hana_objects(query: Any, model: str) -> list[str]:
    """What HANA holds for ``model``: its EML_MODEL_CONFIGURATION row and every table or
    procedure whose name carries the model's name (upper-cased, as SQL folds it)."""
    found = [
        f"EML_MODEL_CONFIGURATION row {r[0]!r}"
        for r in query("SELECT * FROM _SYS_AFL.EML_MODEL_CONFIGURATION")
        if str(r[0]).upper() == model.upper()
    ]
    for view, column in (("TABLES", "TABLE_NAME"), ("PROCEDURES", "PROCEDURE_NAME")):
        rows = query(f'SELECT SCHEMA_NAME, {column} FROM "SYS"."{view}"')
        found += [f"{view} {s}.{n}" for s, n in rows if model.upper() in str(n).upper()]
    return found
