"""The journal: append-only, fsync'd, torn-line tolerant, continuing after a reopen."""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import re
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.timeline import EVENT_KINDS, Event, FakeClock, Journal, JournalCorrupt, read_journal, scan_journal

WALL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def test_each_event_is_one_json_line_with_both_timestamps(tmp_path: Path) -> None:
    clock = FakeClock(wall_start=datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC))
    path = tmp_path / "journal.jsonl"
    with Journal.open(path, clock) as journal:
        clock.advance(1.5)
        event = journal.append("team.declare", by="alice", severity=2, commander="alice")

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    opened, declared = (json.loads(line) for line in lines)
    assert list(declared) == ["seq", "kind", "wall", "t_s", "data"]
    assert declared == {"seq": 2, "kind": "team.declare", "wall": "2024-05-01T12:00:01.500000Z",
                        "t_s": 1.5, "data": {"by": "alice", "severity": 2, "commander": "alice"}}
    assert opened["kind"] == "journal.opened" and opened["t_s"] == 0.0
    assert opened["data"]["origin_wall"] == "2024-05-01T12:00:00.000000Z"
    assert event.seq == 2 and event.wall == datetime(2024, 5, 1, 12, 0, 1, 500000, tzinfo=UTC)


def test_every_append_is_on_disk_before_it_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    path = tmp_path / "journal.jsonl"
    journal = Journal.open(path, FakeClock())
    try:
        for number in range(5):
            before = len(synced)
            journal.append("team.note", by="bob", text=f"note {number}")
            assert len(synced) == before + 1
            # A separate reader (another process would do the same) sees it at once.
            assert read_journal(path)[-1].data == {"by": "bob", "text": f"note {number}"}
    finally:
        journal.close()


