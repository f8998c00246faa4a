"""The journal: an append-only JSONL record of a drill, one event per line, fsync'd as written.

    {"seq": 7, "kind": "team.declare", "wall": "2024-05-01T12:00:03.123456Z", "t_s": 3.123456,
     "data": {"severity": 2, "commander": "alice"}}

`wall` is UTC with microseconds, for people; `t_s` is monotonic seconds since the journal's
origin (the drill start), for durations, so a wall-clock step cannot bend a measured time.
The origin is stored in the first event, `journal.opened`; a process that reopens the
journal continues its `seq` and its time origin. The scorecard is computed from this file
alone, so an event is only considered written once its line is complete and fsync'd: a line
torn by a crash mid-write is ignored (and reported) when reading, and cut off when reopening.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Final, Protocol

from harness.errors import GamedrillError

logger = logging.getLogger(__name__)

# Every event kind, with what its `data` holds. The scorecard relies on these names: add a
# kind here before journaling it (append() refuses unknown kinds, so a typo fails loudly).
EVENT_KINDS: Final[Mapping[str, str]] = MappingProxyType({
    "journal.opened": "first line: origin_wall, origin_monotonic, pid",
    "journal.reopened": "another process continues: pid, torn_tail_bytes, rebased",
    "run.planned": "what this run is: run_id, drill, scenario, backend, targets, truth, load, team, nodes, "
                   "time_compression, max_duration_s, drill_file, history (facilitator-only)",
    "run.state": "state machine transition: from, to",
    "run.aborted": "the drill stops early: reason (safety limit, facilitator, signal)",
    "run.stopping": "the drill's end is decided (resolved, limit, abort, failure): outcome, reason",
    "run.finished": "the drill is over: outcome, run_dir",
    "run.resumed": "a new harness took the drill over: pid, faults_held, faults_lapsed (indexes; a lapsed "
                   "fault's lease undid it), winding_down (the dead harness was ending the drill)",
    "stack.up": "the stack is healthy: services, up_s",
    "stack.down": "the stack is torn down (or kept): kept",
    "load.started": "users, rate_per_s, arrivals (constant | poisson), ramp_s, origin_t_s (the schedule's start), "
                    "in_flight_limit",
    "load.stopped": "requests, failures",
    "baseline.recorded": "healthy baseline: requests, error_rate, p50_ms, p99_ms",
    "steady_state.checked": "before injecting, after the load's ramp: healthy, requests, failures, error_rate, "
                            "p99_ms, offered, achieved, expected, reasons",
    "change.pushed": "a decoy change reached the control plane: kind, version, change_id",
    "fault.injecting": "a fault is about to be applied (its lease is written first): index, type, ttl_s, service",
    "fault.injected": "index, type, target, ttl_s and what was done",
    "fault.reverted": "index, type, how (end of drill, abort, duration, lease), ok; unconfirmed: the harness "
                      "died while injecting it",
    "safety.tripped": "a stop condition fired: limit, value",
    "alert.fired": "name, metric, value, threshold, node (per-node rules); from Alertmanager: metric promql, "
                   "source, expr, fingerprint, starts_at",
    "alert.cleared": "name, node",
    "slo.window": "one second of arrivals by intended start: start_t_s, requests, failures, p50_ms, p99_ms, "
                  "nodes {node: [req, fail]}, offered (arrivals), achieved (sent on time)",
    "slo.breached": "impact (again): a restoration window that is not healthy: window_end_t_s, relapse",
    "restoration.detected": "the SLO is healthy again: window_start_t_s, window_s",
    "team.paged": "a page went out (webhook): trigger (alert.fired | team.declare), seq, channel, format",
    "page.failed": "a page could not be delivered (the drill goes on): trigger, seq, channel, error",
    "team.ack": "by",
    "team.declare": "by, severity, commander",
    "team.role": "by, role, who",
    "team.update": "by, impact, action, next_update_s, text, impact_pct, components, status (investigating | "
                   "identified | monitoring | resolved: the status page's state)",
    "team.note": "by, text",
    "team.suspect": "by, change",
    "team.scope": "by, nodes",
    "team.act": "by, action, canary, params, per_node (false: the action takes no canary)",
    "team.escalate": "by, to",
    "team.resolve": "by",
    "team.reply": "by, question (a stakeholder.asked id), text",
    "inject.fired": "a game-master rule fired (facilitator-only): rule, index, condition, why, effects, "
                    "occurrence; each effect's outcome (done or skipped and why)",
    "stakeholder.asked": "a simulated stakeholder's question to the team: id, stakeholder, title, text",
    "action.result": "what a team.act changed: action, ok, nodes, detail",
    "responder.step": "the autopilot starts a runbook step: index, step",
})
_RESERVED = frozenset({"journal.opened", "journal.reopened"})  # written by the journal itself
# What the team may see, an allow-list: what a game master would let a team see, what its own
# tools would show it (alerts, per-second SLO, pages, its own events and their results) and
# the drill's start and end. Never the plan, the ground truth, the run's internal states (they
# tell when the fault went in), faults, leases, decoys, the baseline and steady-state checks
# (their end is the injection time) or the harness's own impact judgments. A new kind is
# hidden from the team until it is listed here (every `team.*` kind is the team's own).
TEAM_VISIBLE: Final = frozenset({
    "stack.up", "stack.down", "load.started", "load.stopped", "alert.fired", "alert.cleared", "slo.window",
    "restoration.detected", "team.paged", "page.failed", "action.result", "run.aborted", "run.finished",
    "stakeholder.asked",  # a question into the incident room, as a real stakeholder would ask it
})


def team_may_see(kind: str) -> bool:
    return kind.startswith("team.") or kind in TEAM_VISIBLE
_WALL_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class JournalCorrupt(GamedrillError):
    """A journal line that is not the last one does not parse: not a crash, a damaged file."""


class JournalBusy(GamedrillError):
    """Another live process holds the journal open for writing."""


class Clock(Protocol):
    def wall(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def wall(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to, for tests and replays."""

    def __init__(self, wall_start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
                 monotonic_start: float = 1000.0) -> None:
        self._wall_start = wall_start
        self._monotonic_start = monotonic_start
        self.elapsed_s = 0.0

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a monotonic clock cannot go back ({seconds} s)")
        self.elapsed_s += seconds

    def wall(self) -> datetime:
        return self._wall_start + timedelta(seconds=self.elapsed_s)

    def monotonic(self) -> float:
        return self._monotonic_start + self.elapsed_s


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    wall: datetime  # aware, UTC
    t_s: float  # monotonic seconds since the journal's origin
    data: Mapping[str, Any]

    def to_line(self) -> str:
        record = {"seq": self.seq, "kind": self.kind, "wall": format_wall(self.wall),
                  "t_s": self.t_s, "data": dict(self.data)}
        return json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Event:
        record = json.loads(line)
        if not isinstance(record, dict) or not isinstance(record.get("data"), dict):
            raise ValueError("not a journal event")
        return cls(int(record["seq"]), str(record["kind"]), parse_wall(record["wall"]), float(record["t_s"]),
                   MappingProxyType(record["data"]))


