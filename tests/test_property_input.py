"""Property-based, with inputs that break things (issue 15, item 6): raw bytes, deep
nesting, huge values and special files as the answers file, given to commands that write
the state (`run`, `resume`) while a saved run is present. Each either works or fails with
one line and exit 2, never hangs, never crashes, and a refused one leaves the state folder
exactly as it was.

The seed changes every run and is printed (tests/property_seed.py); a failure names it.

Safety: --root and --state-dir are temporary folders and PATH is an empty folder, so a
generated `run --yes` cannot reach a real tool.
"""

from __future__ import annotations

import io
import itertools
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st

from steps.cli.main import main
from steps.core.settings import Settings
from tests.property_seed import REPLAY, SEED, varied

STATE = '{"schema_version": 1, "run_id": "keep", "distro": "x", "family": "sles"}'
HANG_S = 60
FIELDS = [f"{section}.{name}" for section in Settings.model_fields
          for name in type(getattr(Settings(), section)).model_fields]  # fmt: skip
COMMANDS = [["run", "--yes", "--only-step", "2"], ["resume", "--yes"], ["check", "--step", "2"]]
_names = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _say_seed() -> Iterator[None]:
    print(f"\n{REPLAY}")
    yield


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for var in ("EMLSETUP_SYSTEM_PASSWORD", "EMLSETUP_ML_USER_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    root, state, configs = tmp_path / "root", tmp_path / "state", tmp_path / "configs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text('ID="sles"\nVERSION_ID="12.2"\nNAME="SLES"\n')
    state.mkdir()
    configs.mkdir()
    return root, state, configs


# -- what an answers file can be -------------------------------------------------------------
def _nested(depth: int, kind: str, field: str) -> bytes:
    section, name = field.split(".")
    opening, closing = {"table": ("{a = ", "}"), "array": ("[", "]"), "mixed": ("[{a = ", "}]")}[
        kind
    ]
    value = opening * depth + "1" + closing * depth
    return f"[{section}]\n{name} = {value}\n".encode()


def _sized(size: int, field: str, char: str) -> bytes:
    section, name = field.split(".")
    return f'[{section}]\n{name} = "{char * size}"\n'.encode()


contents = st.one_of(
    st.binary(max_size=3000).map(lambda b: ("bytes", b)),
    st.builds(lambda b, t: ("utf8+bytes", t.encode() + b), st.binary(min_size=1, max_size=40),
              st.sampled_from(['[hana]\naddress = "hxe"\n', "# answers\n"])),
    st.builds(lambda d, k, f: ("nested", _nested(d, k, f)), st.integers(1, 120_000),
              st.sampled_from(["table", "array", "mixed"]), st.sampled_from(FIELDS)),
    st.builds(lambda n, f, c: ("sized", _sized(n, f, c)), st.integers(0, 3_000_000),
              st.sampled_from(FIELDS), st.sampled_from(["a", "/", "é", "1", " "])),
    st.sampled_from(["fifo", "folder", "/dev/null", "/dev/zero", "symlink to fifo",
                     "missing"]).map(lambda s: ("special", s.encode())),
)  # fmt: skip


def _make(configs: Path, kind: str, data: bytes) -> Path:
    path = configs / f"answers-{next(_names)}.toml"
    if kind != "special":
        path.write_bytes(data)
        return path
    what = data.decode()
    if what.startswith("/dev/"):
        return Path(what)
    if what == "fifo":
        os.mkfifo(path)
    elif what == "folder":
        path.mkdir()
    elif what == "symlink to fifo":
        os.mkfifo(path.with_suffix(".fifo"))
        path.symlink_to(path.with_suffix(".fifo"))
    return path


def _hang(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError(f"no answer within {HANG_S} s")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(HANG_S)  # a FIFO or a device read without end fails the test, not CI
    try:
        code = main(argv, out=io.StringIO())
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, capsys.readouterr().err


def _folder(state: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(state)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(state.rglob("*"))
        if p.name != "emlsetup.lock"
    }


@seed(SEED)
@varied(60)
@given(content=contents, command=st.sampled_from(COMMANDS))
def test_any_answers_file_given_to_a_writing_command_works_or_changes_nothing(
    content: tuple[str, bytes],
    command: list[str],
    dirs: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, state, configs = dirs
    (state / "state.json").write_text(STATE)
    before = _folder(state)
    config = _make(configs, *content)
    argv = ["--config", str(config), "--root", str(root), "--state-dir", str(state), *command]
    code, err = _run(argv, capsys)
    where = f"{REPLAY}; input {content[0]} {content[1][:80]!r}; {command}"
    assert code in (0, 1, 2), f"exit {code}: {err[:500]} ({where})"
    assert "Traceback" not in err and "internal error" not in err, f"{err[:500]} ({where})"
    if code == 2:
        lines = [x for x in err.splitlines() if x.strip()]
        # One line, or one line per mistake of a file that parses (issue 26).
        assert lines and all(x.startswith("emlsetup") for x in lines), f"{err[:500]} ({where})"
        longest = max(len(x) for x in lines)
        assert longest < 1000, f"a {longest}-character message ({where})"
        assert _folder(state) == before, f"a refused input changed the state folder ({where})"
