"""Reads Bazel's console output line by line: progress counters, errors, the final verdict.

The wizard shows a 2-4 hour TensorFlow Serving build live and must tell a slow build from a
dead one, so everything here is pure (no I/O) and cheap per line: a build log can reach
gigabytes when warnings are verbose, and every line goes through ``parse_line``.

Forms handled (see tests/fixtures/bazel for real recordings):

- progress ``[4 / 30] Compiling app/x.cc; 1s linux-sandbox ... (2 actions running)``, with
  thousands separators (``[1,234 / 5,678]``) and the 0.11-era ``[1221,1224]``;
- ``INFO: Analyzed target //x:y (15 packages loaded, ...)`` and ``INFO: Analysed 2 targets``;
- ``ERROR: /path/BUILD:12:1: ...`` and compiler ``foo.cc:3:5: error: ...``;
- ``INFO: Build completed successfully, N total actions`` (printed twice) and
  ``FAILED: Build did NOT complete successfully``;
- ``Target //x:y up-to-date:``;
- the client's own lines: ``Another command (pid=N) is running. Waiting for it to complete
  on the server (server_pid=M)...`` (another Bazel command holds the output base's lock:
  Bazel waits, it does not hang) and ``Server terminated abruptly (error code: 14, ...)``
  (the Bazel server died under the client, which then exits 37).

Which error to fix first: Bazel 4.2 prints the failed action's BUILD location before the
compiler's own lines (``ERROR: .../core/BUILD:5:11: Compiling core/x.cc failed: (Exit 1)
...``, then ``core/x.cc:37:14: error: ...``: recordings 04 and 23). Whatever the order, the
line the admin must fix is the compiler's: ``first_error``.

On a terminal Bazel redraws its progress with carriage returns and ANSI cursor codes; the
text a terminal would finally show is what is parsed. ``--show_timestamps`` prefixes
``(15:41:25) `` which is dropped.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from steps.bazel import scan


@dataclass(frozen=True)
class Progress:
    """An ``[n / m]`` line: actions done, actions known so far (grows), what runs now."""

    done: int
    total: int
    running: int | None
    action: str | None


@dataclass(frozen=True)
class Analysed:
    """Analysis finished: the build proper (the long part) starts next."""

    targets: int | None
    packages: int | None


@dataclass(frozen=True)
class BuildError:
    """A Bazel ``ERROR:`` line or a compiler ``error:``; file/line when the line names them.
    ``compiler``: the compiler's own line (``file:line: error: ...``), not Bazel's."""

    file: str | None
    line: int | None
    column: int | None
    message: str
    compiler: bool = False

    @property
    def where(self) -> str:
        """``file:line: message``, or the message alone when the line names no file."""
        return f"{self.file}:{self.line}: {self.message}" if self.file else self.message


@dataclass(frozen=True)
class Finished:
    """Bazel's own verdict. ``success`` is False for tests that failed after a good build."""

    success: bool
    text: str


@dataclass(frozen=True)
class UpToDate:
    """A requested target that exists and is current after the build."""

    target: str


@dataclass(frozen=True)
class Waiting:
    """Another Bazel command (client ``pid``) holds this output base's lock; Bazel waits
    for it to end, however long that takes."""

    pid: int | None
    text: str


Event = Progress | Analysed | BuildError | Finished | UpToDate | Waiting

# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST) and two-character escapes (ESC 7, ESC M).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_TIMESTAMP = re.compile(r"\(\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\) ")
# Separators Java's number formatting may use: comma, dot, apostrophe, (narrow) no-break space.
_SEP = ",.'\u00a0\u202f"
_PROGRESS = re.compile(rf"\[(\d[\d{_SEP}]*) / (\d[\d{_SEP}]*)\]\s*(.*)")
_PROGRESS_OLD = re.compile(r"\[(\d+),(\d+)\]\s*(.*)")
# "(2 actions running)", "(2 actions, 1 running)", or the whole text "8 actions running".
_RUNNING = re.compile(r"(\d[\d,]*) actions?(?:, (\d[\d,]*))? running")
_STATUS_TAG = re.compile(r"\[(?:Prepa|Sched|Scann|Archi|Cache|Disk|Remote)[^\]]*\]\s*")
_ANALYSED = re.compile(
    r"INFO: Analy[sz]ed (?:(\d+) targets?|target (\S+))"
    r"(?: \((\d+) packages? loaded)?"
)
_ERROR_AT = re.compile(r"ERROR: (\S+?):(\d+):(?:(\d+):)? ?(.*)")
_COMPILER_ERROR = re.compile(r"(\S+?):(\d+):(?:(\d+):)? (?:fatal )?error: (.*)")
_UP_TO_DATE = re.compile(r"Target (\S+) up-to-date")
# 4.2.3: "Another command (pid=8051) is running. Waiting for it to complete on the server
# (server_pid=8075)..."; older clients put the pid after "is running".
_WAITING_PID = re.compile(
    r"Another command \(pid=(\d+)\)|Another command is running \(pid ?= ?(\d+)"
)
SERVER_DIED = "Server terminated abruptly"
# Lines that can hold an event, found in a whole chunk by one C-level scan (feed_chunk):
# anchored on the newline before the line, which is far faster than a re.M "^".
_CANDIDATE = re.compile(
    r"\n(?:\(\d[\d:.]*\) )?"
    r"(?:\[|INFO: (?:Build|Analy)|ERROR: |FAILED: |Build did|Target |Another command|Server term)"
)
_ANYWHERE = ("error: ", "\x1b", "\r")