def format_wall(wall: datetime) -> str:
    """`2024-05-01T12:00:03.123456Z`: UTC, always with microseconds."""
    if wall.tzinfo is None:
        raise ValueError(f"wall-clock time without a timezone: {wall}")
    return wall.astimezone(UTC).strftime(_WALL_FORMAT)


def parse_wall(text: str) -> datetime:
    return datetime.strptime(text, _WALL_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True)
class JournalScan:
    events: tuple[Event, ...]
    complete_bytes: int  # length of the file up to the end of the last good line
    torn_tail: bytes  # what a crash left after it (empty when the file is clean)


def scan_journal(path: str | Path) -> JournalScan:
    """Every complete event; a torn last line is returned apart instead of raising."""
    content = Path(path).read_bytes()
    events: list[Event] = []
    offset = 0
    while offset < len(content):
        end = content.find(b"\n", offset)
        line = content[offset:] if end < 0 else content[offset:end]
        try:
            if end < 0:  # no newline: the write never finished, so the event was never acknowledged
                raise ValueError("incomplete line")
            event = Event.from_line(line.decode("utf-8"))
        except (ValueError, KeyError, TypeError) as exc:
            rest = content[offset:]
            if b"\n" in rest.rstrip(b"\n\0"):  # more lines follow: damage, not a torn write
                raise JournalCorrupt(f"{path}: line {len(events) + 1} is not an event: {exc}") from exc
            return JournalScan(tuple(events), offset, rest)
        if event.seq != len(events) + 1:
            raise JournalCorrupt(f"{path}: line {len(events) + 1} has seq {event.seq}")
        events.append(event)
        offset = end + 1
    return JournalScan(tuple(events), offset, b"")


def read_journal(path: str | Path) -> list[Event]:
    """The journal's events; a line torn by a crash mid-write is logged and left out."""
    scan = scan_journal(path)
    if scan.torn_tail:
        logger.warning("%s: ignoring a torn last line (%d bytes): a crash mid-write", path,
                       len(scan.torn_tail))
    return list(scan.events)


Listener = Callable[["Event"], None]


