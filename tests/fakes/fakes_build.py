"""Stand-ins for the build chain: curl, wget, git, virtualenv, pip, the virtualenv's python,
the Bazel installer, bazel (replaying real recordings with their timing) and
tensorflow_model_server (real gRPC on its port, see tf_serving_grpc)."""

from __future__ import annotations

import json
import os
import re
import shutil
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
    if not local(out).parent.is_dir():
        err("curl: (23) Failure writing output to destination")  # curl has no mkdir -p
        return 23
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


# What every Bazel installer, 0.11.1 (the tutorial's) to 7.x, does without unzip on PATH
# (bazelbuild/bazel scripts/packages/template_bin.sh, "# Test for dependencies": `if ! which
# unzip >/dev/null; then` these lines to stderr, `exit 1`), after its banner on stdout.
UNZIP_MISSING = (
    "\nunzip not found, please install the corresponding package.\n"
    "See http://bazel.build/docs/install.html for more information on\n"
    "dependencies of Bazel."
)


def bazel_installer(argv: list[str]) -> int:
    """bazel-X-installer-linux-x86_64.sh: its banner, its unzip test, then $HOME/bin/bazel
    (--user). A real 0.27.0 run without unzip prints "Bazel installer", its release notes,
    then exactly the three lines above (the oldest templates say bazel.io instead)."""
    if "--user" not in argv:
        err("Bazel installer: use --user for a user-mode install in $HOME/bin")
        return 1
    say("Bazel installer\n---------------\n")
    if shutil.which("unzip") is None:
        err(UNZIP_MISSING)
        return 1
    label = os.environ.get("FAKE_BAZEL_LABEL", "0.11.1")
    bin_dir = Path(os.environ["HOME"]) / "bin"
    install_tool(bin_dir, "bazel", {"FAKE_BAZEL_LABEL": label})
    say(f'Bazel is now installed!\n\nMake sure you have "{bin_dir}" in your path.')
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
    # In index order, as git checks them out; TensorFlow is no submodule since February
    # 2018 (tensorflow/serving 2c450d29: Bazel downloads it), so --recurse-submodules finds
    # none. The last files are under tools/ (`git ls-tree -r --name-only TAG`): 1.8.0 has only
    # tools/bazel.rc, later tags gen_status_stamp.sh and run_in_docker.sh.
    tag = _target(argv, "--branch") or "master"
    tools = ["bazel.rc"] if tag == "1.8.0" else ["gen_status_stamp.sh", "run_in_docker.sh"]
    (path / "WORKSPACE").write_text("workspace(name = 'tf_serving')\n")
    for folder in ("tensorflow_serving", "third_party", "tools"):
        (path / folder).mkdir()
    for name in tools:
        (path / "tools" / name).write_text("# fake\n")
    event("clone end")
    return 0


def virtualenv(argv: list[str]) -> int:
    python = next((a.split("python", 2)[-1] for a in argv if a.startswith("--python=")), "2.7")
    venv = local([a for a in argv if not a.startswith("-")][-1])
    _make_venv(venv, python or "2.7", OLD_PIP)
    say(f"New python executable in {venv}/bin/python{python}")
    say("Installing setuptools, pip, wheel...done.")
    return 0


# pip of each Python's own venv module (ensurepip) on the systems the wizard meets: Debian 12
# python3.11 bundles pip 23.0.1, SLES 15's python3.6 pip 10.0.1 (their python3 packages).
VENV_PIP = {"3.6": "10.0.1", "3.9": "21.3.1", "3.11": "23.0.1", "3.12": "24.0", "3.10": "22.0.2"}


def system_python(argv: list[str]) -> int:
    """python3.X as far as the wizard uses it: `python3.X -m venv DIR`."""
    version = Path(sys.argv[0]).name.removeprefix("python") or "3"
    if argv[:2] == ["-m", "venv"]:
        _make_venv(local(argv[-1]), version, VENV_PIP.get(version, "23.0.1"))
        return 0
    say(f"Python {version}.0")
    return 0


