"""Tutorial step 4: a Python 2.7 virtualenv with pip, gRPC, TensorFlow and its serving API."""

from checks.spec import CommandSucceeds, PathExists, ToolVersion
from steps.model import Command, Step
from steps.needs import ADMIN_HOME

PIP_VERSION = ToolVersion(
    name="pip >= 9.0.1 in {venv}",
    run_as="admin",
    argv=["{venv}/bin/pip", "--version"],
    pattern=r"^pip (?P<v>[0-9][0-9.]*)",
    op=">=",
    version="9.0.1",
    fix="{venv}/bin/pip install --upgrade pip",
)
HELLO = CommandSucceeds(
    name="TensorFlow says hello",
    run_as="admin",
    argv=[
        "{venv}/bin/python",
        "-c",
        "import tensorflow as tf; hello = tf.constant('Hello, TensorFlow!'); "
        "sess = tf.Session(); print(sess.run(hello))",
    ],
    expect="Hello, TensorFlow!",
    fix="re-install TensorFlow 1.x: {venv}/bin/pip install --force-reinstall 'tensorflow<2'",
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
As **{admin}**, create a Python 2.7 virtual environment named `tms` that can also see the
system's packages, then install into it: **pip 9.0.1 or later**, **gRPC** (`grpcio`),
**TensorFlow**, and the **TensorFlow Serving API**. TensorFlow is then checked by printing
*Hello, TensorFlow!* from a session.""",
    corrections=[
        "The wizard calls the environment's own pip ({venv}/bin/pip) instead of relying on "
        "`source ~/tms/bin/activate` in a shell it does not keep.",
        "pip is upgraded only when it is older than 9.0.1, as the tutorial says.",
        "TensorFlow and the serving API are pinned below 2: the tutorial's check uses "
        "tf.Session, which TensorFlow 2 removed, and on Python 2.7 pip would pick 2.1.",
    ],
    checks=[],
    actions=[
        Command(
            id="virtualenv",
            title="Create the virtualenv {venv}",
            run_as="admin",
            cwd="{home}",
            argv=["virtualenv", "--python=python2.7", "--system-site-packages", "{venv}"],
            done_when=[PathExists(name="virtualenv exists", path="{venv}/bin/activate")],
        ),
        Command(
            id="pip-upgrade",
            title="Upgrade pip if older than 9.0.1",
            run_as="admin",
            argv=["{venv}/bin/pip", "install", "--upgrade", "pip"],
            idempotent=True,
            done_when=[PIP_VERSION],
        ),
        _pip_install("grpcio", "Install gRPC", "grpcio", "grpcio"),
        _pip_install("tensorflow", "Install TensorFlow", "tensorflow<2", "tensorflow"),
        _pip_install(
            "serving-api",
            "Install the TensorFlow Serving API",
            "tensorflow-serving-api<2",
            "tensorflow-serving-api",
        ),
    ],
    results=[PIP_VERSION, HELLO],
)
