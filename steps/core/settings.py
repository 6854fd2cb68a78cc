"""What the admin tells the wizard: an answers file, the environment, and flags.

Passwords are never settings: they come from a prompt, an environment variable, or an
``hdbuserstore`` key (see ``steps.secrets``). An unknown key in an answers file is an error,
so a ``password = ...`` line is refused rather than silently kept in a file.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ENV_PREFIX = "EMLSETUP_"
CPU_FLAGS = ("sse4.1", "sse4.2", "avx", "avx2", "fma")
_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
# Every field is bounded by what it can be: a DNS name (RFC 1035: 253 characters), a HANA
# identifier (127), a Linux path (PATH_MAX 4096 with its NUL), a URL a browser takes.
HOST_MAX, NAME_MAX, PATH_MAX, URL_MAX = 253, 127, 4095, 2048
CONFIG_MAX = 1024 * 1024  # an answers file is a few lines; a bigger one is a mistake
SHOWN_MAX = 60  # of a value echoed in a message


def _dns_labels(value: str) -> str:
    """A name's dot-separated labels are 1-63 characters (RFC 1035); an IPv6 address has none."""
    if ":" not in value and any(not 0 < len(x) <= 63 for x in value.removesuffix(".").split(".")):
        raise ValueError("not a host name: each part between dots has 1 to 63 characters")
    return value


