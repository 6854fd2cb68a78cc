"""The build's vital signs from the Bazel tracker: counters, bar, time, ETA, silence."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from steps.bazel.eta import Eta, describe, estimate
from steps.bazel.log import BuildTracker

QUIET_AFTER_S = 30.0  # say something once Bazel has been quiet this long


def clock_text(seconds: float) -> str:
    s = int(max(0.0, seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def silence_notice(tracker: BuildTracker, now: float) -> str:
    quiet = tracker.silence(now)
    if quiet is None or quiet < QUIET_AFTER_S or tracker.finished is not None:
        return ""
    return (
        f"No progress line for {int(quiet)} s (Bazel is quiet while it works; "
        "silence is not a hang)."
    )


def eta_now(tracker: BuildTracker, now: float) -> Eta | None:
    """Bazel's last progress line gave an estimate; between its lines (minutes apart late in
    a build) the estimate counts down with the clock instead of standing still."""
    eta = estimate(list(tracker.samples))
    if eta is None or not tracker.samples:
        return eta
    since = max(0.0, now - tracker.samples[-1][0])
    return Eta(max(0.0, eta.seconds - since), max(0.0, eta.low - since), max(0.0, eta.high - since))


class BuildProgress(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("Waiting for Bazel's first progress line…", id="counters", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="bar")
        yield Static("", id="times", markup=False)
        yield Static("", id="silence", markup=False)

    def show(self, tracker: BuildTracker, started: float, now: float, running: bool) -> None:
        bar = self.query_one("#bar", ProgressBar)
        counters = self.query_one("#counters", Static)
        finished = tracker.finished
        if finished is not None and finished.success and tracker.total:
            # Bazel's last counter is rarely n / n: beside a full bar, say it is all done.
            bar.update(total=tracker.total, progress=tracker.total)
            counters.update(f"[{tracker.total} / {tracker.total}] {finished.text}")
        elif tracker.done is not None and tracker.total:
            share = tracker.fraction() or 0.0  # 1.0 on success: the last counter is rarely n / n
            bar.update(total=tracker.total, progress=round(share * tracker.total))
            doing = tracker.current_action or "…"
            running_n = f" · {tracker.running} running" if tracker.running else ""
            counters.update(f"[{tracker.done} / {tracker.total}] {doing}{running_n}")
        elif tracker.finished is not None:
            counters.update(tracker.finished.text)
        elif tracker.waiting is not None and running:
            pid = f" (pid {tracker.waiting.pid})" if tracker.waiting.pid else ""
            counters.update(
                f"Waiting for another Bazel command{pid}: it holds this build's output base. "
                "Bazel goes on when it ends; a wait, not a hang."
            )
        else:
            counters.update(f"Bazel is {tracker.phase}…" if running else "Not running.")
        if tracker.finished is not None:
            eta = "finished" if tracker.finished.success else "stopped"
        else:
            eta = "ETA " + describe(eta_now(tracker, now))
        elapsed = clock_text(now - started) if running or tracker.phase != "starting" else "-"
        self.query_one("#times", Static).update(f"Elapsed {elapsed} · {eta}")
        notice = silence_notice(tracker, now) if running else ""
        silence = self.query_one("#silence", Static)
        silence.update(notice)
        silence.display = bool(notice)
