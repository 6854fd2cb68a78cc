"""The tutorial's steps as data: what each action does, as whom, and how we know it is done.

An action is skipped when its ``done_when`` checks all pass on the real system, so a
finished action is never repeated, whoever finished it (the wizard or the admin by hand).
An action that is not idempotent must say how its completion is detected.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from checks.spec import CheckSpec

Family = Literal["sles", "rhel", "debian"]
FAMILIES: tuple[Family, ...] = ("sles", "rhel", "debian")
# Who runs an action: root, the TensorFlow admin (tmsadm), or HANA's <sid>adm user.
RunAs = Literal["root", "admin", "sid_adm"]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    families: list[Family] | None = None  # None: every family
    distro_ids: list[str] | None = None  # narrower than a family, e.g. RHEL but not CentOS
    routes: list[str] | None = None  # narrower still: the release routes (steps/routes.py)
    serving: list[str] | None = None  # only for these TF Serving routes (build/container/apt)
    # "installer": only when step 5 installs Bazel; "own": only with the admin's serving.bazel
    bazel: Literal["installer", "own"] | None = None
    only_if: list[CheckSpec] = []  # not applicable unless all pass
    done_when: list[CheckSpec] = []
    unneeded_when: list[CheckSpec] = []  # skipped when all pass: what it is for is there
    idempotent: bool = False
    optional_setting: str | None = None  # a boolean setting that turns the action on
    # Work that leaves no mark to read (hxe_gc.sh, EML's configuration reload): once it has
    # run, a later run does it again only when one of these actions ("step/action") changed
    # something in that run, or when asked (`run --rerun ID`). None: no such rule.
    rerun_after: list[str] | None = None
    note: str = ""  # where we differ from the tutorial, and why
    fix: str = ""  # shown when it fails: what the admin can do about it

    @property
    def needs_root(self) -> bool:
        return getattr(self, "run_as", "root") == "root"

    @model_validator(mode="after")
    def _detectable(self) -> _Action:
        if not self.idempotent and not self.done_when and self.kind not in ("manual",):  # type: ignore[attr-defined]
            raise ValueError(f"action {self.id}: not idempotent, so it needs done_when")
        return self


class Command(_Action):
    kind: Literal["command"] = "command"
    argv: list[str]
    run_as: RunAs = "root"
    cwd: str | None = None
    expect_output: str | None = None  # a regex the output must match
    long_running: bool = False  # a build: run detached, survive the wizard
    # In the user's login environment (`su -l`), as the tutorial runs HANA's own scripts.
    login: bool = False
    # A secret the command prompts for, written to its standard input (a pipe): never argv,
    # never its environment, never a file. Without it the action is skipped, with the reason.
    stdin_secret: Literal["system_password"] | None = None
    # A start that returns before the service answers (systemctl restart): wait for these.
    ready_when: list[CheckSpec] = []
    ready_timeout_s: float = 30.0


class WriteFile(_Action):
    """A file our own code writes, shown in full first; never overwrites a different file."""

    kind: Literal["write_file"] = "write_file"
    path: str
    content: str
    mode: int = 0o644
    owner: RunAs = "root"
    validate_argv: list[str] | None = None  # run on the temp file before it moves into place

    @property
    def run_as(self) -> RunAs:
        return self.owner


class AppendLine(_Action):
    kind: Literal["append_line"] = "append_line"
    path: str
    line: str
    owner: RunAs = "admin"

    @property
    def run_as(self) -> RunAs:
        return self.owner


class EnsureDir(_Action):
    kind: Literal["ensure_dir"] = "ensure_dir"
    path: str
    owner: RunAs = "admin"
    idempotent: bool = True

    @property
    def run_as(self) -> RunAs:
        return self.owner


class RemoveModelEntry(_Action):
    """A model's entry taken out of TF Serving's config.cnf (steps/models/config_text.py);
    the admin's other entries, comments and layout stay."""

    kind: Literal["remove_model_entry"] = "remove_model_entry"
    path: str
    model: str
    run_as: RunAs = "admin"
    idempotent: bool = True


class DropModelObjects(_Action):
    """A model's PREDICT wrapper and every table and table type of it, which the catalogue
    names (steps/models/hana_sql.py Objects.owns: N input tables since issue 24)."""

    kind: Literal["drop_model_objects"] = "drop_model_objects"
    model: str
    run_as: RunAs = "admin"
    idempotent: bool = True


class RemoveLine(_Action):
    """A line an AppendLine added, taken out again; the file's other lines stay."""

    kind: Literal["remove_line"] = "remove_line"
    path: str
    line: str
    owner: RunAs = "admin"
    idempotent: bool = True

    @property
    def run_as(self) -> RunAs:
        return self.owner