HostName = Annotated[
    str,
    Field(max_length=HOST_MAX, pattern=r"^[A-Za-z0-9_.:-]+$"),
    AfterValidator(_dns_labels),
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HanaSettings(_Section):
    """Where SAP HANA is and who the wizard connects as."""

    address: HostName = "localhost"
    sql_port: int = Field(39015, ge=1, le=65535)
    tenant: str = Field("HXE", max_length=NAME_MAX, pattern=_NAME)
    system_user: str = Field("SYSTEM", max_length=NAME_MAX, pattern=_NAME)
    ml_user: str = Field("ML_USER", max_length=NAME_MAX, pattern=_NAME)
    system_key: str | None = Field(None, max_length=NAME_MAX, pattern=_NAME)
    ml_user_key: str | None = Field(None, max_length=NAME_MAX, pattern=_NAME)
    encrypt: bool = False
    validate_certificate: bool = True
    connect_timeout_s: float = Field(10.0, gt=0, le=600)
    command_timeout_s: float = Field(120.0, gt=0, le=3600)
    sid_adm: str = Field("hxeadm", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    hxe_bin_dir: str = Field("/usr/sap/HXE/home/bin", max_length=PATH_MAX, pattern=r"^/")
    # EML's PREDICT parameter ('Deadline', ms): how long a call waits for TF Serving (SAP's
    # tutorials: 10000). `emlsetup model add` and `model test` write it.
    eml_deadline_ms: int = Field(10000, ge=100, le=3_600_000)


class AdminSettings(_Section):
    """The dedicated TensorFlow Serving administrator (tutorial step 2)."""

    user: str = Field("tmsadm", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    home: str | None = Field(None, max_length=PATH_MAX, pattern=r"^/")

    @property
    def home_dir(self) -> str:
        return self.home or f"/home/{self.user}"


class ServingSettings(_Section):
    """TensorFlow Serving: where it is built, which version, and how it is served."""

    venv: str = Field("~/tms", max_length=PATH_MAX)
    checkout: str = Field("~/serving", max_length=PATH_MAX)
    git_url: str = Field("https://github.com/tensorflow/serving", max_length=URL_MAX)
    # 1.8.0 is the last tag whose Dockerfile.devel pins Bazel 0.11.1; master no longer builds.
    ref: str = Field("1.8.0", max_length=255, pattern=r"^[A-Za-z0-9_./-]+$")
    bazel_version: str = Field("0.11.1", pattern=r"^\d+\.\d+\.\d+$")
    bazel_installer: str | None = Field(None, max_length=PATH_MAX)
    # A Bazel already on the server (absolute path): step 5 builds with it and leaves out
    # its installer actions; the preflight compares its version with the tag's.
    bazel: str | None = Field(None, max_length=PATH_MAX, pattern=r"^/")
    export_dir: str = Field("~/export", max_length=PATH_MAX)
    host: HostName = "localhost"
    port: int = Field(8500, ge=1, le=65535)
    optimisation: Literal["auto", "off"] | list[str] = Field("auto", max_length=len(CPU_FLAGS))
    run_tests: bool = False
    # How the model server gets there: the release's default ("auto"), the tutorial's source
    # build, TF Serving's container image, or its apt package (Debian/Ubuntu).
    route: Literal["auto", "build", "container", "apt"] = "auto"

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
        value = value.rstrip("/")
        if value in ("", "~"):  # a venv, clone or export there would take over / or the home
            raise ValueError("must be a folder of its own, not / or the admin's home itself")
        if ".." in value.split("/"):
            raise ValueError("must name the folder itself, without ..")
        return value


class PreflightSettings(_Section):
    """What a run needs, checked before it starts (steps/core/preflight.py cites the figures).

    The disk and memory needs are what the tutorial's route takes; lower them only for a
    build that needs less (a warm Bazel cache, a stand-in build). ``hosts`` probes another
    address for a download host ("github.com" = "mirror.example:443"; "*" stands for every
    host): a local mirror, or a loopback listener in tests.
    """

    checkout_gb: float = Field(1.5, ge=0)
    bazel_output_gb: float = Field(20.0, ge=0)
    venv_gb: float = Field(1.5, ge=0)
    packages_gb: float = Field(2.0, ge=0)
    build_memory_gb: float = Field(8.0, ge=0)
    timeout_s: float = Field(3.0, gt=0, le=60)
    hosts: dict[str, str] = {}


class Settings(_Section):
    hana: HanaSettings = HanaSettings()
    admin: AdminSettings = AdminSettings()
    serving: ServingSettings = ServingSettings()
    preflight: PreflightSettings = PreflightSettings()

    def expand(self, path: str) -> str:
        """A settings path on the target system, ``~`` being the admin's home."""
        if path.startswith("~/"):
            return f"{self.admin.home_dir}/{path[2:]}"
        return path


def setting_names() -> list[str]:
    """Every setting as SECTION.FIELD, in the order of the models."""
    return [
        f"{section}.{name}"
        for section, info in Settings.model_fields.items()
        for name in type(getattr(Settings(), section)).model_fields
    ]


def did_you_mean(dotted: str) -> str:
    """The setting a mistyped name most likely meant ("serving.prot" -> "serving.port"), a
    section for a mistyped section, or "" when nothing is close."""
    import difflib

    names, sections = setting_names(), list(Settings.model_fields)
    if "." not in dotted:
        near = difflib.get_close_matches(dotted, sections, 1, 0.6)
        return near[0] if near else ""
    section, field = dotted.split(".", 1)
    if section in sections:  # the field of the section it was written in, else anywhere
        fields = [n.split(".", 1)[1] for n in names if n.startswith(section + ".")]
        near = difflib.get_close_matches(field, fields, 1, 0.75)
        if near:
            return f"{section}.{near[0]}"
    elsewhere = [n for n in names if n.split(".", 1)[1] == field]  # in the wrong section
    if len(elsewhere) == 1:
        return elsewhere[0]
    near = difflib.get_close_matches(dotted, names, 1, 0.75)
    return near[0] if near else ""


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
                f"--set {shorten(item)}: expected SECTION.FIELD=VALUE, e.g. serving.port=8500"
            )
        dotted, value = item.split("=", 1)
        _merge(data, source, _nested(dotted.strip(), _scalar(value)), "--set")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc, source)) from None


def shorten(text: str, limit: int = SHOWN_MAX) -> str:
    """A value as a message shows it: whole when short, else its start and its length."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def message_line(text: str, token_max: int = 200) -> str:
    """An error message as one line, any over-long word in it (a value, a path) shortened:
    the last guard before the admin's terminal."""
    words = text.replace("\r", " ").replace("\n", " ").split(" ")
    return " ".join(shorten(w, token_max) if len(w) > token_max else w for w in words)