def strip_ansi(line: str) -> str:
    """The text a terminal would end up showing: escape codes removed, and of a line
    rewritten with carriage returns only the last non-empty rewrite kept."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "\r" in line:
        parts = [p for p in line.split("\r") if p.strip()]
        line = parts[-1] if parts else ""
    return line


_NO_SEP = {ord(c): None for c in _SEP}


def _int(text: str) -> int:
    if not text.isdigit():
        text = text.replace(",", "")
        if not text.isdigit():
            text = text.translate(_NO_SEP)
    return int(text)


def _progress(match: re.Match[str]) -> Progress:
    rest = match.group(3)
    running: int | None = None
    action: str | None = None
    if rest.endswith("running)") or rest.endswith(" running"):
        # Only the tail is looked at: a regex search over the whole line costs more than
        # the rest of the parse on a build that prints progress every second.
        cut = rest.rfind(" (")
        found = _RUNNING.match(rest, cut + 2 if cut >= 0 else 0)
        if found:
            running = _int(found.group(2) or found.group(1))
            if cut < 0 and found.end() == len(rest):
                return Progress(_int(match.group(1)), _int(match.group(2)), running, None)
    if rest:
        if rest[0] == "[":
            rest = _STATUS_TAG.sub("", rest, count=1)
        # "Compiling x.cc; 1s linux-sandbox ... (2 actions running)" -> "Compiling x.cc"
        action = rest.split("; ", 1)[0].split(" ... ", 1)[0].strip() or None
    return Progress(_int(match.group(1)), _int(match.group(2)), running, action)


def parse_line(line: str) -> Event | None:
    """One line of Bazel output (trailing newline optional) as an event, or None for the
    many lines that matter to a human only (INFO chatter, compiler warnings, source echo)."""
    text = strip_ansi(line).strip()
    if not text:
        return None
    if text[0] == "(":
        ts = _TIMESTAMP.match(text)
        if ts:
            text = text[ts.end() :]
    first = text[0] if text else ""
    if first == "[":
        m = _PROGRESS.match(text) or _PROGRESS_OLD.match(text)
        return _progress(m) if m else None
    if first == "I":
        if text.startswith("INFO: Build completed"):
            return Finished("completed successfully" in text, text)
        if text.startswith("INFO: Analy"):
            a = _ANALYSED.match(text)
            if a:
                targets = int(a.group(1)) if a.group(1) else 1
                return Analysed(targets, int(a.group(3)) if a.group(3) else None)
        return None
    if first == "E" and text.startswith("ERROR: "):
        at = _ERROR_AT.match(text)
        if at:
            col = int(at.group(3)) if at.group(3) else None
            return BuildError(at.group(1), int(at.group(2)), col, at.group(4))
        return BuildError(None, None, None, text[len("ERROR: ") :])
    if "Build did NOT complete successfully" in text:
        return Finished(False, text)
    if first == "A" and text.startswith("Another command"):
        pid = _WAITING_PID.match(text)
        number = (pid.group(1) or pid.group(2)) if pid else None
        return Waiting(int(number) if number else None, text)
    if first == "S" and text.startswith(SERVER_DIED):
        return BuildError(None, None, None, text)
    if first == "T" and " up-to-date" in text:
        up = _UP_TO_DATE.match(text)
        if up:
            return UpToDate(up.group(1))
    if "error: " in text:
        ce = _COMPILER_ERROR.match(text)
        if ce:
            col = int(ce.group(3)) if ce.group(3) else None
            return BuildError(ce.group(1), int(ce.group(2)), col, ce.group(4), compiler=True)
    return None


def _is_progress(raw: bytes) -> bool:
    return isinstance(parse_line(raw.decode(errors="replace")), Progress)


MAX_ERRORS = 200
MAX_SAMPLES = 512


@dataclass
class BuildTracker:
    """Everything the build screen and the CLI show, folded from the output as it arrives.

    Memory stays bounded however long the log: errors are capped (``errors_dropped`` counts
    the rest) and progress samples for the time estimate are a bounded deque."""

    done: int | None = None
    total: int | None = None
    running: int | None = None
    current_action: str | None = None
    errors: list[BuildError] = field(default_factory=list)
    errors_dropped: int = 0
    analysed: Analysed | None = None
    finished: Finished | None = None
    waiting: Waiting | None = None  # until Bazel goes on (its next event)
    up_to_date: list[str] = field(default_factory=list)
    started_at: float | None = None
    last_progress_at: float | None = None
    last_output_at: float | None = None
    lines: int = 0
    samples: deque[tuple[float, int, int]] = field(
        default_factory=lambda: deque(maxlen=MAX_SAMPLES)
    )
    # feed_bytes: the end of the last block; whether Bazel prints timestamps.
    _recent: bytes = field(default=b"", repr=False)
    _stamped: bool = field(default=False, repr=False)

    def feed(self, line: str, now: float) -> Event | None:
        """Takes one line (as the runner's listeners get it) read at monotonic time ``now``;
        returns the last event it held. A line holding several carriage-return rewrites
        is read piece by piece so that an error drawn over a progress line is not lost."""
        if self.started_at is None:
            self.started_at = now
        self.last_output_at = now
        self.lines += 1
        if "\r" in line:
            event: Event | None = None
            for piece in line.split("\r"):
                event = self._apply(parse_line(piece), now) or event
            return event
        return self._apply(parse_line(line), now)

    def feed_chunk(self, text: str, now: float) -> Event | None:
        """Like ``feed`` on every line of ``text`` (complete lines, e.g. a pipe read cut
        at its last newline), but only lines that can hold an event are parsed: a busy
        compile prints megabytes of warnings, and this keeps the Python parser off them."""
        if self.started_at is None:
            self.started_at = now
        self.last_output_at = now
        self.lines += text.count("\n") + (0 if not text or text.endswith("\n") else 1)
        starts = {m.start() for m in _CANDIDATE.finditer("\n" + text)}
        for needle in _ANYWHERE:
            at = text.find(needle)
            while at >= 0:
                starts.add(text.rfind("\n", 0, at) + 1)
                at = text.find("\n", at)
                at = text.find(needle, at) if at >= 0 else -1
        event: Event | None = None
        for start in sorted(starts):
            end = text.find("\n", start)
            line = text[start:] if end < 0 else text[start:end]
            for piece in line.split("\r") if "\r" in line else (line,):
                event = self._apply(parse_line(piece), now) or event
        return event

    def feed_bytes(self, data: bytes, now: float) -> Event | None:
        """Like ``feed_chunk`` for complete lines as read from the build's log file, at the
        speed of the C-level scans in ``steps.bazel.scan``: only the lines those find are
        decoded, of the progress lines only the last, and lines are not counted."""
        if not data:
            return None
        if scan.needs_line_parse(data):
            return self.feed_chunk(data.decode(errors="replace"), now)
        if self.started_at is None:
            self.started_at = now
        self.last_output_at = now
        failing = bool(self.errors) or self.errors_dropped > 0
        spans, verdict_at = scan.event_lines(data, self.done is None, failing)
        if verdict_at is not None:
            window = (self._recent + data[:verdict_at])[-scan.VERDICT_WINDOW :]
            for start, end in scan.lines_with(window, scan.UP_TO_DATE_MARK):
                self._apply(parse_line(window[start:end].decode(errors="replace")), now)
        keep = data if len(data) >= scan.VERDICT_WINDOW else self._recent + data
        self._recent = keep[-scan.VERDICT_WINDOW :]
        last = scan.last_line_where(data, _is_progress, self._stamped)
        if last is None and not self._stamped:  # learnt once: a block without plain progress
            last = scan.last_line_where(data, _is_progress, stamped=True)
            self._stamped = last is not None
        if last is not None:
            spans = sorted({*spans, last})
        event: Event | None = None
        for start, end in spans:
            event = self._apply(parse_line(data[start:end].decode(errors="replace")), now) or event
        return event

    def _apply(self, event: Event | None, now: float) -> Event | None:
        if event is None:
            return None
        self.waiting = event if isinstance(event, Waiting) else None
        if isinstance(event, Progress):
            self.done, self.total = event.done, event.total
            self.running, self.current_action = event.running, event.action
            self.last_progress_at = now
            self.samples.append((now, event.done, event.total))
        elif isinstance(event, BuildError):
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(event)
            else:
                self.errors_dropped += 1
        elif isinstance(event, Finished):
            # Bazel prints its verdict twice; the first one stands.
            if self.finished is None:
                self.finished = event
                self.running = None
                self.current_action = None
        elif isinstance(event, Analysed):
            self.analysed = event
        elif isinstance(event, UpToDate) and event.target not in self.up_to_date:
            self.up_to_date.append(event.target)
        return event

    @property
    def first_error(self) -> BuildError | None:
        """The error the admin must fix: the compiler's first ``file:line: error:``, else
        Bazel's first located ERROR (a BUILD file, a missing package), else its first."""
        compiler = next((e for e in self.errors if e.compiler), None)
        located = next((e for e in self.errors if e.file), None)
        return compiler or located or (self.errors[0] if self.errors else None)

    @property
    def phase(self) -> str:
        """'starting', 'waiting' (for another Bazel command's lock), 'analysing', 'building'
        or 'finished': what to say above the bar."""
        if self.finished is not None:
            return "finished"
        if self.waiting is not None:
            return "waiting"
        if self.done is not None:
            return "building"
        return "analysing" if self.last_output_at is not None else "starting"

    def fraction(self) -> float | None:
        """Share of the currently known actions that are done; the total grows, so this can
        step back. 1.0 once Bazel reports success (its last counter is rarely n / n);
        None before the first progress line."""
        if self.finished is not None and self.finished.success:
            return 1.0
        if self.done is None or not self.total:
            return None
        return min(1.0, self.done / self.total)

    def silence(self, now: float) -> float | None:
        """Seconds since the last progress line. Piped Bazel spaces these lines by 15% of the
        elapsed time, so a long silence late in a build is normal, not a hang."""
        if self.last_progress_at is None:
            return None
        return max(0.0, now - self.last_progress_at)

    def expected_gap(self, now: float) -> float | None:
        """How long piped Bazel may stay quiet at this point (max of 1 s and 15% of the time
        since the build started), for telling 'quiet' from 'stuck'."""
        if self.started_at is None:
            return None
        return max(1.0, 0.15 * (now - self.started_at))
