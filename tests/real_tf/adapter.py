"""The few places where the real-TensorFlow checks touch emlsetup's own API or wording, kept
in one module so that a change of that API (issue 24, branch i24-models) is one edit here.

- ``parsed_signatures``: what our SavedModel parser (steps/models/savedmodel.py) reads;
- ``columns``, ``model_test_arguments``, ``answer_rows``: how ``emlsetup model test`` names the
  columns of a model's tensors, takes input rows and reports the answer;
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


def columns(values: dict[str, Any]) -> list[str]:
    """The columns emlsetup gives the tensors of one row of ``values`` ({alias: value}), in
    order (steps/models/hana_types.py, after SAP's Iris tutorial): aliases in byte order,
    one column for a [-1] or [-1, 1] tensor (named as the alias), N for a [-1, N] one
    (ALIAS_0 ... ALIAS_N-1, the tutorial's PROBABILITIES0..2)."""
    out = []
    for alias in sorted(values, key=str.encode):
        width = len(values[alias]) if isinstance(values[alias], list) else 1
        out += [alias] if width == 1 else [f"{alias}_{i}" for i in range(width)]
    return out


def row_values(values: dict[str, Any]) -> list[Any]:
    """The values of one row in ``columns(values)``'s order."""
    out: list[Any] = []
    for alias in sorted(values, key=str.encode):
        value = values[alias]
        out += value if isinstance(value, list) else [value]
    return out


def output_rows(answer: dict[str, Any]) -> list[list[Any]]:
    """TensorFlow's ``answer["outputs"]`` as the rows of a PREDICT's output table (outputs
    by position, ``columns``'s order)."""
    outputs = answer["outputs"]
    n = len(next(iter(outputs.values())))
    return [row_values({a: v[i] for a, v in outputs.items()}) for i in range(n)]


def model_test_arguments(inputs: dict[str, list[Any]]) -> list[str]:
    """``model test NAME`` arguments giving every row of ``inputs`` ({alias: rows}, as the
    manifest records them): ``--input COLUMN=VALUE`` per column and row."""
    rows = [{a: v[i] for a, v in inputs.items()} for i in range(len(next(iter(inputs.values()))))]
    args = []
    for row in rows:
        for column, value in zip(columns(row), row_values(row), strict=True):
            args += ["--input", f"{column}={value}"]
    return args


def answer_rows(stdout: str, names: list[str], n_rows: int) -> list[list[str]] | None:
    """The values ``model test`` says HANA got back, per row, per column of ``names``: its
    sentence "HANA asked TensorFlow and got ROW; ROW for ..." where a ROW is the value alone
    for one column, else "COLUMN=VALUE, COLUMN=VALUE"."""
    row = "(.*?)" if len(names) == 1 else ", ".join(f"{re.escape(c)}=(.*?)" for c in names)
    got = re.search(rf"HANA asked TensorFlow and got {'; '.join([row] * n_rows)} for ", stdout)
    if got is None:
        return None
    values = list(got.groups())
    return [values[i * len(names) : (i + 1) * len(names)] for i in range(n_rows)]


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