def _make_venv(venv: Path, python: str, pip_version: str) -> None:
    bin_dir = venv / "bin"
    install_tool(bin_dir, "pip", {"FAKE_VENV": str(venv)})
    install_tool(bin_dir, "venv-python", {"FAKE_VENV": str(venv)}, filename="python")
    (bin_dir / "activate").write_text(f"VIRTUAL_ENV={venv}\n")
    (venv / "site.json").write_text(json.dumps({"pip": pip_version, "python": python}))


def _site() -> tuple[Path, dict[str, str]]:
    f = Path(os.environ["FAKE_VENV"]) / "site.json"
    return f, json.loads(f.read_text())


# The newest of each, as PyPI serves them: pip's newest and its last for Python 2.7 (20.3.4:
# pip 21.0 "Drop support for Python 2", pip.pypa.io/en/stable/news/#v21-0), TensorFlow's
# last 1.x with cp27 wheels and its newest 2.x.
NEWEST = {"pip": "25.3", "tensorflow": "2.21.0", "tensorflow-serving-api": "2.21.0"}
LAST_ON_PY27 = {"pip": "20.3.4", "tensorflow": "1.15.0", "tensorflow-serving-api": "1.15.0"}
_PIP21_ON_PY27 = (
    "Traceback (most recent call last):\n"
    '  File "{venv}/bin/pip", line 5, in <module>\n'
    "    from pip._internal.cli.main import main\n"
    '  File "{venv}/lib/python2.7/site-packages/pip/_internal/cli/main.py", line 60\n'
    '    sys.stderr.write(f"ERROR: {{exc}}")\n'
    "                                   ^\n"
    "SyntaxError: invalid syntax"
)


def _pick(name: str, spec: str, site: dict[str, str]) -> str:
    """What pip picks: Requires-Python is honoured from pip 9.0 on (pip.pypa.io/en/stable/
    news/#v9-0-0); pip 8 (Ubuntu 16.04's virtualenv) takes the newest release whatever
    Python it needs. An upper bound (<21, <2) or ~= pin is honoured by every pip."""
    py27 = site.get("python", "2.7") == "2.7"
    upper = re.search(r"<\s*([0-9.]+)", spec)
    compat = re.search(r"~=\s*([0-9.]+)", spec)
    if compat:
        return compat.group(1)
    if upper:
        return {"pip": "20.3.4", "tensorflow": "1.15.0", "tensorflow-serving-api": "1.15.0"}.get(
            name, "1.0"
        )
    honours = int(site["pip"].split(".")[0]) >= 9
    if py27 and honours:
        return LAST_ON_PY27.get(name, "1.0")
    return NEWEST.get(name, "1.43.0" if name == "grpcio" else "1.0")


def pip(argv: list[str]) -> int:
    f, site = _site()
    if site.get("python", "2.7") == "2.7" and int(site["pip"].split(".")[0]) >= 21:
        err(_PIP21_ON_PY27.format(venv=f.parent))  # pip 21 cannot even start on 2.7
        return 1
    if argv[:1] == ["--version"]:
        py = site.get("python", "2.7")
        say(f"pip {site['pip']} from {f.parent}/lib/python{py}/site-packages/pip (python {py})")
    elif argv[:1] == ["show"]:
        if argv[1] not in site:
            err(f"WARNING: Package(s) not found: {argv[1]}")
            return 1
        say(f"Name: {argv[1]}\nVersion: {site[argv[1]]}")
    elif argv[:1] == ["install"]:
        for spec in (a for a in argv[1:] if not a.startswith("-")):
            name = re.split(r"[<>=~]", spec)[0]
            site[name] = _pick(name, spec, site)
            say(f"Successfully installed {name}-{site[name]}")
        f.write_text(json.dumps(site))
    return 0


def venv_python(argv: list[str]) -> int:
    """TF 1 has tf.Session and no eager .numpy(); TF 2 the other way round."""
    _, site = _site()
    if "tensorflow" not in site:
        err("ImportError: No module named tensorflow")
        return 1
    code = argv[-1] if argv else ""
    tf2 = not site["tensorflow"].startswith("1.")
    if tf2 and "tf.Session" in code:
        err("AttributeError: module 'tensorflow' has no attribute 'Session'")
        return 1
    if not tf2 and ".numpy()" in code:
        err("AttributeError: 'Tensor' object has no attribute 'numpy'")
        return 1
    say("Hello, TensorFlow!" if tf2 else "b'Hello, TensorFlow!'")
    return 0


