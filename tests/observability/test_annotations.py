"""Which drill events become Grafana annotations, and when they are placed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from harness.observability import ANNOTATIONS_FILE, GrafanaAnnotations, annotation_for
from harness.timeline import FakeClock, Journal
from harness.waiting import wait_until

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_team_events_are_annotated_and_the_fault_never_is(tmp_path: Path) -> None:
    clock = FakeClock(wall_start=START)
    with Journal.open(tmp_path / "journal.jsonl", clock) as journal:
        annotations = GrafanaAnnotations(journal, "run-1", tmp_path)  # no Grafana: the file only
        annotations.start()
        journal.append("change.pushed", artifact_kind="config", version="v3", decoy=False)
        journal.append("fault.injected", index=0, type="rollout")
        journal.append("alert.fired", name="x", metric="error_rate", value=0.5, threshold=0.05, op=">")
        clock.advance(10)
        journal.append("team.declare", by="alice", severity=2, commander="alice")
        clock.advance(20)
        restored = journal.append("restoration.detected", window_start_t_s=journal.now_s() - 6.0, window_s=5)
        journal.append("team.resolve", by="alice")
        wait_until(lambda: len(annotations.annotations) == 3, 5, "the three annotations")
        annotations.stop()
    saved = json.loads((tmp_path / ANNOTATIONS_FILE).read_text())
    assert [a["tags"][2] for a in saved["annotations"]] == ["team.declare", "restoration.detected", "team.resolve"]
    assert saved["annotations"][0]["text"] == "declared SEV2 (commander alice)"
    assert all("pushed" not in a and "run:run-1" in a["tags"] for a in saved["annotations"])
    placed = annotation_for(restored, "run-1")
    assert placed is not None and placed["time"] == int(restored.wall.timestamp() * 1000) - 6000, \
        "restoration is placed at the start of the healthy window"
