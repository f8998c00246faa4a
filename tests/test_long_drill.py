"""A game-day drill past the old 300 s cap: the drill's own limit decides, the faults hold throughout.

drills/gameday/inventory-latency.yaml (an hour) played ten times faster: the baseline, the
surprise window and the limit shrink, the fault's 30 s lease does not. Nobody responds, so
the drill runs to its limit of 360 s, renewing the toxic's lease on the fault proxy some 330
times. Had one renewal failed, the proxy would have dropped the toxic and the shop healed
(a healthy window, a restoration): the test asserts it never did.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.spec import load_drill
from harness.timeline import read_journal

ROOT = Path(__file__).resolve().parents[1]
GAME_DAY = ROOT / "drills" / "gameday" / "inventory-latency.yaml"
COMPRESSION = 10
OLD_CAP_S = 300


def compressed_copy(tmp_path: Path) -> Path:
    text = GAME_DAY.read_text()
    text = text.replace("scenario: ../../scenarios/", f"scenario: {ROOT / 'scenarios'}/")
    path = tmp_path / "long.yaml"
    path.write_text(text + f"time_compression: {COMPRESSION}\n")
    return path


@pytest.mark.timeout(600)
def test_a_game_day_drill_runs_past_the_old_cap_with_its_fault_held(tmp_path: Path) -> None:
    drill_path = compressed_copy(tmp_path)
    limit_s = load_drill(drill_path).duration_limit_s / COMPRESSION
    assert limit_s > OLD_CAP_S
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(drill_path), "--runs-dir", str(runs),
                           "--seed", "7"], capture_output=True, text=True, cwd=ROOT, timeout=limit_s + 180)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # a timed-out drill is a result, not a crash
    (run_dir,) = runs.glob("*/journal.jsonl")
    events = read_journal(run_dir)

    tripped = [e.data for e in events if e.kind == "safety.tripped"]
    assert tripped == [{"limit": "max_duration_s", "value": limit_s}], tripped
    injected = next(e for e in events if e.kind == "fault.injected")
    stopping = next(e for e in events if e.kind == "run.stopping")
    assert stopping.t_s >= limit_s and stopping.data["outcome"] == "timed_out"
    assert stopping.t_s - injected.t_s > OLD_CAP_S - 60  # most of the drill under the fault

    # The lease held: the fault went only at the end of the drill, and the shop never healed.
    reverts = [e for e in events if e.kind == "fault.reverted"]
    assert len(reverts) == 1 and reverts[0].data["how"] != "lease" and reverts[0].t_s >= stopping.t_s
    assert not [e for e in events if e.kind == "restoration.detected"]
    windows = [e.data for e in events if e.kind == "slo.window"
               and injected.t_s + 10 <= e.data["start_t_s"] < stopping.t_s - 1]
    assert len(windows) > OLD_CAP_S - 60
    healthy = [w for w in windows if w["requests"] and w["failures"] / w["requests"] <= 0.01
               and (w["p99_ms"] or 0) <= 500]
    assert len(healthy) <= len(windows) * 0.05, healthy[:5]  # a lucky second here and there, never a heal
