"""A build that writes its exit status and ends between the follower's two looks (the exit
file, then the process) is finished, not "died without an exit status": found by the kill
campaign (1 round in 200, seed 4242, under load), where resume then failed step 5."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import steps.core.follow
from steps.core.follow import follow


def test_a_build_ending_between_the_two_looks_is_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, exit_file = tmp_path / "build.log", tmp_path / "build.exit"
    log.write_bytes(b"INFO: Build completed successfully\n")

    def ends_now(pid: int, path: Path) -> bool:
        # The interleaving the race needs, made certain: the exit file was not there when
        # the follower looked, the wrapper writes it and is gone when it looks at /proc.
        path.write_text("0\n")
        return False

    monkeypatch.setattr(steps.core.follow, "is_our_wrapper", ends_now)
    lines: list[str] = []
    followed = follow(log, exit_file, 4_000_000, 0, lines.append, threading.Event(), lambda: None)
    assert followed.exit_code == 0
    assert lines == ["INFO: Build completed successfully"]