class Journal:
    """The writer. Thread-safe: the control API, the monitor and the runner share one.

    Listeners (`subscribe`) see every event once it is on disk, in seq order, under the
    journal's lock: they must be quick and must not append (queue the work instead). A
    listener that raises is logged and skipped; it never stops the drill.
    """

    def __init__(self, path: Path, clock: Clock, fd: int, size: int, last_seq: int,
                 origin_monotonic: float, origin_wall: datetime) -> None:
        self.path = path
        self.clock = clock
        self.origin_wall = origin_wall
        self._fd: int | None = fd
        self._size = size
        self._last_seq = last_seq
        self._origin_monotonic = origin_monotonic
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    @classmethod
    def open(cls, path: str | Path, clock: Clock | None = None) -> Journal:
        """Start a journal at `path`, or continue the one already there."""
        path, clock = Path(path), clock or SystemClock()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            _hold_writer_lock(fd, path)
            scan = scan_journal(path)
            if scan.torn_tail:  # the next line must not be glued onto the torn one
                os.ftruncate(fd, scan.complete_bytes)
            if not scan.events:
                _fsync_dir(path.parent)  # a crash must not lose the file itself
                now, wall = clock.monotonic(), clock.wall()
                journal = cls(path, clock, fd, scan.complete_bytes, 0, now, wall)
                journal._write("journal.opened", {"origin_wall": format_wall(wall), "origin_monotonic": now,
                                                  "pid": os.getpid()})
                return journal
            origin_monotonic, rebased = _continued_origin(scan.events, clock)
            origin_wall = parse_wall(scan.events[0].data["origin_wall"])
            last_seq = scan.events[-1].seq
            journal = cls(path, clock, fd, scan.complete_bytes, last_seq, origin_monotonic, origin_wall)
            journal._write("journal.reopened", {"pid": os.getpid(), "torn_tail_bytes": len(scan.torn_tail),
                                                "rebased": rebased})
            return journal
        except BaseException:
            os.close(fd)
            raise

    def append(self, kind: str, /, **data: Any) -> Event:
        """Write one event and return it once it is on disk."""
        if kind not in EVENT_KINDS or kind in _RESERVED:
            known = ", ".join(sorted(EVENT_KINDS.keys() - _RESERVED))
            raise ValueError(f"unknown event kind {kind!r}; known: {known}")
        return self._write(kind, data)

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def now_s(self) -> float:
        """Monotonic seconds since the journal's origin, as the next event would be stamped."""
        return round(self.clock.monotonic() - self._origin_monotonic, 6)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _write(self, kind: str, data: Mapping[str, Any]) -> Event:
        with self._lock:  # one lock for clock, seq and write: file order == seq order == time order
            if self._fd is None:
                raise ValueError(f"journal {self.path} is closed")
            data = MappingProxyType(dict(data))
            event = Event(self._last_seq + 1, kind, self.clock.wall(), self.now_s(), data)
            line = event.to_line().encode("utf-8")  # raises before writing if data is not JSON
            # Ctrl-C and SIGTERM raise in the main thread wherever it is: one between the write
            # and the seq's update would give the next event the same seq.
            with _interrupts_deferred():
                try:
                    _write_all(self._fd, line)
                    os.fsync(self._fd)
                except OSError:
                    os.ftruncate(self._fd, self._size)  # take back a partial line (disk full...)
                    raise
                self._size += len(line)
                self._last_seq = event.seq
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:
                    logger.exception("journal listener %r failed on event %d; the drill goes on", listener, event.seq)
            return event


def _continued_origin(events: tuple[Event, ...], clock: Clock) -> tuple[float, bool]:
    """The origin for a reopened journal; rebased if the monotonic clock restarted (a reboot)."""
    opened = events[0]
    if opened.kind != "journal.opened":
        raise JournalCorrupt(f"the first event is {opened.kind!r}, not 'journal.opened'")
    origin = float(opened.data["origin_monotonic"])
    last = events[-1]
    if clock.monotonic() - origin >= last.t_s:
        return origin, False
    # Bridge the gap with the wall clock, so t_s never goes backwards.
    gap_s = max(0.0, (clock.wall() - last.wall).total_seconds())
    return clock.monotonic() - last.t_s - gap_s, True


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM that arrive inside the block take effect right after it.

    Python runs signal handlers in the main thread only, so other threads need nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    # Each handler is put back even if the one before it raises (its own signal, just restored).
    with contextlib.ExitStack() as restore:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.signal(sig, lambda number, _frame: caught.append(number))
            restore.callback(signal.signal, sig, signal.SIG_DFL if previous is None else previous)
        yield
    for number in caught:
        signal.raise_signal(number)  # to the handler that was there: raise, ignore or die, as it would have


def _hold_writer_lock(fd: int, path: Path) -> None:
    """One writer per journal: two harnesses appending to one file would break its seq.

    The lock lives as long as the descriptor, so a killed harness lets go of it at once."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise JournalBusy(f"{path} is being written by another process (a harness of this run is alive)") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
