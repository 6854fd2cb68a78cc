"""Every mistake of an answers file in one pass, each one line: where (the key's line),
what is wrong, and the fix.

`emlsetup answers validate FILE` prints them; every command given ``--config`` checks its
file the same way before it reads a setting (steps/core/settings.py). Kinds: not TOML, an
unknown key or section (with the one it most likely meant), a wrong type, a value out of
range, a password (or a credential in a URL) in the file, and, where the release is known,
a TF Serving route or tag the detected release cannot take.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from steps.core.buildenv import strip_url_credentials
from steps.core.settings import Settings, did_you_mean, shorten
from steps.core.toml_lines import key_lines

PASSWORD_WORDS = re.compile(r"pass|pwd|secret|credential", re.I)
PASSWORDS_ARE = (
    "passwords are never read from files: remove the line and set EMLSETUP_SYSTEM_PASSWORD / "
    "EMLSETUP_ML_USER_PASSWORD, type it when asked, or use an hdbuserstore key "
    "(hana.system_key, hana.ml_user_key)"
)
_RANGE = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}
_TOO_LONG = {"string_too_long", "too_long"}


@dataclass(frozen=True)
class Mistake:
    line: int  # 0: the file as a whole
    key: str
    problem: str  # what is wrong, then "; " and the fix

    def shown(self, where: str) -> str:
        """As a checker says it: ``FILE:LINE: key: problem; fix``."""
        at = f"{where}:{self.line}" if self.line else where
        return f"{at}: {self.key}: {self.problem}" if self.key else f"{at}: {self.problem}"

    def said_for(self, config: str) -> str:
        """As every other setting's error says it: ``key (from FILE line N): problem``."""
        line = f" line {self.line}" if self.line else ""
        return f"{self.key or 'the file'} (from {config}{line}): {self.problem}"


def field_info(dotted: str) -> tuple[type[BaseModel], Any] | None:
    """(the section's model, the field's FieldInfo) of SECTION.FIELD."""
    section, _, name = dotted.partition(".")
    sec = Settings.model_fields.get(section)
    model = type(getattr(Settings(), section)) if sec else None
    if model is None or name not in model.model_fields:
        return None
    return model, model.model_fields[name]


def toml_value(value: Any) -> str:
    """A value as it is written in TOML (strings quoted, lists and tables inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(pairs) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _key_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc[:2] if not str(p).startswith(("literal[", "list["))]
    return ".".join(parts)


def _example(key: str) -> str:
    found = field_info(key)
    if found is None:
        return ""
    default = found[1].default
    if default is None or (isinstance(default, dict) and not default):
        return ""
    return f"; e.g. {key.split('.')[-1]} = {toml_value(default)}"


def _bounds(key: str) -> str:
    found = field_info(key)
    low = high = None
    for meta in found[1].metadata if found else []:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        low = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
        high = getattr(meta, "lt", None) if getattr(meta, "lt", None) is not None else high
    if low is not None and high is not None:
        return f"use a value from {low:g} to {high:g}"
    if low is not None:
        return f"use {low:g} or more"
    return f"use {high:g} or less" if high is not None else "use a value in range"


def _problem(key: str, errors: list[dict[str, Any]]) -> str:
    """One sentence for all of one key's errors (a union gives one per member)."""
    err = errors[0]
    kind, got = err["type"], err.get("input")
    shown = f" (got {shorten(repr(got))})" if got is not None and not isinstance(got, dict) else ""
    if kind == "extra_forbidden":
        if PASSWORD_WORDS.search(key):
            return PASSWORDS_ARE
        what = "section" if "." not in key else "setting"
        near = did_you_mean(key)
        return f"unknown {what}; " + (
            f"did you mean {near}?" if near else "remove it or check its spelling"
        )
    if kind in _RANGE:
        return f"{shorten(repr(got))} is out of range: {_bounds(key)}"
    if kind in _TOO_LONG:
        return f"too long{shown}: {str(err['msg']).removeprefix('Value should have ').lower()}"
    if kind == "literal_error" and len(errors) == 1:
        allowed = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        close = difflib.get_close_matches(str(got), allowed, 1, 0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; use one of {', '.join(allowed)}"
        return f"not one of the choices{shown}{hint}"
    if kind.endswith(("_type", "_parsing")) or kind == "literal_error":
        msg = str(err["msg"]).replace("Input should be", "should be")
        return f"wrong type: {msg}{shown}{_example(key)}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{msg}{shown}{_example(key)}"


def _credentials(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Keys whose text holds a credential in a URL (https://user:token@host/...)."""
    found = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            found += _credentials(value, dotted + ".")
        elif isinstance(value, str) and strip_url_credentials(value) != value:
            found.append(dotted)
    return found


def check_data(text: str, data: dict[str, Any]) -> list[Mistake]:
    """The mistakes of a parsed answers file, each at its key's line, in file order."""
    lines = key_lines(text)
    mistakes: dict[str, Mistake] = {}

    def line_of(key: str) -> int:
        while key and key not in lines:
            key = key.rpartition(".")[0]
        return lines.get(key, 0)

    try:
        Settings.model_validate(data)
    except ValidationError as exc:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for err in exc.errors():
            grouped.setdefault(_key_of(err["loc"]), []).append(dict(err))
        for key, errors in grouped.items():
            mistakes[key] = Mistake(line_of(key), key, _problem(key, errors))
    for key in _credentials(data):
        if key not in mistakes:
            mistakes[key] = Mistake(
                line_of(key),
                key,
                "holds a credential in its URL (user:password@); credentials are never read from "
                "files: give the URL without it (a mirror that needs none)",
            )
    return sorted(mistakes.values(), key=lambda m: (m.line, m.key))


def check_route(
    text: str, data: dict[str, Any], route: str, allowed: dict[str, list[str]]
) -> list[Mistake]:
    """serving.route against the detected release's route (steps/routes.py SERVING_ALLOWED)."""
    serving = data.get("serving")
    wanted = serving.get("route") if isinstance(serving, dict) else None
    if not isinstance(wanted, str) or wanted == "auto" or wanted not in allowed:
        return []
    if route in allowed[wanted]:
        return []
    can = [k for k, routes in allowed.items() if route in routes]
    line = key_lines(text).get("serving.route", 0)
    return [
        Mistake(
            line,
            "serving.route",
            f"{wanted!r} is not available on the detected release (route {route}); choose "
            + " or ".join(repr(c) for c in ["auto", *can]),
        )
    ]
