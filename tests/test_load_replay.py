"""harness.load_replay: the seconds a dead harness never wrote, rebuilt from its request log."""

from __future__ import annotations

import json
from pathlib import Path

from harness.load_replay import replay_unwritten
from harness.monitor import Monitor
from harness.spec import HealthWindow
from harness.timeline import FakeClock, Journal, read_journal

ORIGIN_MONO = 1000.0


def logged(path: Path, seconds: range, rate: int, ok: bool) -> list[dict[str, object]]:
    records = [{"mono": ORIGIN_MONO + s + i / rate, "intended": ORIGIN_MONO + s + i / rate, "wall": 0.0,
                "latency_ms": 5.0, "status": 200 if ok else 0, "ok": ok, "node": "web-1", "name": "product",
                "error": None if ok else "ConnectionRefusedError"} for s in seconds for i in range(rate)]
    with path.open("a") as sink:
        sink.writelines(json.dumps(r) + "\n" for r in records)
    return records


def test_the_windows_after_the_last_written_one_come_back_with_every_failure(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    log = tmp_path / "metrics" / "requests.jsonl"
    logged(log, range(0, 5), 10, ok=True)
    failed = logged(log, range(5, 9), 10, ok=False)  # the dead harness never wrote these seconds
    with log.open("a") as sink:
        sink.write('{"mono": 1009.5, "intended"')  # the torn last line of a killed writer
    with Journal.open(tmp_path / "journal.jsonl", FakeClock()) as journal:
        for second in range(0, 5):
            journal.append("slo.window", start_t_s=second, requests=10, failures=0, p50_ms=5.0, p99_ms=5.0,
                           nodes={"web-1": [10, 0]}, offered=10, achieved=10)
        journaled = read_journal(tmp_path / "journal.jsonl")
        monitor = Monitor(journal, (), HealthWindow(max_error_rate=0.01, max_p99_ms=500, window_s=3), ("web-1",))
        monitor.arm_restoration(5.0)
        assert replay_unwritten(monitor, tmp_path, journaled, ORIGIN_MONO) == len(failed)
        monitor.tick(20.0)
    windows = [e.data for e in read_journal(tmp_path / "journal.jsonl") if e.kind == "slo.window"]
    assert [w["start_t_s"] for w in windows] == list(range(0, 9))
    assert sum(w["failures"] for w in windows) == len(failed) == 40
    assert monitor.since_fault == {"requests": 40, "failures": 40}  # armed at 5 s: the failed seconds only
    assert monitor.totals == {"requests": 90, "failures": 40}  # the written seconds count in the totals


def test_no_request_log_means_nothing_to_rebuild(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal.jsonl", FakeClock()) as journal:
        monitor = Monitor(journal, (), HealthWindow(max_error_rate=0.01, max_p99_ms=500, window_s=3), ("web-1",))
        assert replay_unwritten(monitor, tmp_path, [], ORIGIN_MONO) == 0