class StopDaemon(_Action):
    """Stops the server a StartDaemon of the step started: its recorded pid, else the process
    listening on ``port``, only when its command line names the program (``argv[0]``)."""

    kind: Literal["stop_daemon"] = "stop_daemon"
    argv: list[str]
    port: int | str
    run_as: RunAs = "admin"
    idempotent: bool = True
    timeout_s: float = 20.0


class StartDaemon(_Action):
    """A server started in its own session, its output in a log, ready when its port answers."""

    kind: Literal["daemon"] = "daemon"
    argv: list[str]
    run_as: RunAs = "admin"
    log_file: str
    ready_host: str
    ready_port: int | str
    ready_timeout_s: float = 30.0


class Manual(_Action):
    """Something only the admin should do (typing a password); shown, never run."""

    kind: Literal["manual"] = "manual"
    instruction: str
    run_as: RunAs = "root"


class Sql(_Action):
    """Statements sent through hdbcli in one session, as SYSTEM or ML_USER."""

    kind: Literal["sql"] = "sql"
    role: Literal["system", "ml_user"]
    statements: list[str]
    expect_rows: list[list[str | int]] | None = None  # what the last statement must return
    capture: bool = False  # keep the last result in the state (registered models)
    run_as: RunAs = "admin"

    @property
    def needs_root(self) -> bool:
        return False


Action = Annotated[
    Command | WriteFile | AppendLine | EnsureDir | StartDaemon | Manual | Sql | RemoveLine,
    Field(discriminator="kind"),
]
# What an undo runs: commands, SQL, and the two things emlsetup undoes with its own code.
UndoOp = Annotated[
    Command | Sql | RemoveLine | StopDaemon | RemoveModelEntry | DropModelObjects,
    Field(discriminator="kind"),
]


class Undo(BaseModel):
    """How to reverse what actions of a step did, as data next to them: the commands, how
    the system shows there is still something to undo, and that it is still as emlsetup
    made it. Undo reverses only what emlsetup recorded doing (never what it found done)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reverses: list[str]  # the step's action ids; the entry applies when emlsetup did one
    title: str
    families: list[Family] | None = None
    distro_ids: list[str] | None = None
    routes: list[str] | None = None
    serving: list[str] | None = None
    bazel: Literal["installer", "own"] | None = None  # as its actions' (step 5's Bazel)
    present_when: list[CheckSpec] = []  # any passes: something is left to undo
    ours_when: list[CheckSpec] = []  # all pass, else changed by hand since: kept, said so
    do: list[UndoOp] = []  # in order; an op whose only_if fails is skipped
    keep: str = ""  # left in place on purpose (packages, Bazel): why, and how by hand
    ask: str = ""  # asked on its own, even with --yes unless said (hours of build)
    ask_path: str = ""  # what a "no" keeps, so that nothing removes it around it
    holds: str = ""  # a folder removed whole (a home): kept when a kept path is in it
    reads: list[CheckSpec] = []  # must answer before anything of it can be told (HANA)
    per_model: bool = False  # once for every model `emlsetup model add` made
    gone_with: str = ""  # an action whose undo removes this too, when emlsetup did it


class Note(BaseModel):
    """A correction that holds only on some systems (a SUSE repository, the Bazel build)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    families: list[Family] | None = None  # None: every family
    distro_ids: list[str] | None = None  # narrower than a family, e.g. CentOS only
    routes: list[str] | None = None  # only on these release routes (steps/routes.py)
    serving: list[str] | None = None  # only for these TF Serving routes (build/container/apt)
    bazel: Literal["installer", "own"] | None = None  # step 5's Bazel, or the admin's own

    def applies(
        self, family: str, distro_id: str, route: str = "", serving: str = "", bazel: str = ""
    ) -> bool:
        return (
            (self.families is None or family in self.families)
            and (self.distro_ids is None or distro_id in self.distro_ids)
            and (self.routes is None or not route or route in self.routes)
            and (self.serving is None or not serving or serving in self.serving)
            and (self.bazel is None or not bazel or bazel == self.bazel)
        )

    def __str__(self) -> str:
        return self.text


class Need(BaseModel):
    """An earlier step this one builds on, read from the system (not from our state file):
    running this step while ``met_when`` fails runs nothing and says ``why``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: int = Field(ge=1, le=7)
    why: str  # one sentence, e.g. "step 2 creates tmsadm, whose home this step uses"
    met_when: list[CheckSpec]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    number: int = Field(ge=1, le=7)
    title: str
    explanation: str  # Markdown, from the tutorial
    # Where the wizard departs from the tutorial, said plainly; a plan keeps only the notes
    # of its system, as plain text.
    corrections: list[str | Note] = []
    checks: list[CheckSpec] = []  # prerequisites, run before the actions
    actions: list[Action]
    results: list[CheckSpec] = []  # expected results, run after the actions
    path_extra: list[str] = []  # prepended to PATH for the admin's commands
    needs: list[Need] = []  # earlier steps that must be done first (checked on the system)
    undo: list[Undo] = []  # how `emlsetup undo` reverses it, in the order it runs
