"""Tutorial step 6: an (empty) model configuration and the running model server."""

from checks.spec import CommandSucceeds, PathExists, ServiceFresh, TfServingAnswers
from steps.core.model import Command, EnsureDir, StartDaemon, Step, WriteFile
from steps.core.needs import ADMIN_HOME

CONFIG = "{export}/config.cnf"
# Where systemd runs (sd_booted(3): /run/systemd/system exists), the model server is a unit,
# so it is back after a reboot; started again whenever its unit or config.cnf changed.
SYSTEMD = PathExists(name="systemd runs this system", path="/run/systemd/system")
UNIT = "tensorflow-serving.service"
UNIT_PATH = "/etc/systemd/system/" + UNIT
UNIT_TEXT = """\
[Unit]
Description=TensorFlow Serving for SAP HANA EML (written by emlsetup)
Wants=network-online.target
After=network-online.target

[Service]
User={admin}
ExecStart={serving_exec}
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""
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
        "Where systemd runs, the model server is the unit " + UNIT + " instead of nohup: "
        "enabled, so it is back after a reboot (the tutorial's nohup server is not), and "
        "restarted whenever the unit or config.cnf changed since it started.",
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
        WriteFile(
            id="service-unit",
            title="Write the systemd unit " + UNIT,
            path=UNIT_PATH,
            content=UNIT_TEXT,
            only_if=[SYSTEMD],
            done_when=[PathExists(name=UNIT + " exists", path=UNIT_PATH)],
        ),
        Command(
            id="service-reload",
            title="Let systemd read the unit",
            argv=["systemctl", "daemon-reload"],
            only_if=[SYSTEMD],
            idempotent=True,
            done_when=[
                CommandSucceeds(
                    name="systemd has read " + UNIT,
                    argv=["systemctl", "show", "-p", "NeedDaemonReload", UNIT],
                    expect="NeedDaemonReload=no",
                )
            ],
        ),
        Command(
            id="service-enable",
            title="Start the model server at every boot",
            argv=["systemctl", "enable", UNIT],
            only_if=[SYSTEMD],
            idempotent=True,
            done_when=[
                CommandSucceeds(name=UNIT + " enabled", argv=["systemctl", "is-enabled", UNIT])
            ],
        ),
        Command(
            id="service-restart",
            title="(Re)start the model server with its current configuration",
            argv=["systemctl", "restart", UNIT],
            only_if=[SYSTEMD],
            idempotent=True,
            ready_when=[SERVING_ANSWERS],
            done_when=[
                ServiceFresh(
                    name=UNIT + " runs the current configuration",
                    unit=UNIT,
                    files=[UNIT_PATH, CONFIG],
                )
            ],
        ),
        StartDaemon(
            id="start-server",
            title="Start tensorflow_model_server on port {port}",
            # The route's command: the binary (built, or from apt), or its container image.
            argv=["{serving_argv}"],
            log_file="{export}/tensorflow_model_server.log",
            ready_host="{serving_host}",
            ready_port="{port}",
            unneeded_when=[SYSTEMD],  # systemd runs it (above)
            done_when=[SERVING_ANSWERS],
        ),
    ],
    results=[SERVING_ANSWERS],
)
