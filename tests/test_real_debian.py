"""One real system end to end: a Debian 12 root built from Debian's own packages
(debootstrap, from the mirror this machine's apt already uses), and `emlsetup run --yes
--root ROOT --chroot` doing steps 2-4 in it for real: useradd, visudo, apt-get, a Python 3
venv, pip installing grpcio, TensorFlow and the serving API from PyPI, the hello check. A
second run finds everything done and changes nothing.

Then the TensorFlow step 4 installed writes SavedModels there, in one process, as its
admin (tests/real_tf/write_savedmodels.py: SAP's Iris signature, other signature names, two
inputs, int64, string, [-1, 3], odd aliases, uint8, a TF2 model, two versions); our parser
must read each as that TensorFlow's ``saved_model_cli show --all`` does, and ``emlsetup
model add / test / remove`` must take each through the stand-ins (HANA test server, TF
Serving stand-in) to real TensorFlow's own answer (its smoke row and its sample rows given
with --input), or refuse it in one sentence leaving nothing behind, as issue 24 documents.

Needs root (debootstrap, chroot, mount); skipped otherwise, saying so. CI runs as root and
.ci/run installs debootstrap. About 6 minutes and 3 GB of temporary disk; the root is
removed afterwards even when a test fails (/proc is unmounted first).
See /work/shared/notes/real-debian-root.md for the measurements this lane is built on.
REAL_TF_MODELS=DIR runs the model tests on models written before (e.g. the committed
tests/fixtures/savedmodels) without a root, as any user.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.real_tf import adapter
from tests.real_tf import model_cycle as mc
from tests.real_tf.cli_text import parse_show_all
from tests.real_tf.written import COMMITTED, Written

REPO = Path(__file__).resolve().parent.parent
SUITE = "bookworm"  # Debian 12: the apt-py3 route (steps/routes.py)
NEEDS_ROOT = "needs root: debootstrap, chroot and mounting /proc (CI is root)"
VENV_PYTHON = "/home/tmsadm/tms/bin/python"  # step 4's venv, the admin's


def host_mirror() -> str:
    """The Debian mirror of this machine's apt sources (deb822 .sources or sources.list)."""
    texts = [p.read_text() for p in Path("/etc/apt/sources.list.d").glob("*.sources")]
    for text in texts:
        for stanza in text.split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            if uris and "security" not in uris.group(1) and "/debian" in uris.group(1):
                return uris.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        m = re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s", legacy.read_text(), re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def _sh(*argv: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def debian_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip(NEEDS_ROOT)
    if shutil.which("debootstrap") is None:
        pytest.fail("debootstrap is missing: apt-get update && apt-get install -y debootstrap")
    base = tmp_path_factory.mktemp("real-debian")
    root = base / "root"
    proc = root / "proc"
    try:
        made = _sh(
            "debootstrap", "--variant=minbase", "--include=sudo", SUITE, str(root), host_mirror()
        )
        assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
        # What a networked server has: a resolver, its host name, and (here) the CA that this
        # machine's pip trusts, given to the root's pip the way an admin would (/etc/pip.conf).
        for name in ("etc/resolv.conf", "etc/hosts"):
            if Path("/", name).exists():
                shutil.copy(Path("/", name), root / name)
        bundle = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
        if bundle.exists():
            shutil.copy(bundle, root / "etc/pip-host-ca.crt")
            (root / "etc/pip.conf").write_text("[global]\ncert = /etc/pip-host-ca.crt\n")
        mounted = _sh("mount", "-t", "proc", "proc", str(proc))
        assert mounted.returncode == 0, mounted.stderr
        yield root
    finally:
        if proc.is_dir() and os.path.ismount(proc):
            _sh("umount", str(proc)).returncode == 0 or _sh("umount", "-l", str(proc))
        if not os.path.ismount(proc):  # never delete through a mounted /proc
            shutil.rmtree(base, ignore_errors=True)


