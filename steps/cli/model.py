"""``emlsetup model add NAME PATH [--version N] [--signature S] | list | remove NAME |
test NAME [--input COL=VALUE ...] | sql NAME``.

Each is one line per phase, one sentence on failure (exit 1), and idempotent: run it again
after a failure or a kill and it continues where the system is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any, TextIO

from steps.cli.faults import full_disk
from steps.core.lock import FolderLock, StateLock
from steps.models.hana_sql import check_name

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
INPUT_HELP = (
    "COLUMN=VALUE for an input column (see `emlsetup model sql NAME`); a column given "
    "N times is N rows; default: one row of 1 (numbers) or 'a' (strings)"
)


def add_model_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "model", parents=[common], help="serve a TensorFlow model and call it from HANA"
    )
    msub = p.add_subparsers(dest="model_command", parser_class=type(p), required=True)
    a = msub.add_parser("add", parents=[common], help="copy, serve and register a SavedModel")
    a.add_argument("name", help="model name (letters, digits, _)")
    a.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="SavedModel folder (saved_model.pb + variables/); default: the shipped "
        "half_plus_two (y = x / 2 + 2)",
    )
    a.add_argument(
        "--version",
        type=int,
        default=None,
        metavar="N",
        help="version folder (default: PATH's folder name when it is a number, else 1)",
    )
    a.add_argument(
        "--signature", default="", metavar="S", help="the signature EML calls (serving_default)"
    )
    a.add_argument("--timeout", type=float, default=60.0, metavar="S", help="wait for AVAILABLE")
    a.add_argument("--input", action="append", default=[], metavar="COL=VALUE", help=INPUT_HELP)
    sp = msub.add_parser("list", parents=[common], help="served models and their HANA state")
    sp.add_argument("--json", action="store_true")
    for name, text in (
        ("remove", "unregister, unserve, drop the wrapper, move its files aside"),
        ("test", "a prediction from SQL"),
        ("sql", "print the SQL that calls the model"),
    ):
        sp = msub.add_parser(name, parents=[common], help=text)
        sp.add_argument("name")
        if name == "test":
            sp.add_argument(
                "--input", action="append", default=[], metavar="COL=VALUE", help=INPUT_HELP
            )


def _errors() -> tuple[type[Exception], ...]:
    from steps.models.config_text import ConfigError
    from steps.models.errors import ModelError
    from steps.models.hana_types import SignatureMappingError
    from steps.models.restart import RestartError
    from steps.models.savedmodel import SavedModelError
    from steps.models.serving import ServingError

    return (
        ModelError,
        ConfigError,
        SavedModelError,
        SignatureMappingError,
        ServingError,
        RestartError,
    )


def cmd_model(session: Any, args: argparse.Namespace, out: TextIO) -> int:
    from steps.models.commands import ModelOps

    name: str = getattr(args, "name", None) or ""
    if name and check_name(name):
        out.write(f"emlsetup: {check_name(name)}\n")
        return EXIT_USAGE
    if args.model_command == "add" and args.version is not None and args.version < 1:
        out.write("emlsetup: --version must be 1 or more (TF Serving's version folders)\n")
        return EXIT_USAGE
    session.store.ensure_folder()
    with StateLock(session.store.folder):
        ops = ModelOps(session, session.sql_backend(), out)
        changes = args.model_command in CHANGING
        with _server_lock(ops) if changes else contextlib.nullcontext():
            return _run(ops, args, name, out)


# The commands that change config.cnf or a model's HANA tables (test fills its input
# tables): one at a time per server, whatever the state folder.
CHANGING = ("add", "test", "remove")


def _server_lock(ops: Any) -> FolderLock:
    return FolderLock(ops.local(ops.export), ops.export, "adding, testing or removing a model")


def add_version(path: Path, given: int | None) -> tuple[int, str]:
    """--version, else the version folder's own number (TF Serving's layout NAME/VERSION;
    an estimator's export_savedmodel writes NAME/TIMESTAMP), else 1; and how it was chosen."""
    if given is not None:
        return given, ""
    if path.name.isdigit() and int(path.name) >= 1:
        return int(path.name), " (the folder's name)"
    return 1, ""


def _run(ops: Any, args: argparse.Namespace, name: str, out: TextIO) -> int:
    from steps.models import adding, lifecycle, sql_script
    from steps.models.commands import SHIPPED
    from steps.models.copying import CopyError
    from steps.models.inputs import parse

    try:
        given = parse(getattr(args, "input", []))
        if args.model_command == "add":
            ops.timeout_s = args.timeout
            path = args.path if args.path is not None else SHIPPED
            version, why = add_version(path.resolve(), args.version)
            out.write(f"model add {name} from {path}, version {version}{why}\n")
            rec = adding.add(ops, name, path.resolve(), version, args.signature, given)
        elif args.model_command == "test":
            rec = lifecycle.test(ops, name, given)
        elif args.model_command == "remove":
            rec = lifecycle.remove(ops, name)
        elif args.model_command == "sql":
            out.write(sql_script.script(ops, name))
            return EXIT_OK
        else:
            rows = lifecycle.listing(ops)
            _list(rows, args.json, out)
            unreachable = next((r["hana_error"] for r in rows if "hana_error" in r), "")
            if unreachable:  # the files are listed; what HANA holds is unknown (?)
                out.write("" if args.json else f"Failed: HANA could not be asked: {unreachable}\n")
                return EXIT_FAILED
            return EXIT_OK
    except CopyError as exc:  # what, where, how much it needed
        out.write(f"Failed: {exc.sentence(str(ops.session.host.unmap(exc.dest)))}\n")
        return EXIT_FAILED
    except _errors() as exc:
        out.write(f"Failed: {exc}\n")
        return EXIT_FAILED
    except Exception as exc:  # HANA's one-sentence errors; a full disk anywhere
        places = {
            "the state folder": ops.session.store.folder,
            "the export folder": ops.local(ops.export),
        }
        said = full_disk(exc, places)
        if said is None and type(exc).__name__ != "HanaError":
            raise
        out.write(f"Failed: {said or exc}\n")
        return EXIT_FAILED
    out.write(rec.result + "\n")
    return EXIT_OK


def _list(rows: list[dict[str, Any]], as_json: bool, out: TextIO) -> None:
    if as_json:
        json.dump(rows, out, indent=2)
        out.write("\n")
        return
    for r in rows:
        out.write(
            f"{r['model']}: versions {r['versions'] or 'none'} in {r['base_path']}; HANA row "
            f"{_yes(r.get('hana_row'))}, wrapper {_yes(r.get('wrapper'))}"
            + (f"; last test: {r['last_test']}" if r["last_test"] else "")
            + "\n"
        )
    if not rows:
        out.write("No model in config.cnf.\n")


def _yes(value: object) -> str:
    return "?" if value is None else ("yes" if value else "no")
