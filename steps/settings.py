"""What the admin tells the wizard: an answers file, the environment, and flags.

Passwords are never settings: they come from a prompt, an environment variable, or an
``hdbuserstore`` key (see ``steps.secrets``). An unknown key in an answers file is an error,
so a ``password = ...`` line is refused rather than silently kept in a file.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ENV_PREFIX = "EMLSETUP_"
CPU_FLAGS = ("sse4.1", "sse4.2", "avx", "avx2", "fma")
_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HanaSettings(_Section):
    """Where SAP HANA is and who the wizard connects as."""

    address: str = Field("localhost", pattern=r"^[A-Za-z0-9_.:-]+$")
    sql_port: int = Field(39015, ge=1, le=65535)
    tenant: str = Field("HXE", pattern=_NAME)
    system_user: str = Field("SYSTEM", pattern=_NAME)
    ml_user: str = Field("ML_USER", pattern=_NAME)
    system_key: str | None = Field(None, pattern=_NAME)
    ml_user_key: str | None = Field(None, pattern=_NAME)
    encrypt: bool = False
    validate_certificate: bool = True
    connect_timeout_s: float = Field(10.0, gt=0, le=600)
    command_timeout_s: float = Field(120.0, gt=0, le=3600)
    sid_adm: str = Field("hxeadm", pattern=r"^[a-z_][a-z0-9_-]*$")
    hxe_bin_dir: str = Field("/usr/sap/HXE/home/bin", pattern=r"^/")


class AdminSettings(_Section):
    """The dedicated TensorFlow Serving administrator (tutorial step 2)."""

    user: str = Field("tmsadm", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    home: str | None = Field(None, pattern=r"^/")

    @property
    def home_dir(self) -> str:
        return self.home or f"/home/{self.user}"


class ServingSettings(_Section):
    """TensorFlow Serving: where it is built, which version, and how it is served."""

    venv: str = "~/tms"
    checkout: str = "~/serving"
    git_url: str = "https://github.com/tensorflow/serving"
    # 1.8.0 is the last tag whose Dockerfile.devel pins Bazel 0.11.1; master no longer builds.
    ref: str = Field("1.8.0", pattern=r"^[A-Za-z0-9_./-]+$")
    bazel_version: str = Field("0.11.1", pattern=r"^\d+\.\d+\.\d+$")
    bazel_installer: str | None = None
    export_dir: str = "~/export"
    host: str = Field("localhost", pattern=r"^[A-Za-z0-9_.:-]+$")
    port: int = Field(8500, ge=1, le=65535)
    optimisation: Literal["auto", "off"] | list[str] = "auto"
    run_tests: bool = False

    @field_validator("optimisation")
    @classmethod
    def _known_flags(cls, value: Any) -> Any:
        if isinstance(value, list):
            unknown = [f for f in value if f not in CPU_FLAGS]
            if unknown:
                raise ValueError(
                    f"unknown CPU flag {unknown[0]!r}; use any of {', '.join(CPU_FLAGS)}"
                )
        return value

    @field_validator("venv", "checkout", "export_dir")
    @classmethod
    def _home_or_absolute(cls, value: str) -> str:
        if not (value.startswith("~/") or value.startswith("/")):
            raise ValueError("must be an absolute path or start with ~/ (the admin's home)")
        return value.rstrip("/") or "/"


class Settings(_Section):
    hana: HanaSettings = HanaSettings()
    admin: AdminSettings = AdminSettings()
    serving: ServingSettings = ServingSettings()

    def expand(self, path: str) -> str:
        """A settings path on the target system, ``~`` being the admin's home."""
        if path.startswith("~/"):
            return f"{self.admin.home_dir}/{path[2:]}"
        return path


class SettingsError(Exception):
    """One line naming the field and the fix; the CLI prints it and exits 2."""


def load_settings(
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: list[str] | None = None,
    config_text: str | None = None,
) -> Settings:
    """Answers file, then ``EMLSETUP_SECTION__FIELD`` variables, then ``--set`` flags.
    ``config_text``: the answers file's text already read (from standard input)."""
    data: dict[str, Any] = {}
    source: dict[str, str] = {}
    if config_text is not None:
        _merge(data, source, _parse_toml(config_text, config or Path("-")), str(config or "-"))
    elif config is not None:
        _merge(data, source, _read_toml(config), str(config))
    for key, value in sorted((environ or {}).items()):
        if key.startswith(ENV_PREFIX) and "__" in key:
            dotted = key[len(ENV_PREFIX) :].lower().replace("__", ".")
            _merge(data, source, _nested(dotted, _scalar(value)), f"${key}")
    for item in overrides or []:
        if "=" not in item:
            raise SettingsError(
                f"--set {item}: expected SECTION.FIELD=VALUE, e.g. serving.port=8500"
            )
        dotted, value = item.split("=", 1)
        _merge(data, source, _nested(dotted.strip(), _scalar(value)), "--set")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc, source)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(
            f"--config {path}: no such file; give the path of your answers file"
        ) from None
    except OSError as exc:
        raise SettingsError(f"--config {path}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"--config {path}: not valid TOML ({exc}); fix that line") from None


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"--config {path}: not valid TOML ({exc}); fix that line") from None


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    if not re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", dotted):
        raise SettingsError(f"{dotted}: not a setting name; use SECTION.FIELD, e.g. hana.sql_port")
    out: dict[str, Any] = {}
    node = out
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _merge(
    into: dict[str, Any], source: dict[str, str], new: dict[str, Any], origin: str, prefix: str = ""
) -> None:
    for key, value in new.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], source, value, origin, f"{dotted}.")
        else:
            into[key] = value
            _record(source, dotted, value, origin)


def _record(source: dict[str, str], dotted: str, value: Any, origin: str) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _record(source, f"{dotted}.{key}", inner, origin)
    else:
        source[dotted] = origin


def _scalar(text: str) -> Any:
    """Environment and flag values are text; read them as TOML values where they parse."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _one_line(exc: ValidationError, source: dict[str, str]) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("literal[", "list[")))
    origin = source.get(field) or next(
        (o for f, o in source.items() if field.startswith(f + ".") or f.startswith(field + ".")),
        "",
    )
    where = f" (from {origin})" if origin else ""
    if err["type"] == "extra_forbidden":
        if "pass" in field.lower():
            return (
                f"{field}{where}: passwords are never read from files; set "
                f"EMLSETUP_SYSTEM_PASSWORD / EMLSETUP_ML_USER_PASSWORD, type it when asked, "
                f"or use an hdbuserstore key (hana.system_key)"
            )
        return f"{field}{where}: unknown setting; remove it or check its spelling"
    msg = str(err["msg"]).removeprefix("Value error, ")
    got = err.get("input")
    shown = f" (got {got!r})" if got is not None and not isinstance(got, dict) else ""
    return f"{field}{where}: {msg}{shown}"
