"""How fast and how lean the wizard follows a Bazel build's output, and whether the TUI
stays responsive meanwhile.

A TensorFlow Serving build can print hundreds of MB (Eigen and protobuf warnings). This
generates a Bazel-like log of each size and sends it through the real build path:
``Runner.start_build(["cat", log])`` starts ``python -I -m steps.detach`` in its own session,
which writes the log file (the kernel copies cat's output into it); the wizard side follows
that file with ``steps.follow.follow`` in a thread, feeds a ``BuildTracker`` and hands
bounded batches (every 100 ms, via ``call_from_thread``) to the build screen's ``LogTail``
(a ``textual.widgets.Log`` with ``max_lines=2000``) in a headless ``App.run_test``.

Per size, side by side:

- ``cat log > file``: the baseline; target >= 0.5x its throughput;
- ``line``: follow() calling ``on_line`` per line -> ``BuildTracker.feed`` (today's path);
- ``chunk``: follow(on_chunk=...) -> ``BuildTracker.feed_chunk`` on whole reads;
- build: start_build to the exit file's mtime (cat done, its output in the log through
  steps.detach; the build never waits for the wizard), measured while the wizard follows;
- wizard: start_build to the follower caught up (exit file seen, every line fed and
  counted); lag = wizard - build; ``flow_s`` in the details: first line to caught up;
- peak RSS (VmHWM) of the wizard-side process: each measurement runs in a fresh child;
- key-to-repaint latency during the flood: every 50 ms a ``k`` Key event is posted to the
  app exactly as ``Pilot.press`` posts it (``driver.send_message``; ``pilot.press`` itself
  is not awaited because its ``wait_for_idle`` holds it up to 2 s while the process is busy);
  the binding writes the press's number into a ``Static``, whose ``render_lines``, called by
  the compositor when it repaints the screen, stamps every press it now shows. Latency = that
  stamp - the time the event was posted. Target p99 < 100 ms.

    .venv/bin/python -m bench.bench_log_pipeline --sizes 10M,100M,1G
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import io
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Static

from steps.bazel.log import BuildTracker
from tui.widgets.log_view import LogTail

UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
TAIL = 2000  # lines of the log widget, as on the build screen
TAIL_BYTES = 512 * 1024  # of a chunk, enough for TAIL lines
BATCH_S = 0.1  # hand-off period to the event loop (the build screen ticks at 10 Hz)
KEY_PERIOD_S = 0.05


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B")
    if text and text[-1] in UNITS:
        return int(float(text[:-1]) * UNITS[text[-1]])
    return int(text)


def generate(path: Path, size: int, seed: int = 11) -> None:
    """A log like a TF Serving build: progress lines between bursts of compiler warnings
    with source echo, a few INFO lines, the final verdict. Counters grow like Bazel's."""
    rnd = random.Random(seed)
    total = max(1000, size // 4000)
    done = 0
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "INFO: Analysed target //tensorflow_serving/model_servers:"
            "tensorflow_model_server (98 packages loaded).\nINFO: Found 1 target...\n"
        )
        while written < size:
            block = io.StringIO()
            for _ in range(200):
                kind = rnd.random()
                if kind < 0.3:
                    done = min(done + 1, total - 1)
                    if rnd.random() < 0.05:
                        total += 3
                    block.write(
                        f"[{done:,} / {total:,}] Compiling tensorflow/core/kernels/"
                        f"op_{done % 977}.cc; {rnd.randint(0, 90)}s local ... "
                        f"({rnd.randint(1, 8)} actions running)\n"
                    )
                elif kind < 0.9:
                    n = rnd.randint(1, 400)
                    block.write(
                        f"external/eigen_archive/unsupported/Eigen/CXX11/src/Tensor/"
                        f"TensorExecutor.h:{n}:{n % 80}: warning: ignoring attributes on "
                        f"template argument [-Wignored-attributes]\n"
                        f"  {n} |   typedef typename internal::remove_const<Scalar>::type "
                        f"CoeffReturnType;\n      |                                   ^\n"
                    )
                else:
                    block.write(f"INFO: From Compiling tensorflow/core/ops/op_{done}.cc:\n")
            data = block.getvalue()
            out.write(data)
            written += len(data)
        out.write(
            f"[{total:,} / {total:,}] Linking tensorflow_model_server\n"
            f"INFO: Build completed successfully, {total:,} total actions\n"
        )


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b""))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- the wizard side: a headless app, the follower in a thread --------------------------------
class Probe(Static):
    """Shows the number of the last key handled; its repaint stamps the presses it shows."""

    shown = 0

    def render_lines(self, crop: Region) -> list[Strip]:
        strips = super().render_lines(crop)
        app = self.app
        if isinstance(app, FloodApp):
            app.repainted(self.shown)
        return strips