def _is_stdin(st: os.stat_result) -> bool:
    try:
        ours = os.fstat(0)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (ours.st_dev, ours.st_ino)


def read_regular(path: Path, limit: int, what: str) -> bytes:
    """A regular file's bytes, at most ``limit``: a FIFO or a device given by mistake is
    refused at once instead of blocking forever or being read without end. Our own
    standard input is the exception (`--config /dev/stdin`, how the Ansible role passes the
    answers): its writer is there, and it is read up to ``limit`` too."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) and _is_stdin(st) and not stat.S_ISCHR(st.st_mode):
            os.set_blocking(fd, True)
            with os.fdopen(os.dup(fd), "rb") as fh:
                data = fh.read(limit + 1)
            if len(data) > limit:
                raise SettingsError(f"{what} {shorten(str(path))}: more than {limit} bytes")
            return data
        if not stat.S_ISREG(st.st_mode):
            raise SettingsError(f"{what} {shorten(str(path))}: not a regular file; give a file")
        if st.st_size > limit:
            raise SettingsError(
                f"{what} {shorten(str(path))}: {st.st_size} bytes, more than the {limit} an "
                "answers file can be; give the right file"
            )
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def read_answers_text(path: Path, where: str, what: str) -> str:
    """An answers file's text (--config, answers validate), or one sentence starting with
    ``where`` that says why it cannot be read (``what``: the command, for read_regular's)."""
    try:
        raw = read_regular(path, CONFIG_MAX, what)
    except FileNotFoundError:
        raise SettingsError(f"{where}: no such file; give the path of your answers file") from None
    except OSError as exc:
        raise SettingsError(f"{where}: cannot read it ({exc.strerror})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SettingsError(
            f"{where}: not UTF-8 (byte 0x{raw[exc.start]:02x} on line {line}); save it as "
            "UTF-8 (TOML files are UTF-8)"
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    return _parse_toml(read_answers_text(path, f"--config {shorten(str(path))}", "--config"), path)


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    where = f"--config {shorten(str(path))}"
    from steps.core.answers_check import check_data  # it reads these settings' fields
    from steps.core.toml_repair import parse_reporting, readable_mistakes

    try:
        data, text, mistakes = parse_reporting(text)  # every syntax mistake, the rest read
    except RecursionError:
        raise SettingsError(
            f"{where}: nested too deeply to be an answers file (sections are one level)"
        ) from None
    mistakes += readable_mistakes(check_data(text, data))
    mistakes.sort(key=lambda m: (m.line, m.key))
    if mistakes:  # every one, each on its line (`emlsetup answers validate` checks the same)
        raise SettingsError("\n".join(m.said_for(str(path)) for m in mistakes))
    return data


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    if not re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", dotted):
        raise SettingsError(
            f"{shorten(dotted)}: not a setting name; use SECTION.FIELD, e.g. hana.sql_port"
        )
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
    except (tomllib.TOMLDecodeError, RecursionError):
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
        # A whole section unknown: the name as typed ("servng.port") says most.
        typed = next((f for f in source if f.startswith(field + ".")), field)
        near = did_you_mean(typed)
        if near:
            return f"{typed}{where}: unknown setting; did you mean {near}?"
        return f"{field}{where}: unknown setting; remove it or check its spelling"
    msg = str(err["msg"]).removeprefix("Value error, ")
    got = err.get("input")
    shown = f" (got {shorten(repr(got))})" if got is not None and not isinstance(got, dict) else ""
    if err["type"] == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == "^/":
        # The admin reads what is wanted, not the regular expression that refused it.
        hint = ABSOLUTE_HINTS.get(field, "")
        return f"{field}{where}: must be an absolute path{shown}{hint}"
    return f"{field}{where}: {msg}{shown}"


# What to give instead of a relative path, where the admin may not know it by heart.
ABSOLUTE_HINTS = {
    "serving.bazel": "; give your Bazel's full path (command -v bazel prints it)",
}