def test_a_torn_last_line_is_ignored_reported_and_cut_on_reopen(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "journal.jsonl"
    clock = FakeClock()
    with Journal.open(path, clock) as journal:
        journal.append("fault.injected", index=0, type="rollout")
        journal.append("alert.fired", name="high-error-rate")
    torn = b'{"seq":4,"kind":"team.ack","wall":"2024-01-01T00:0'
    with path.open("ab") as crashed:  # the harness died in the middle of a write
        crashed.write(torn)

    with caplog.at_level(logging.WARNING, logger="harness.timeline"):
        events = read_journal(path)
    assert [e.kind for e in events] == ["journal.opened", "fault.injected", "alert.fired"]
    assert "torn last line" in caplog.text
    assert scan_journal(path).torn_tail == torn

    with Journal.open(path, clock) as journal:
        acked = journal.append("team.ack", by="alice")
    events = read_journal(path)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[3].kind == "journal.reopened" and events[3].data["torn_tail_bytes"] == len(torn)
    assert events[4] == acked
    assert scan_journal(path).torn_tail == b""


def test_a_damaged_line_before_the_end_is_an_error_not_a_torn_write(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal.open(path, FakeClock()) as journal:
        journal.append("team.ack", by="alice")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b"garbage\n" + lines[1])
    with pytest.raises(JournalCorrupt, match="line 2"):
        read_journal(path)


def test_reopening_continues_seq_and_time_origin(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    clock = FakeClock()
    with Journal.open(path, clock) as journal:
        clock.advance(2.0)
        journal.append("team.ack", by="alice")
        origin_wall = journal.origin_wall
    clock.advance(3.25)
    with Journal.open(path, clock) as journal:
        assert journal.origin_wall == origin_wall
        clock.advance(0.5)
        resolved = journal.append("team.resolve", by="alice")
    assert resolved.seq == 4 and resolved.t_s == 5.75
    reopened = read_journal(path)[2]
    assert reopened.kind == "journal.reopened" and reopened.t_s == 5.25
    assert reopened.data["rebased"] is False


def test_a_restarted_monotonic_clock_never_sends_time_backwards(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    before = FakeClock(monotonic_start=5000.0)
    with Journal.open(path, before) as journal:
        before.advance(10.0)
        journal.append("team.ack", by="alice")
    # After a reboot the monotonic clock starts near zero again; the wall clock moved on 4 s.
    after = FakeClock(wall_start=before.wall() + (datetime(2024, 1, 1, 0, 0, 4, tzinfo=UTC)
                                                   - datetime(2024, 1, 1, tzinfo=UTC)), monotonic_start=3.0)
    with Journal.open(path, after) as journal:
        event = journal.append("team.resolve", by="alice")
    events = read_journal(path)
    assert events[2].data["rebased"] is True
    assert [e.t_s for e in events] == [0.0, 10.0, 14.0, 14.0]
    assert event.t_s == 14.0


def test_concurrent_appends_get_unique_ordered_seq_and_monotonic_times(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal.open(path)  # the real clock

    def writer(name: str) -> None:
        for number in range(25):
            journal.append("team.note", by=name, text=str(number))

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()

    events = read_journal(path)
    assert [e.seq for e in events] == list(range(1, 102))
    assert all(a.t_s <= b.t_s and a.wall <= b.wall for a, b in itertools.pairwise(events))
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert all(WALL.fullmatch(record["wall"]) for record in raw)
    assert all(round(record["t_s"], 6) == record["t_s"] for record in raw)


def test_unknown_kinds_and_non_json_data_are_refused_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal.open(path, FakeClock()) as journal:
        with pytest.raises(ValueError, match=r"unknown event kind 'team\.declar'"):
            journal.append("team.declar", by="alice")
        with pytest.raises(ValueError, match=r"unknown event kind 'journal\.opened'"):
            journal.append("journal.opened")
        with pytest.raises(TypeError):
            journal.append("team.note", by="bob", text=object())
        with pytest.raises(ValueError):
            journal.append("alert.fired", value=float("nan"))
        assert journal.append("team.ack", by="alice").seq == 2
    assert len(read_journal(path)) == 2


def test_a_closed_journal_refuses_appends(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.jsonl", FakeClock())
    journal.close()
    with pytest.raises(ValueError, match="closed"):
        journal.append("team.ack", by="alice")


def test_known_kinds_are_dotted_names() -> None:
    assert all(re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", kind) for kind in EVENT_KINDS)
    assert {"fault.injected", "alert.fired", "team.declare", "restoration.detected"} <= EVENT_KINDS.keys()


def test_listeners_see_every_event_in_order_and_a_failing_one_stops_nothing(tmp_path: Path) -> None:
    seen: list[int] = []

    def broken(event: Event) -> None:
        raise RuntimeError("a listener with a bug")

    with Journal.open(tmp_path / "journal.jsonl") as journal:
        journal.subscribe(broken)
        journal.subscribe(lambda event: seen.append(event.seq))
        first = journal.append("team.ack", by="alice")
        journal.unsubscribe(broken)
        second = journal.append("team.note", by="alice", text="still journaling")
    assert seen == [first.seq, second.seq]
    assert [e.kind for e in read_journal(tmp_path / "journal.jsonl")][-2:] == ["team.ack", "team.note"]


def test_interrupts_mid_write_never_break_the_seq(tmp_path: Path) -> None:
    """SIGTERM (the CLI turns it into KeyboardInterrupt) lands in the main thread wherever it
    is; landing between a line's write and the seq's update once gave two events one seq."""
    armed = [False]  # raise only inside the appends' try: the test's own lines stay uninterrupted
    stop = threading.Event()

    def interrupt(_signum: int, _frame: object) -> None:
        if armed[0]:
            raise KeyboardInterrupt

    def pester() -> None:  # signals at random moments of the main thread's appends
        while not stop.is_set():
            os.kill(os.getpid(), signal.SIGTERM)
            stop.wait(random.uniform(0, 0.002))

    acknowledged, interrupted = [], 0
    path = tmp_path / "journal.jsonl"
    previous = signal.signal(signal.SIGTERM, interrupt)
    pesterer = threading.Thread(target=pester)
    try:
        with Journal.open(path) as journal:
            pesterer.start()
            for n in range(1500):
                try:
                    armed[0] = True
                    seq = journal.append("team.note", by="alice", text=str(n)).seq
                    armed[0] = False
                    acknowledged.append(seq)
                except KeyboardInterrupt:
                    armed[0] = False
                    interrupted += 1
    finally:
        stop.set()
        pesterer.join()
        signal.signal(signal.SIGTERM, previous)

    events = scan_journal(path).events  # raises JournalCorrupt on a repeated seq
    assert interrupted > 0, "the signals landed during the appends"
    assert set(acknowledged) <= {e.seq for e in events}, "an acknowledged event is missing"
