"""Issue 17 item 2(a): TF Serving compiled from source on the releases installed today, with
the Bazel version its tag pins (steps/serving_build.py), after the preflight has measured
RAM and disk. The real CLI on sandboxes; the stand-in bazel replays real Bazel output
(tests/fixtures/bazel), its installer installs the version named in the download URL."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable

import pytest

from steps.core.plan import Hardware, resource_flags
from steps.serving_build import TAGS, default_tag
from tests.sandbox import Sandbox
from tests.test_distros import FORBIDDEN

BUILD = {"EMLSETUP_SERVING__ROUTE": "build"}
# The route's TensorFlow (steps/routes.py PYTHONS) -> its TF Serving tag -> that tag's Bazel.
NEWER = {
    "sles15sp5": ("2.20.0", "7.4.1"),  # Python 3.11, TF 2.21.0: no 2.21.0 tag, the nearest
    "rhel94": ("2.19.1", "6.5.0"),  # Python 3.9, TF 2.19.1
    "ubuntu2204": ("2.20.0", "7.4.1"),  # Python 3.10
    "debian12": ("2.20.0", "7.4.1"),  # Python 3.11
}
# /proc/meminfo of a 32 GB server with 20 GB available and 2 GB of swap (kernel 6.1).
ROOMY_MEMINFO = """\
MemTotal:       32791752 kB
MemFree:         9214436 kB
MemAvailable:   20971520 kB
Buffers:          310228 kB
Cached:         11204948 kB
SwapTotal:       2097148 kB
SwapFree:        2097148 kB
"""


def _commands(sb: Sandbox, *args: str) -> tuple[dict[str, object], str]:
    done = sb.run_cli(*args, "plan", "--json", env=sb.env(**BUILD))
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    lines = [
        " ".join(shlex.quote(a) for a in action.get("argv") or []) + " " + action.get("content", "")
        for step in plan["steps"]
        for action in step["actions"]
    ]
    return plan, "\n".join(lines)


@pytest.mark.parametrize("sample", sorted(NEWER))
def test_a_newer_release_builds_the_tag_of_its_tensorflow_with_that_tags_bazel(
    make_sandbox: Callable[..., Sandbox], sample: str
) -> None:
    tag, bazel = NEWER[sample]
    sb = make_sandbox(sample)
    plan, text = _commands(sb)
    assert plan["serving_route"] == "build" and plan["serving_duration"] == "2-4 hours"
    for name in FORBIDDEN:
        assert name not in text, f"{sample}: {name} in the plan"
    url = f"https://github.com/bazelbuild/bazel/releases/download/{bazel}/"
    assert f"{url}bazel-{bazel}-installer-linux-x86_64.sh" in text
    assert f"/home/tmsadm/bazel-{bazel}-installer-linux-x86_64.sh --user" in text
    assert f"git clone --recurse-submodules --branch {tag} " in text
    assert "0.11.1" not in text and "--branch 1.8.0" not in text
    assert "bazel build -c opt " in text and text.count(" tensorflow_serving/...") == 2
    assert "//tensorflow_serving/model_servers:tensorflow_model_server" in text
    assert " unzip" in text  # the Bazel installer stops without it
    assert "podman pull" not in text and "tensorflow-model-server" not in text
    steps: list[dict[str, list[dict[str, str]]]] = plan["steps"]  # type: ignore[assignment]
    five = next(s for s in steps if s["number"] == 5)
    assert five["results"][0]["name"] == f"bazel version is exactly {bazel}"
    shown = sb.run_cli("plan", env=sb.env(**BUILD)).stdout
    assert "TF Serving: build (2-4 hours)" in shown
    assert f"Built at TensorFlow Serving's tag {tag}" in shown


@pytest.mark.parametrize("sample", ["sles12sp2", "rhel7", "centos7", "ubuntu1604", "debian9"])
def test_the_tutorials_releases_still_build_1_8_0_with_bazel_0_11_1(
    make_sandbox: Callable[..., Sandbox], sample: str
) -> None:
    plan, text = _commands(make_sandbox(sample))
    assert plan["serving_route"] == "build"
    assert "bazel-0.11.1-installer-linux-x86_64.sh --user" in text
    assert "--branch 1.8.0 " in text and "7.4.1" not in text


def test_serving_ref_chooses_the_tag_and_an_unknown_one_is_one_line(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox("debian12")
    _, text = _commands(sb, "--set", 'serving.ref="2.13.1"')
    assert "--branch 2.13.1 " in text and "bazel-5.3.0-installer" in text
    refused = sb.run_cli("--set", 'serving.ref="2.99.0"', "plan", env=sb.env(**BUILD))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "serving.ref = '2.99.0'" in refused.stderr and "2.20.0" in refused.stderr
    assert "1.8.0, 1.15.0, 2.6.2" in refused.stderr
    # An expert who names the Bazel too builds any ref; a container never needs a tag.
    _, expert = _commands(
        sb, "--set", 'serving.ref="2.99.0"', "--set", "serving.bazel_version=8.0.0"
    )
    assert "--branch 2.99.0 " in expert and "bazel-8.0.0-installer" in expert
    pulled = sb.run_cli("--set", 'serving.ref="2.99.0"', "plan")
    assert pulled.returncode == 0 and "TF Serving: apt" in pulled.stdout


def test_the_tag_defaults_to_the_routes_tensorflow_or_the_nearest_tag() -> None:
    assert default_tag("3.6", "2.6.2") == "2.6.2" and TAGS["2.6.2"].bazel == "3.7.2"
    assert default_tag("3.8", "2.13.1") == "2.13.1" and TAGS["2.13.1"].bazel == "5.3.0"
    assert default_tag("3.12", "2.21.0") == "2.20.0"  # 2.21.0 is on PyPI, not a tag
    assert default_tag("2.7", "1.15.0") == "1.8.0"  # the tutorial's pin
    assert default_tag("3.9", "0.1.0") == "1.8.0"  # older than any: the oldest


def test_a_small_vm_caps_bazel_in_the_words_of_its_version() -> None:
    small = Hardware(cpus=2, mem_mb=4096)
    assert resource_flags(small) == ["--local_resources=2457,2.0,1.0", "--jobs=2"]
    assert resource_flags(small, "7.4.1") == [
        "--local_ram_resources=2457", "--local_cpu_resources=2", "--jobs=2",
    ]  # fmt: skip
    sb_flags = resource_flags(small, "0.24.1")
    assert not [f for f in sb_flags if f.startswith("--local_resources")]


def test_too_little_memory_or_disk_stops_the_build_on_a_newer_release_before_step_2(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox("debian12", mem_kb=4 * 1024 * 1024)
    done = sb.run_cli("run", "--yes", "--from-step", "2", "--to-step", "5", env=sb.env(**BUILD))
    assert done.returncode == 1, done.stdout[-3000:]
    assert (
        "✘ fail  memory   memory for the build (RAM available + free swap) (step 5)" in done.stdout
    )
    assert "measured: 4.0 GB RAM available + 0 MB swap; needed: 8.0 GB" in done.stdout
    assert "memory: add 4.0 GB of swap" in done.stdout
    disk = sb.env(**BUILD, EMLSETUP_PREFLIGHT__BAZEL_OUTPUT_GB="1000000")
    full = sb.run_cli("run", "--yes", "--from-step", "2", "--to-step", "5", env=disk)
    assert full.returncode == 1
    assert "✘ fail  disk     free disk for" in full.stdout
    assert "Bazel's output base /home/tmsadm/.cache/bazel" in full.stdout
    assert sb.calls("useradd") == [] and sb.calls("apt-get") == []
    assert not (sb.state_dir / "state.json").exists()


def test_step_5_builds_tf_serving_2_20_on_debian_12_and_step_6_serves_it(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox("debian12")
    sb.target("/proc/meminfo").write_text(ROOMY_MEMINFO)
    env = sb.env(**BUILD)
    done = sb.run_cli("run", "--yes", "--from-step", "2", "--to-step", "6", env=env)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "✔ ok    memory   memory for the build" in done.stdout
    assert "measured: 20.0 GB RAM available + 2.0 GB swap; needed: 8.0 GB" in done.stdout
    installs = [c["argv"] for c in sb.calls("apt-get") if c["argv"][:1] == ["install"]]
    assert any("unzip" in a for a in installs)
    clone = sb.calls("git")[0]["argv"]
    assert clone[:5] == ["clone", "--recurse-submodules", "--branch", "2.20.0",
                         "https://github.com/tensorflow/serving"]  # fmt: skip
    assert sb.target("/home/tmsadm/bin/bazel").exists()
    builds = [c for c in sb.calls("bazel") if c["argv"][:1] == ["build"]]
    # `tensorflow_serving/...` builds the model server too: its own build is found done.
    assert [b["argv"][-1] for b in builds] == ["tensorflow_serving/..."]
    server = "/home/tmsadm/serving/bazel-bin/tensorflow_serving/model_servers/"
    assert sb.target(server + "tensorflow_model_server").exists()
    assert all(b["user"] == "tmsadm" and b["cwd"] == str(sb.target("/home/tmsadm/serving"))
               for b in builds)  # fmt: skip
    log = next((sb.state_dir / "logs").glob("*/5-build-*.log"))
    assert "Build completed successfully" in log.read_text()  # the replayed real Bazel
    check = sb.run_cli("check", "--step", "5", env=env)
    assert check.returncode == 0, check.stdout
    assert "bazel version is exactly 7.4.1" in check.stdout
    servers = sb.calls("tensorflow_model_server")
    assert len(servers) == 1 and servers[0]["user"] == "tmsadm"
    assert f"--port={sb.port}" in servers[0]["argv"]
    again = sb.run_cli("run", "--yes", "--from-step", "5", "--to-step", "5", env=env)
    assert (
        again.returncode == 0 and len([c for c in sb.calls("bazel") if "build" in c["argv"]]) == 1
    )


async def test_the_welcome_screen_shows_the_build_route_on_a_newer_release(
    make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.text import Text
    from textual.widgets import Static

    from tests.tui_support import open_app, settle
    from tui.screens.welcome import WelcomeScreen

    app = open_app(make_sandbox("rhel94"), monkeypatch, **BUILD)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        content = app.screen.query_one("#distro", Static).content
        text = content.plain if isinstance(content, Text) else str(content)
        assert "TF Serving: build (2-4 hours)" in text, text