def podman(argv: list[str]) -> int:
    """podman pull / image exists / run --entrypoint, as the wizard uses them
    (docs.podman.io: podman-image-exists exits 1 when the image is not local)."""
    images = local("/var/lib/fake-images")
    have = set(images.read_text().split()) if images.exists() else set()
    if argv[:1] == ["pull"]:
        if offline():
            err(f"Error: initializing source docker://{argv[1]}: pinging container registry")
            return 125
        images.write_text("".join(f"{i}\n" for i in sorted(have | {argv[1]})))
        say(f"Trying to pull {argv[1]}...\nWriting manifest to image destination")
        return 0
    if argv[:2] == ["image", "exists"]:
        return 0 if argv[2] in have else 1
    if argv[:1] == ["run"]:
        image = next((a for a in argv if a.startswith("docker.io/")), "")
        if image not in have:
            err(f"Error: {image}: image not known")
            return 125
        return model_server(argv[argv.index(image) + 1 :])
    return 0


def _fixture(argv: list[str], marks: Path) -> str:
    if os.environ.get("FAKE_BAZEL_FIXTURE"):
        return os.environ["FAKE_BAZEL_FIXTURE"]
    if "test" in argv:
        return "06-test"
    if (marks / "done").exists():
        return "02-noop-rebuild"
    return "10-rerun-right-after-sigkill" if (marks / "started").exists() else "01-first-build"


def _output_base() -> Path:
    """Bazel's output base for this workspace, as Bazel lays it out (bazel.build, "Output
    Directory Layout"): ~/.cache/bazel/_bazel_$USER/<MD5 of the workspace's path>, the path
    being the one on the sandboxed system. Like Bazel's, it holds read-only folders
    (bazelbuild/bazel#15616: tree artifacts and tool outputs are made read-only)."""
    import hashlib

    cwd = Path.cwd()
    try:
        workspace = "/" + str(cwd.relative_to(local("/")))
    except ValueError:
        workspace = str(cwd)
    user = os.environ.get("FAKE_USER") or os.environ.get("USER", "root")
    digest = hashlib.md5(workspace.encode()).hexdigest()
    base = Path(os.environ.get("HOME", "/root")) / ".cache/bazel" / f"_bazel_{user}" / digest
    outputs = base / "execroot/serving/bazel-out/k8-opt/bin/tools"
    if not outputs.exists():
        outputs.mkdir(parents=True)
        (outputs / "tool").write_text("built\n")
        outputs.chmod(0o555)
    return base


def bazel(argv: list[str]) -> int:
    """`bazel --version` as releases answer it ("bazel 4.2.3", bazelbuild/bazel issue 26225),
    and as old ones refuse it ("Unknown startup option: '--version'.", issue 3599 on 0.5.3;
    the release that added it is not documented, so below 1.0 the stand-in refuses: the
    wizard then asks `bazel version`, which every release answers)."""
    label = os.environ.get("FAKE_BAZEL_LABEL", "0.11.1")
    if argv[:1] == ["--version"]:
        if label.startswith("0."):
            err("Unknown startup option: '--version'.")
            err("  For more info, run 'bazel help startup_options'.")
            return 2
        say(f"bazel {label}")
        return 0
    command = next((a for a in argv if not a.startswith("-")), "")
    if command == "version":
        say(f"Build label: {os.environ.get('FAKE_BAZEL_LABEL', '0.11.1')}")
        say("Build target: bazel-out/k8-opt/bin/src/main/java/com/google/devtools/build/lib/")
        return 0
    if command not in ("build", "test"):
        return 0
    marks = Path.cwd() / ".fake-bazel"
    marks.mkdir(exist_ok=True)
    _output_base()
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
    "podman": podman,
    **{
        t: system_python
        for t in ("python3", "python3.6", "python3.9", "python3.10", "python3.11", "python3.12")
    },
    **{t: quiet for t in ("gcc", "g++", "make", "swig", "zip", "unzip", "python2.7")},
}

if __name__ == "__main__":
    sys.exit(TOOLS[sys.argv[1]](sys.argv[2:]))
