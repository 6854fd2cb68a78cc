"""How long the build still needs, from its ``[done / total]`` progress samples.

A TensorFlow Serving build runs for hours, and a bare progress bar lies: Bazel discovers
actions as it goes (the total grows) and compile speed varies wildly between a small proto
and a big Eigen unit. So the estimate is the recent rate, checked against the whole-build
rate and against how fast the *remaining* work shrinks (which already accounts for a
growing total), and shown as a band rather than a false-precise number. Until there is
enough history the answer is None ("estimating"), not a guess.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIN_SAMPLES = 3
MIN_SPAN_S = 30.0
MIN_DONE = 2
RECENT_WINDOW_S = 600.0


@dataclass(frozen=True)
class Eta:
    """Seconds still needed (best guess) and a band around it; ``low <= seconds <= high``."""

    seconds: float
    low: float
    high: float


def _rate(a: tuple[float, int, int], b: tuple[float, int, int]) -> float:
    dt = b[0] - a[0]
    return (b[1] - a[1]) / dt if dt > 0 else 0.0


def estimate(samples: Sequence[tuple[float, int, int]]) -> Eta | None:
    """``samples`` are ``(time, done, total)`` in time order (monotonic seconds). None until
    at least 3 samples span 30 s with actions finishing; Eta(0, 0, 0) once all are done."""
    if not samples:
        return None
    last = samples[-1]
    remaining = max(0, last[2] - last[1])
    if remaining == 0 and last[2] > 0:
        return Eta(0.0, 0.0, 0.0)
    first = samples[0]
    span = last[0] - first[0]
    if len(samples) < MIN_SAMPLES or span < MIN_SPAN_S or last[1] - first[1] < MIN_DONE:
        return None

    # Recent window: the last 10 minutes or the later half of the build, whichever is
    # longer (piped progress lines get sparse late in a build), and at least 3 samples.
    window = max(RECENT_WINDOW_S, 0.5 * span)
    start = len(samples) - MIN_SAMPLES
    while start > 0 and last[0] - samples[start - 1][0] <= window:
        start -= 1
    recent = samples[start:]
    r_recent = _rate(recent[0], last)
    r_overall = _rate(first, last)
    rate = r_recent if r_recent > 0 else r_overall
    if rate <= 0:
        return None
    seconds = remaining / rate

    # Spread: how much the rate wobbles between samples, and how much the total grew.
    steps = [_rate(a, b) for a, b in zip(recent, recent[1:], strict=False) if b[0] > a[0]]
    wobble = statistics.pstdev(steps) / rate if len(steps) >= 2 else 0.5
    growth = (last[2] - recent[0][2]) / last[2] if last[2] else 0.0
    spread = 0.25 + min(wobble, 2.0) + max(0.0, growth)
    low = seconds / (1 + spread)
    high = seconds * (1 + spread)

    # The alternatives widen the band but do not move the best guess.
    alternatives = [remaining / r for r in (r_overall, r_recent) if r > 0]
    shrink = -((last[2] - last[1]) - (recent[0][2] - recent[0][1])) / max(
        last[0] - recent[0][0], 1e-9
    )
    if shrink > 0:
        alternatives.append(remaining / shrink)
    low = min([low, *alternatives])
    high = max([high, *alternatives])
    return Eta(seconds, low, high)


def _duration(seconds: float) -> str:
    """'45 s', '12 min', '1 h 20 min', '3 h': coarse on purpose, the band is wide."""
    if seconds < 60:
        return f"{max(0, round(seconds))} s" if seconds >= 1 else "0 s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    minutes = 5 * round(minutes / 5)
    h, m = divmod(minutes, 60)
    return f"{h} h" if m == 0 else f"{h} h {m} min"


def describe(eta: Eta | None) -> str:
    """One phrase for the screen: 'about 1 h 20 min (50 min - 2 h)'."""
    if eta is None:
        return "estimating (needs a few minutes of progress)"
    if eta.high <= 0:
        return "almost done"
    if eta.high < 60:
        return "less than a minute"
    best = _duration(eta.seconds)
    low, high = _duration(eta.low), _duration(eta.high)
    if low == high:
        return f"about {best}"
    return f"about {best} ({low} - {high})"
