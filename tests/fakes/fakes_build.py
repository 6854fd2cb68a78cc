"""Stand-ins for the build chain: curl, wget, git, virtualenv, pip, the virtualenv's python,
the Bazel installer, bazel (replaying real recordings with their timing) and
tensorflow_model_server (real gRPC on its port, see tf_serving_grpc)."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fakelib import FAKES_DIR, err, event, install_tool, local, offline, say

FIXTURES = FAKES_DIR.parent / "fixtures" / "bazel"
SERVER_REL = Path("bazel-bin/tensorflow_serving/model_servers/tensorflow_model_server")
OLD_PIP = "8.1.2"


def _target(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


def curl(argv: list[str]) -> int:
    url = [a for a in argv if a.startswith(("http://", "https://"))][-1]
    host = url.split("/")[2]
    if offline():
        err(f"curl: (6) Could not resolve host: {host}")
        return 6
    out = _target(argv, "-o")
    if out is None:
        say("<html>ok</html>")
        return 0
    m = re.search(r"bazel-([0-9.]+)-installer", url)
    if m:
        env = {"FAKE_BAZEL_LABEL": m.group(1)}
        install_tool(local(out).parent, "bazel-installer", env, filename=local(out).name)
        local(out).chmod(0o644)  # a download is not executable until chmod +x
    else:
        local(out).write_bytes(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n")
    return 0


def wget(argv: list[str]) -> int:
    return curl(argv)


def bazel_installer(argv: list[str]) -> int:
    if "--user" not in argv:
        err("Bazel installer: use --user for a user-mode install in $HOME/bin")
        return 1
    label = os.environ.get("FAKE_BAZEL_LABEL", "0.11.1")
    bin_dir = Path(os.environ["HOME"]) / "bin"
    install_tool(bin_dir, "bazel", {"FAKE_BAZEL_LABEL": label})
    say(f"Bazel is now installed!\n\nMake sure you have \"{bin_dir}\" in your path.")
    return 0


def git(argv: list[str]) -> int:
    if argv[:1] == ["-C"]:
        where, argv = local(argv[1]), argv[2:]
    else:
        where = Path.cwd()
    if argv[:1] == ["describe"]:
        tag = where / ".git" / "fake-tag"
        if not tag.exists():
            err("fatal: no tag exactly matches 'HEAD'")
            return 128
        say(tag.read_text().strip())
        return 0
    if argv[:1] != ["clone"]:
        return 0
    url, dest = [a for a in argv[1:] if not a.startswith("-") and a != _target(argv, "--branch")]
    if offline():
        err(f"fatal: unable to access '{url}/': Could not resolve host: github.com")
        return 128
    path = local(dest)
    if path.exists() and any(path.iterdir()):
        err(f"fatal: destination path '{dest}' already exists and is not an empty directory.")
        return 128
    # Like git's builtin/clone.c (git/git): the repository (.git, then HEAD at the branch)
    # exists first, the working tree and the submodules are written last; FAKE_CLONE_S
    # stretches that, so a wizard killed meanwhile leaves a clone that is not complete yet.
    say(f"Cloning into '{dest}'...")
    (path / ".git").mkdir(parents=True)
    (path / ".git" / "fake-tag").write_text((_target(argv, "--branch") or "master") + "\n")
    event("clone middle")
    time.sleep(float(os.environ.get("FAKE_CLONE_S", "0")))
    (path / "tensorflow_serving").mkdir()
    (path / "tensorflow").mkdir()
    (path / "tensorflow" / "WORKSPACE").write_text("workspace(name = 'org_tensorflow')\n")
    (path / "WORKSPACE").write_text("workspace(name = 'tf_serving')\n")
    say("Submodule 'tensorflow' registered for path 'tensorflow'")
    event("clone end")
    return 0


def virtualenv(argv: list[str]) -> int:
    venv = local([a for a in argv if not a.startswith("-")][-1])
    bin_dir = venv / "bin"
    install_tool(bin_dir, "pip", {"FAKE_VENV": str(venv)})
    install_tool(bin_dir, "venv-python", {"FAKE_VENV": str(venv)}, filename="python")
    (bin_dir / "activate").write_text(f"VIRTUAL_ENV={venv}\n")
    (venv / "site.json").write_text(json.dumps({"pip": OLD_PIP}))
    say(f"New python executable in {venv}/bin/python2.7\nInstalling setuptools, pip, wheel...done.")
    return 0


def _site() -> tuple[Path, dict[str, str]]:
    f = Path(os.environ["FAKE_VENV"]) / "site.json"
    return f, json.loads(f.read_text())


def pip(argv: list[str]) -> int:
    f, site = _site()
    if argv[:1] == ["--version"]:
        say(f"pip {site['pip']} from {f.parent}/lib/python2.7/site-packages/pip (python 2.7)")
    elif argv[:1] == ["show"]:
        if argv[1] not in site:
            err(f"WARNING: Package(s) not found: {argv[1]}")
            return 1
        say(f"Name: {argv[1]}\nVersion: {site[argv[1]]}")
    elif argv[:1] == ["install"]:
        for spec in (a for a in argv[1:] if not a.startswith("-")):
            name = re.split(r"[<>=]", spec)[0]
            site[name] = "20.3.4" if name == "pip" else "1.15.0"
            say(f"Successfully installed {name}-{site[name]}")
        f.write_text(json.dumps(site))
    return 0


def venv_python(argv: list[str]) -> int:
    _, site = _site()
    if "tensorflow" not in site:
        err("ImportError: No module named tensorflow")
        return 1
    say("Hello, TensorFlow!")
    return 0


def _fixture(argv: list[str], marks: Path) -> str:
    if os.environ.get("FAKE_BAZEL_FIXTURE"):
        return os.environ["FAKE_BAZEL_FIXTURE"]
    if "test" in argv:
        return "06-test"
    if (marks / "done").exists():
        return "02-noop-rebuild"
    return "10-rerun-right-after-sigkill" if (marks / "started").exists() else "01-first-build"


def bazel(argv: list[str]) -> int:
    command = next((a for a in argv if not a.startswith("-")), "")
    if command == "version":
        say(f"Build label: {os.environ.get('FAKE_BAZEL_LABEL', '0.11.1')}")
        say("Build target: bazel-out/k8-opt/bin/src/main/java/com/google/devtools/build/lib/")
        return 0
    if command not in ("build", "test"):
        return 0
    marks = Path.cwd() / ".fake-bazel"
    marks.mkdir(exist_ok=True)
    name = _fixture(argv, marks)
    (marks / "started").touch()
    speed = float(os.environ.get("FAKE_BAZEL_SPEED", "1"))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code, start = 0, time.monotonic()
    chunks = (FIXTURES / f"{name}.chunks.jsonl").read_text().splitlines()
    try:
        for i, raw in enumerate(chunks):
            if i == len(chunks) // 2:
                event("bazel middle")
            chunk = json.loads(raw)
            time.sleep(max(0.0, chunk["t"] / speed - (time.monotonic() - start)))
            if "exit" in chunk:
                code = int(chunk["exit"])
                break
            stream = sys.stdout if chunk["stream"] == "stdout" else sys.stderr
            stream.write(chunk["data"])
            stream.flush()
    except KeyboardInterrupt:
        err("\nBazel caught interrupt signal; shutting down.\n")
        err("ERROR: build interrupted\nFAILED: Build did NOT complete successfully")
        return 8
    if code < 0:
        os.kill(os.getpid(), -code)
    if code == 0 and command == "build":
        install_tool((Path.cwd() / SERVER_REL).parent, SERVER_REL.name)
        (marks / "done").touch()
    event("bazel end")
    return code


def model_server(argv: list[str]) -> int:
    """Real gRPC on --port, answering GetModelStatus as TF Serving does (tf_serving_grpc)."""
    from tf_serving_grpc import serve

    def started() -> None:
        pids = os.environ.get("FAKE_PIDS")
        if pids:
            Path(pids, f"server-{os.getpid()}").write_text(str(os.getpid()))

    return serve(argv, started)


def quiet(argv: list[str]) -> int:
    say("4.8.5")
    return 0


TOOLS: dict[str, Callable[[list[str]], int]] = {
    "curl": curl,
    "wget": wget,
    "bazel-installer": bazel_installer,
    "git": git,
    "virtualenv": virtualenv,
    "pip": pip,
    "venv-python": venv_python,
    "bazel": bazel,
    "tensorflow_model_server": model_server,
    **{t: quiet for t in ("gcc", "g++", "make", "swig", "zip", "python2.7")},
}

if __name__ == "__main__":
    sys.exit(TOOLS[sys.argv[1]](sys.argv[2:]))