class FloodApp(App[None]):
    BINDINGS = [("k", "key", "key")]

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[float] = []  # perf_counter when press i+1 was posted
        self.latencies: list[float] = []  # of presses 1..n, in order
        self.handled = 0

    def compose(self) -> ComposeResult:
        yield Probe("key 0", id="probe")
        yield LogTail(max_lines=TAIL, id="log")

    def action_key(self) -> None:
        self.handled += 1
        probe = self.query_one(Probe)
        probe.shown = self.handled
        probe.update(f"key {self.handled}")

    def repainted(self, shown: int) -> None:
        now = time.perf_counter()
        while len(self.latencies) < shown:
            self.latencies.append(now - self.sent[len(self.latencies)])

    def press(self) -> None:
        """What ``Pilot.press("k")`` does first, without its waits for an idle process."""
        assert self._driver is not None
        event = events.Key("k", "k")
        event.set_sender(self)
        self.sent.append(time.perf_counter())
        self._driver.send_message(event)


def follower(
    app: FloodApp, log: Path, exit_file: Path, pid: int, chunked: bool, out: dict[str, Any]
) -> None:
    """What the engine's worker thread does while the build runs."""
    from steps.follow import follow

    tracker = BuildTracker()
    widget = app.query_one(LogTail)
    pending: deque[str] = deque(maxlen=TAIL)
    last = [time.perf_counter(), 0.0]  # last hand-off, first data
    count = [0]

    def hand_off(force: bool = False) -> None:
        now = time.perf_counter()
        if not last[1]:
            last[1] = now
        if pending and (force or now - last[0] >= BATCH_S):
            batch = list(pending)
            pending.clear()
            last[0] = now
            app.call_from_thread(widget.add, batch)

    def on_line(text: str) -> None:
        pending.append(text)
        tracker.feed(text, time.monotonic())
        count[0] += 1
        if count[0] & 511 == 0 or not last[1]:
            hand_off()

    def on_chunk(text: str) -> None:
        tracker.feed_chunk(text, time.monotonic())
        start = text.find("\n", len(text) - TAIL_BYTES) + 1 if len(text) > TAIL_BYTES else 0
        pending.extend(text[start:].splitlines())
        hand_off()

    followed = follow(
        log,
        exit_file,
        pid,
        0,
        on_line,
        threading.Event(),
        lambda: None,
        on_chunk=on_chunk if chunked else None,
    )
    hand_off(force=True)
    out.update(
        end=time.perf_counter(),
        exit_wall=exit_file.stat().st_mtime,  # written by steps.detach when cat ended
        first=last[1],
        exit=followed.exit_code,
        lines=tracker.lines,
        done=tracker.done,
        offset=followed.offset,
    )


def child_wizard(src: Path, work: Path, chunked: bool) -> dict[str, Any]:
    from checks.host import Host
    from steps.runner import Identity, Runner

    me = getpass.getuser()
    runner = Runner(Host(root=Path("/")), Identity(admin=me, sid_adm=me), work)
    log, exit_file = work / "build.log", work / "build.exit"
    for old in (log, exit_file):
        old.unlink(missing_ok=True)
    log.touch()
    app = FloodApp()
    out: dict[str, Any] = {}

    async def drive() -> None:
        async with app.run_test(headless=True, size=(120, 40)) as pilot:
            await pilot.pause()
            started, started_wall = time.perf_counter(), time.time()
            pid, _line, _env = runner.start_build(
                ["cat", str(src)],
                "self",
                cwd=None,
                path_extra=[],
                log_file=log,
                exit_file=exit_file,
            )
            thread = threading.Thread(
                target=follower, args=(app, log, exit_file, pid, chunked, out), daemon=True
            )
            thread.start()
            tick = time.perf_counter()
            while thread.is_alive():
                app.press()
                tick += KEY_PERIOD_S
                await asyncio.sleep(max(0.0, tick - time.perf_counter()))
            thread.join()
            out["start"], out["start_wall"] = started, started_wall
            deadline = time.perf_counter() + 2
            while len(app.latencies) < len(app.sent) and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)

    asyncio.run(drive())
    log.unlink(missing_ok=True)
    return {
        "seconds": out["end"] - out["start"],
        "build_s": out["exit_wall"] - out["start_wall"],
        "flow_s": out["end"] - out["first"],
        "exit": out["exit"],
        "lines": out["lines"],
        "done": out["done"],
        "bytes": out["offset"],
        "rss_mb": peak_rss_mb(),
        "presses": len(app.sent),
        "unseen": len(app.sent) - len(app.latencies),
        "p50_ms": percentile(app.latencies, 0.5) * 1000,
        "p99_ms": percentile(app.latencies, 0.99) * 1000,
        "max_ms": max(app.latencies, default=float("nan")) * 1000,
    }


