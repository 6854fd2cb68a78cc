"""Checks as data: what to look at on the system, and what counts as right.

The same specs serve as a step's prerequisites, its expected results, and the
done-detection of its actions ("the user exists", "the line is in .profile"), so that
"done" is always read from the real system and never only from our state file.
Strings may hold ``{placeholders}``; the plan fills them in from the settings.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    fix: str = ""
    families: list[str] | None = None  # None: every distro family
    routes: list[str] | None = None  # None: every release route (steps/routes.py)
    serving: list[str] | None = None  # None: every TF Serving route (build/container/apt)
    # "installer": only when step 5 installs Bazel; "own": only with the admin's serving.bazel
    bazel: Literal["installer", "own"] | None = None


class DistroSupported(_Spec):
    kind: Literal["distro_supported"] = "distro_supported"


class CommandsPresent(_Spec):
    """Executables that must be on PATH (the compiler, git, swig, zip...)."""

    kind: Literal["commands_present"] = "commands_present"
    commands: list[str]


class ToolVersion(_Spec):
    """Runs a tool's version command and compares the version it prints."""

    kind: Literal["tool_version"] = "tool_version"
    argv: list[str]
    pattern: str  # a regex with a group named v
    op: Literal[">=", "=="] = ">="
    version: str
    run_as: str = "self"


class UserExists(_Spec):
    """The user is in /etc/passwd, and is not a second root account (uid 0 under another
    name) unless it is root itself. ``absent_ok``: only the second half: a user that does not
    exist yet passes (a prerequisite of the step that creates it)."""

    kind: Literal["user_exists"] = "user_exists"
    user: str
    absent_ok: bool = False


class PasswordSet(_Spec):
    kind: Literal["password_set"] = "password_set"
    user: str


class SudoersGrant(_Spec):
    """The rule is in /etc/sudoers or any drop-in, whoever put it there."""

    kind: Literal["sudoers_grant"] = "sudoers_grant"
    rule: str


class PathExists(_Spec):
    kind: Literal["path_exists"] = "path_exists"
    path: str
    executable: bool = False
    absent: bool = False  # passes when the path does NOT exist
    empty: bool = False  # a folder with nothing in it


class FileHasLine(_Spec):
    """A line in a file; ``alike`` also accepts a hand-made variant (a regex)."""

    kind: Literal["file_has_line"] = "file_has_line"
    path: str
    line: str
    alike: str | None = None


class FileIs(_Spec):
    """A file whose whole content is ``content``: as emlsetup wrote it, unchanged since."""

    kind: Literal["file_is"] = "file_is"
    path: str
    content: str


class PortOpen(_Spec):
    kind: Literal["port_open"] = "port_open"
    host: str
    port: int | str


class TfServingAnswers(_Spec):
    """TensorFlow Serving answers gRPC GetModelStatus on host:port for every model in
    ``config_file`` (a model_config_file; none listed: its NOT_FOUND still proves it)."""

    kind: Literal["tf_serving"] = "tf_serving"
    host: str
    port: int | str
    config_file: str = ""
    timeout_s: float = 3.0


class PackagesInstalled(_Spec):
    kind: Literal["packages_installed"] = "packages_installed"
    manager: Literal["rpm", "dpkg"]
    packages: list[str]


class CommandSucceeds(_Spec):
    """A command that exits 0 (and prints ``expect`` when given) means yes."""

    kind: Literal["command_succeeds"] = "command_succeeds"
    argv: list[str]
    run_as: str = "self"
    expect: str | None = None


class GitCheckoutAt(_Spec):
    """Passes when there is no checkout yet, or when the one there is at ``ref``."""

    kind: Literal["git_checkout_at"] = "git_checkout_at"
    path: str
    ref: str


class ServiceFresh(_Spec):
    """A systemd service is active and started after its files last changed (its unit, its
    configuration): otherwise it serves an old configuration and needs a restart."""

    kind: Literal["service_fresh"] = "service_fresh"
    unit: str
    files: list[str]


class SqlCount(_Spec):
    """A query's row count (or its single COUNT(*) value) compared with what is expected."""

    kind: Literal["sql_count"] = "sql_count"
    role: Literal["system", "ml_user"]
    query: str
    params: list[str] = []
    count_column: bool = False  # True: the query is SELECT COUNT(*); read its value
    op: Literal["==", ">="] = "=="
    expect: int


CheckSpec = Annotated[
    DistroSupported
    | CommandsPresent
    | ToolVersion
    | UserExists
    | PasswordSet
    | SudoersGrant
    | PathExists
    | FileHasLine
    | FileIs
    | PortOpen
    | TfServingAnswers
    | PackagesInstalled
    | CommandSucceeds
    | GitCheckoutAt
    | ServiceFresh
    | SqlCount,
    Field(discriminator="kind"),
]
