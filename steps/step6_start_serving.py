"""Tutorial step 6: an (empty) model configuration and the running model server."""

from checks.spec import PathExists, TfServingAnswers
from steps.model import EnsureDir, StartDaemon, Step, WriteFile
from steps.needs import ADMIN_HOME

CONFIG = "{export}/config.cnf"
# Asked over gRPC (GetModelStatus), not a TCP connect: any program on the port would pass
# that, and TF Serving would never be started.
SERVING_ANSWERS = TfServingAnswers(
    name="TensorFlow Serving answers on {serving_host}:{port}",
    host="{serving_host}",
    port="{port}",
    config_file=CONFIG,
    fix="start it: tensorflow_model_server --port={port} --model_config_file="
    + CONFIG
    + " (its log: {export}/tensorflow_model_server.log)",
)

STEP = Step(
    number=6,
    needs=[ADMIN_HOME],
    title="Start TensorFlow Serving",
    explanation="""\
Create the export folder `{export}` for the model configuration and the exported models,
write an empty model list to `config.cnf`:

```
model_config_list: {
}
```

and start `tensorflow_model_server` on port **{port}** in the background, its output in
`{export}/tensorflow_model_server.log`.""",
    corrections=[
        "The tutorial's background command says `-port=8500`; the flag is `--port`.",
        "An existing config.cnf is never overwritten: it may already list your models.",
        "The server is started in its own session, so it keeps running when the wizard or "
        "your SSH session ends (like the tutorial's nohup).",
        "It counts as running only when it answers as TensorFlow Serving (gRPC "
        "GetModelStatus): another program on the port is named, not taken for it.",
    ],
    path_extra=["{venv}/bin", "{checkout}/bazel-bin/tensorflow_serving/model_servers"],
    actions=[
        EnsureDir(
            id="export-dir",
            title="Create {export}",
            path="{export}",
            # Found there, it is not created again: a re-run reports nothing changed.
            done_when=[PathExists(name="{export} exists", path="{export}")],
        ),
        WriteFile(
            id="model-config",
            title="Write an empty model configuration",
            path=CONFIG,
            owner="admin",
            content="model_config_list: {\n}\n",
            done_when=[PathExists(name="config.cnf exists", path=CONFIG)],
        ),
        StartDaemon(
            id="start-server",
            title="Start tensorflow_model_server on port {port}",
            # The route's command: the binary (built, or from apt), or its container image.
            argv=["{serving_argv}"],
            log_file="{export}/tensorflow_model_server.log",
            ready_host="{serving_host}",
            ready_port="{port}",
            done_when=[SERVING_ANSWERS],
        ),
    ],
    results=[SERVING_ANSWERS],
)