# -- the parent: generate, baseline, one fresh child per measurement ----------------------------
def run_child(mode: str, src: Path, work: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_log_pipeline", "--child", mode, str(src), str(work)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.exit(f"child {mode} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def time_cat(src: Path, dst: Path) -> float:
    started = time.perf_counter()
    subprocess.run(f"cat '{src}' > '{dst}'", shell=True, check=True)
    seconds = time.perf_counter() - started
    dst.unlink()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--sizes", default="10M,100M,1G")
    parser.add_argument("--modes", default="line,chunk")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bench-bazel-log"
    )
    parser.add_argument("--child", nargs=3, metavar=("MODE", "SRC", "WORK"))
    args = parser.parse_args(argv)

    if args.child:
        mode, src, child_work = args.child
        print(json.dumps(child_wizard(Path(src), Path(child_work), mode == "chunk")))
        return 0

    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    modes = args.modes.split(",")
    rows = []
    for label in args.sizes.split(","):
        size = parse_size(label)
        src = work / f"bazel-{label}.src"
        if not src.exists() or src.stat().st_size < size:
            t0 = time.perf_counter()
            generate(src, size)
            print(f"generated {label} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        lines = count_lines(src)
        subprocess.run(["cat", str(src)], stdout=subprocess.DEVNULL, check=True)  # warm cache
        cat_s = min(time_cat(src, work / "copy.log") for _ in range(3))
        results = {mode: run_child(mode, src, work) for mode in modes}
        for mode, r in results.items():
            ok = r["exit"] == 0 and r["lines"] == lines and r["bytes"] == src.stat().st_size
            print(
                f"{label} {mode}: {json.dumps(r)} {'ok' if ok else 'LINES LOST'}", file=sys.stderr
            )
        rows.append((label, src.stat().st_size / 1e6, cat_s, lines, results))

    print(
        f"\n{'size':>5} {'cat MB/s':>8} | {'mode':>5} {'build MB/s':>10} {'x cat':>5} "
        f"{'wizard MB/s':>11} {'x cat':>5} {'lag s':>5} {'RSS MB':>6} {'keys':>4} "
        f"{'p50 ms':>6} {'p99 ms':>6}  lines"
    )
    for label, mb, cat_s, lines, results in rows:
        for i, (mode, r) in enumerate(results.items()):
            ok = "all" if r["lines"] == lines and r["exit"] == 0 else f"{r['lines']}/{lines}!"
            lead = f"{label:>5} {mb / cat_s:8.0f}" if i == 0 else " " * 14
            print(
                f"{lead} | {mode:>5} {mb / r['build_s']:10.0f} {cat_s / r['build_s']:5.2f} "
                f"{mb / r['seconds']:11.0f} {cat_s / r['seconds']:5.2f} "
                f"{r['seconds'] - r['build_s']:5.1f} {r['rss_mb']:6.0f} {r['presses']:4d} "
                f"{r['p50_ms']:6.1f} {r['p99_ms']:6.1f}  {ok} {lines:,}"
            )
    print(
        "build: start_build -> exit file (cat done, log written via steps.detach); wizard: "
        "-> follower caught up (all lines fed); lag: wizard - build\n"
        "targets: x cat >= 0.5, RSS < 150 MB and flat, key-to-repaint p99 < 100 ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