def _emlsetup(root: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMLSETUP_")}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    argv = [sys.executable, "-m", "tui", "--root", str(root), "--chroot", "--state-dir"]
    return subprocess.run(
        [*argv, str(state), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800
    )


def _fingerprint(root: Path) -> dict[str, str]:
    """What a run changes on the system: users, sudo rules, packages, the venv."""
    files = ["etc/passwd", "etc/shadow", "etc/sudoers.d/tmsadm", "var/lib/dpkg/status"]
    out = {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in files}
    venv = root / "home/tmsadm/tms/lib"
    out["venv"] = "\n".join(sorted(p.name for p in venv.glob("python3*/site-packages/*")))
    return out


def test_steps_2_to_4_for_real_on_debian_12_then_a_second_run_changes_nothing(
    debian_root: Path,
) -> None:
    state = _steps_state(debian_root)
    first = _emlsetup(debian_root, state, "run", "--yes", "--from-step", "2", "--to-step", "4")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    passwd = (debian_root / "etc/passwd").read_text()
    assert re.search(r"^tmsadm:x:\d+:\d+:TensorFlow Administrator:/home/tmsadm:", passwd, re.M)
    rule = debian_root / "etc/sudoers.d/tmsadm"
    assert (
        rule.read_text() == "tmsadm ALL=(ALL) NOPASSWD: ALL\n"
        and rule.stat().st_mode & 0o777 == 0o440
    )
    # The venv belongs to tmsadm and TensorFlow, gRPC and the serving API import there.
    hello = _sh(
        "chroot", str(debian_root), "sudo", "-n", "-u", "tmsadm", "--",
        VENV_PYTHON, "-c",
        "import grpc, tensorflow as tf; from tensorflow_serving.apis import model_service_pb2;"
        " print(tf.constant('Hello, TensorFlow!').numpy().decode(), tf.__version__)",
        timeout=300,
    )  # fmt: skip
    assert hello.returncode == 0, hello.stderr[-2000:]
    assert hello.stdout.startswith("Hello, TensorFlow! 2.")
    assert "TensorFlow says hello" in first.stdout
    before = _fingerprint(debian_root)

    again = _emlsetup(debian_root, state, "run", "--yes", "--from-step", "2", "--to-step", "4")
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
    assert "found done on the system" in again.stdout
    assert "$ apt-get" not in again.stdout and "$ useradd" not in again.stdout
    status = json.loads(_emlsetup(debian_root, state, "status", "--json").stdout)
    assert status["changed_actions"] == [] and status["steps_done"] == [2, 3, 4], status
    assert _fingerprint(debian_root) == before


# -- SavedModels written by the root's real TensorFlow ----------------------------------------


@pytest.fixture(scope="module")
def tf_models(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Written:
    """All the models, written by step 4's TensorFlow in the root, as tmsadm, in one process."""
    if os.environ.get("REAL_TF_MODELS"):
        return Written(Path(os.environ["REAL_TF_MODELS"]).resolve())
    root: Path = request.getfixturevalue("debian_root")
    if not (root / VENV_PYTHON.lstrip("/")).exists():  # run on its own (-k): steps 2-4 first
        state = tmp_path_factory.mktemp("state")
        done = _emlsetup(root, state, "run", "--yes", "--from-step", "2", "--to-step", "4")
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    shutil.copy(REPO / "tests/real_tf/write_savedmodels.py", root / "tmp/write_savedmodels.py")
    wrote = _sh(
        "chroot", str(root), "sudo", "-n", "-u", "tmsadm", "--",
        VENV_PYTHON, "/tmp/write_savedmodels.py", "/tmp/real-tf", timeout=600,
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stdout[-2000:] + wrote.stderr[-4000:]
    return Written(root / "tmp/real-tf", root)


@pytest.fixture(scope="module")
def shared_lane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mc.Lane]:
    with mc.lane(tmp_path_factory.mktemp("model-lane") / "sandbox") as lane:
        yield lane


@pytest.fixture
def model_lane(shared_lane: mc.Lane) -> Iterator[mc.Lane]:
    yield shared_lane
    shared_lane.clear()


def test_our_parser_reads_each_model_as_this_tensorflows_saved_model_cli(
    tf_models: Written,
) -> None:
    manifest = tf_models.manifest
    assert set(manifest) == set(COMMITTED.manifest)  # the models the committed set has
    assert all(m["tags"] == ["serve"] for m in manifest.values())
    for key in sorted(manifest):
        adapter.assert_reads_like_saved_model_cli(tf_models.base, key)
    if tf_models.root is not None:  # the recorded text is what the command itself prints
        shown = _sh(
            "chroot", str(tf_models.root), "sudo", "-n", "-u", "tmsadm", "--",
            str(Path(VENV_PYTHON).with_name("saved_model_cli")), "show", "--all",
            "--dir", "/tmp/real-tf/models/iris/1", timeout=300,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr[-3000:]
        recorded = (tf_models.base / "cli/iris-1.txt").read_text()
        assert parse_show_all(shown.stdout) == parse_show_all(recorded)


ADDED = [
    # SAP's Iris signature, with one table per input: PARAMS, 4 inputs, RESULTS (item 2)
    "iris/1",
    "other_signature/1",  # its only signature is "predict"
    "two_inputs/1",
    "int64_io/1",
    "string_io/1",
    "vector3/1",
    "mixed_case/1",
    # x and X, distinct to TensorFlow: two quoted columns in two input tables (item 9)
    "case_twins/1",
    # no variable: variables/ empty as TensorFlow wrote it (or gone, in the committed copy)
    "no_variables/1",
    # served by a TF Serving 2.x through "predict", its only signature besides the init op
    "tf2_module/1",
]


@pytest.mark.parametrize("key", ADDED)
def test_model_is_added_answers_as_tensorflow_from_sql_and_is_removed(
    key: str, tf_models: Written, model_lane: mc.Lane
) -> None:
    name = key.split("/")[0]
    before = len(model_lane.statements())
    smoke, sample = tf_models.answer(key), tf_models.answer(key, "sample")
    mc.add_test_remove(model_lane, name, tf_models.folder(key), smoke, sample)
    inputs = adapter.parsed_signatures(tf_models.folder(key))
    (sig,) = adapter.servable(inputs).values()
    calls = adapter.wrapper_call_arguments(model_lane.statements()[before:], name)
    assert calls and set(calls) == {len(sig.inputs) + 2}, calls  # SAP's N-table layout


def test_a_model_with_two_signatures_and_no_serving_default_is_refused_naming_both(
    tf_models: Written, model_lane: mc.Lane
) -> None:
    folder = tf_models.folder("two_signatures/1")
    sentence = mc.refused_add(model_lane, "two_signatures", folder)
    assert "halves" in sentence and "scores" in sentence and "--signature" in sentence


def test_signature_option_chooses_one_of_two(tf_models: Written, model_lane: mc.Lane) -> None:
    key = "two_signatures/1"
    smoke = tf_models.answer(key, "smoke", "scores")
    sample = tf_models.answer(key, "sample", "scores")
    mc.add_test_remove(
        model_lane, "two_signatures", tf_models.folder(key), smoke, sample, "--signature", "scores"
    )


def test_an_unsupported_dtype_is_refused_naming_what_is_supported(
    tf_models: Written, model_lane: mc.Lane
) -> None:
    sentence = mc.refused_add(model_lane, "uint8_io", tf_models.folder("uint8_io/1"))
    assert "DT_UINT8" in sentence and all(
        d in sentence for d in ("DT_FLOAT", "DT_INT64", "DT_STRING")
    )


def test_a_tf2_model_on_the_tutorials_tf_serving_1_8_is_refused_from_its_own_version(
    tf_models: Written, model_lane: mc.Lane
) -> None:
    written_by = tf_models.manifest["tf2_module/1"]["tensorflow_version"]
    folder = tf_models.folder("tf2_module/1")
    # Said before any change, from the files: not after a reload and a wait for AVAILABLE.
    sentence = mc.refused_add(
        model_lane, "tf2_module", folder, EMLSETUP_SERVING__REF=mc.TUTORIAL_SERVING
    )
    assert written_by in sentence and "1.8" in sentence, sentence


def test_an_alias_with_quotes_is_refused_before_any_change(
    tf_models: Written, model_lane: mc.Lane
) -> None:
    """Item 9: an alias that is no plain column name is refused in one sentence, before a
    row, a type or a file is made (it used to leave a HANA row and a table type behind)."""
    sentence = mc.refused_add(model_lane, "quoted_alias", tf_models.folder("quoted_alias/1"))
    assert "it's" in sentence and "letters, digits and _" in sentence, sentence


def test_a_second_version_with_another_signature_replaces_the_first(
    tf_models: Written, model_lane: mc.Lane
) -> None:
    ln = model_lane
    first = ln.cli("model", "add", "versioned", str(tf_models.folder("versioned/1")))
    assert first.returncode == 0, first.stdout[-3000:]
    tested = ln.cli("model", "test", "versioned")
    mc.assert_answer(tested.stdout, tf_models.answer("versioned/1"))
    second = ln.cli(
        "model", "add", "versioned", str(tf_models.folder("versioned/2")), "--version", "2"
    )
    assert second.returncode == 0, second.stdout[-3000:]
    tested = ln.cli("model", "test", "versioned")
    assert tested.returncode == 0, tested.stdout[-3000:]
    mc.assert_answer(tested.stdout, tf_models.answer("versioned/2"))
    assert ln.cli("model", "remove", "versioned").returncode == 0
    assert ln.left_behind("versioned") == []


def test_a_model_that_refuses_the_smoke_row_is_rolled_back_then_added_with_rows_it_takes(
    tf_models: Written, model_lane: mc.Lane
) -> None:
    """Item 10: "a" is no number to StringToNumber. The PREDICT that proves the add fails
    with TensorFlow's own error, what the add did is taken back (no file, entry or HANA
    object left), and the same add with --input rows TensorFlow takes answers as it does."""
    ln, key, name = model_lane, "parse_number/1", "parse_number"
    smoke, sample = tf_models.answer(key), tf_models.answer(key, "sample")
    failed = ln.cli("model", "add", name, str(tf_models.folder(key)))
    assert failed.returncode == 1 and "Traceback" not in failed.stdout + failed.stderr
    assert smoke["error"] in failed.stdout, failed.stdout[-3000:]
    assert ln.left_behind(name) == [] and not ln.export(name).exists(), failed.stdout
    rows = adapter.model_test_arguments(sample["inputs"])
    added = ln.cli("model", "add", name, str(tf_models.folder(key)), *rows)
    assert added.returncode == 0, added.stdout[-3000:]
    mc.assert_answer(added.stdout, sample)
    assert ln.cli("model", "remove", name).returncode == 0
    assert ln.left_behind(name) == []


# -- undo, for real (issue 26) ------------------------------------------------------------------


def _steps_state(root: Path) -> Path:
    """The state folder of the run that does steps 2-4 in this root, beside the root (never
    inside it: its /proc), so the undo test undoes only what that run recorded doing."""
    return root.parent / "steps-2-4-state"


def test_steps_2_to_4_undone_for_real_then_run_again_to_done(
    debian_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    state = _steps_state(debian_root)
    if not (state / "state.json").exists():  # run on its own (-k): steps 2-4 first
        done = _emlsetup(debian_root, state, "run", "--yes", "--from-step", "2", "--to-step", "4")
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    packages = (debian_root / "var/lib/dpkg/status").read_bytes()
    venv = _emlsetup(debian_root, state, "undo", "--step", "4", "--yes")
    assert venv.returncode == 0, venv.stdout[-4000:] + venv.stderr[-2000:]
    assert not (debian_root / "home/tmsadm/tms").exists()
    rest = _emlsetup(debian_root, state, "undo", "--all", "--yes")
    assert rest.returncode == 0, rest.stdout[-4000:] + rest.stderr[-2000:]
    assert "$ userdel -r tmsadm" in rest.stdout and "apt-get remove" in rest.stdout  # listed
    for name in ("etc/passwd", "etc/shadow"):
        assert not re.search(r"^tmsadm:", (debian_root / name).read_text(), re.M), name
    assert not (debian_root / "home/tmsadm").exists()
    assert not (debian_root / "etc/sudoers.d/tmsadm").exists()
    checked = _sh("chroot", str(debian_root), "visudo", "-c")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert (debian_root / "var/lib/dpkg/status").read_bytes() == packages  # not removed
    status = json.loads(_emlsetup(debian_root, state, "status", "--json").stdout)
    assert status["status"] == "undone" and status["steps_done"] == [], status
    assert {s["number"]: s["status"] for s in status["steps"]}.keys() >= {2, 3, 4}
    assert all(s["status"] == "pending" for s in status["steps"]), status

    again = _emlsetup(debian_root, state, "run", "--yes", "--from-step", "2", "--to-step", "4")
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
    assert "$ useradd" in again.stdout and "TensorFlow says hello" in again.stdout
    status = json.loads(_emlsetup(debian_root, state, "status", "--json").stdout)
    assert status["status"] == "done" and status["steps_done"] == [2, 3, 4], status
