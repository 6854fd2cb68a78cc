"""Tutorial step 4: a Python virtual environment with pip, gRPC, TensorFlow and its serving
API. Which Python, pip and TensorFlow depend on the release's route (steps/routes.py): the
tutorial's Python 2.7 virtualenv with TensorFlow 1.15, or a Python 3 venv with TensorFlow 2
and the serving API of the same version."""

from checks.spec import CommandSucceeds, PathExists, ToolVersion
from steps.core.model import Command, Note, Step
from steps.core.needs import ADMIN_HOME
from steps.routes import PY2, PY3

PIP_VERSION = ToolVersion(
    name="pip >= 9.0.1 in {venv}",
    run_as="admin",
    argv=["{venv}/bin/pip", "--version"],
    pattern=r"^pip (?P<v>[0-9][0-9.]*)",
    op=">=",
    version="9.0.1",
    fix="{venv}/bin/pip install --upgrade '{pip_spec}'",
)
# TensorFlow's manylinux2010 wheels (1.15 and later) are found by pip 19.0 and later only.
PIP_FOR_TF = PIP_VERSION.model_copy(
    update={"name": "pip >= 19.0 in {venv} (TensorFlow's wheels need it)", "version": "19.0"}
)
HELLO = CommandSucceeds(
    name="TensorFlow says hello",
    run_as="admin",
    argv=["{venv}/bin/python", "-c", "{hello_code}"],
    expect="Hello, TensorFlow!",
    fix="re-install TensorFlow {tf_version}: {venv}/bin/pip install --force-reinstall '{tf_spec}'",
)


def _pip_install(id: str, title: str, spec: str, package: str) -> Command:
    return Command(
        id=id,
        title=title,
        run_as="admin",
        argv=["{venv}/bin/pip", "install", spec],
        idempotent=True,
        done_when=[
            CommandSucceeds(
                name=f"{package} installed",
                run_as="admin",
                argv=["{venv}/bin/pip", "show", package],
            )
        ],
    )


STEP = Step(
    number=4,
    needs=[ADMIN_HOME],
    title="Install TensorFlow Serving Python prerequisites",
    explanation="""\
As **{admin}**, create a Python {python} virtual environment named `tms` (the tutorial's
Python 2.7 one also sees the system's packages), then install into it: **pip 9.0.1 or
later**, **gRPC** (`grpcio`), **TensorFlow** {tf_version}, and the **TensorFlow Serving
API** of the same version. TensorFlow is then checked by printing *Hello, TensorFlow!*.""",
    corrections=[
        "The wizard calls the environment's own pip ({venv}/bin/pip) instead of relying on "
        "`source ~/tms/bin/activate` in a shell it does not keep.",
        # Each note speaks of its own route only, with that route's values: a SLES 12 plan
        # never names the TensorFlow of a Python 3 route.
        Note(
            routes=PY2,
            text="pip is upgraded only when it is older than 19.0 (TensorFlow's manylinux2010 "
            "wheels need it; the tutorial asks for 9.0.1), and then to '{pip_spec}': `pip "
            "install --upgrade pip` in a Python 2.7 virtualenv fetches pip 21 or later, which "
            "cannot run on 2.7 (pip 8 ignores Requires-Python).",
        ),
        Note(
            routes=PY3,
            text="pip is upgraded only when it is older than 19.0 (TensorFlow's manylinux "
            "wheels need it; the tutorial asks for 9.0.1), and then to '{pip_spec}', a pip "
            "that runs on Python {python}.",
        ),
        Note(
            routes=PY2,
            text="TensorFlow and the serving API are pinned below 2 ({tf_version}), since the "
            "tutorial's check uses tf.Session, which TensorFlow 2 removed, and on Python 2.7 "
            "pip would pick 2.1.",
        ),
        Note(
            routes=PY3,
            text="TensorFlow and the serving API are both {tf_version} (the newest for Python "
            "{python}), and the hello check uses TensorFlow 2's eager .numpy(), since "
            "TensorFlow 2 has no tf.Session.",
        ),
    ],
    checks=[],
    actions=[
        Command(
            id="virtualenv",
            title="Create the virtualenv {venv}",
            run_as="admin",
            cwd="{home}",
            argv=["{venv_create}"],
            done_when=[PathExists(name="virtualenv exists", path="{venv}/bin/activate")],
        ),
        Command(
            id="pip-upgrade",
            title="Upgrade pip if older than 19.0 ({pip_spec})",
            run_as="admin",
            argv=["{venv}/bin/pip", "install", "--upgrade", "{pip_spec}"],
            idempotent=True,
            done_when=[PIP_FOR_TF],
        ),
        _pip_install("grpcio", "Install gRPC", "grpcio", "grpcio"),
        _pip_install("tensorflow", "Install TensorFlow {tf_version}", "{tf_spec}", "tensorflow"),
        _pip_install(
            "serving-api",
            "Install the TensorFlow Serving API {tf_version}",
            "{api_spec}",
            "tensorflow-serving-api",
        ),
    ],
    results=[PIP_VERSION, HELLO],
)
