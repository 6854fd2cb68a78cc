"""Only the variables a build needs reach the build and state.json, and no credential in a
URL is recorded (issue 15, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

from steps.core.buildenv import build_env, recordable, restore, strip_url_credentials
from tests.sandbox import Sandbox

PROXY_PW = "Proxy-5ecret-9f3"
HDB_PW = "HdbPw-5ecret-77a"


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]


def test_proxy_credentials_and_other_secrets_in_the_environment_reach_no_file(
    sandbox: Sandbox,
) -> None:
    env = sandbox.env(
        https_proxy=f"http://admin:{PROXY_PW}@proxy.example:3128",
        HDB_PW=HDB_PW,
        SOME_UNRELATED_VAR="not for the build",
    )
    done = sandbox.run_cli("run", "--yes", "--from-step", "2", "--to-step", "5", env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    leaks = [
        str(p) for p in _files(sandbox.path) if PROXY_PW.encode() in p.read_bytes()
        or HDB_PW.encode() in p.read_bytes()
    ]  # fmt: skip
    assert leaks == []
    state = json.loads((sandbox.state_dir / "state.json").read_text())
    build = next(a for s in state["steps"] if s["number"] == 5 for a in s["actions"]
                 if a["id"] == "build")  # fmt: skip
    recorded = build["commands"][-1]["env"]
    assert recorded["https_proxy"] == "http://proxy.example:3128"
    assert "HDB_PW" not in recorded and "SOME_UNRELATED_VAR" not in recorded
    assert {"PATH", "HOME", "LC_ALL"} <= set(recorded)


def test_the_build_keeps_proxy_credentials_and_a_rerun_gets_them_back() -> None:
    current = {
        "PATH": "/usr/bin",
        "https_proxy": "http://u:p%40ss@proxy:3128",
        "HDB_PW": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "EMLSETUP_BUILD_ENV": "AWS_*,BAZEL_*",
        "BAZEL_OPTS": "-Xmx2g",
        "LC_MESSAGES": "C",
    }
    env = build_env(current)
    assert env == {
        "PATH": "/usr/bin",
        "https_proxy": "http://u:p%40ss@proxy:3128",  # the downloads need them
        "BAZEL_OPTS": "-Xmx2g",
        "LC_MESSAGES": "C",
    }  # a secret-looking name stays out even when asked for
    saved = recordable(env)
    assert saved["https_proxy"] == "http://proxy:3128"
    assert restore(saved, env) == env  # identical re-run, nothing written down
    other = {**env, "https_proxy": "http://u:p@another:3128"}
    assert restore(saved, other)["https_proxy"] == "http://proxy:3128"


def test_credentials_are_cut_out_of_every_url_in_a_text() -> None:
    text = 'git clone https://me:tok@github.com/x "ftp://a@b/c" http://host/u@v'
    assert strip_url_credentials(text) == (
        'git clone https://github.com/x "ftp://b/c" http://host/u@v'
    )
