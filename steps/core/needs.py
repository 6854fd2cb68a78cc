"""What later steps need from earlier ones, read from the system: a step whose needs are not
met runs nothing and says, in one sentence, which step to run first."""

from __future__ import annotations

from checks.spec import PathExists, UserExists
from steps.core.model import Need

ADMIN_HOME = Need(
    step=2,
    why="step 2 creates {admin}, whose home {home} this step uses",
    met_when=[
        UserExists(name="user {admin} exists", user="{admin}"),
        PathExists(name="{home} exists", path="{home}"),
    ],
)
