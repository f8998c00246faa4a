"""An unhealthy steady state: the fault is not injected, and the CLI says why in numbers.

A real drill on the local backend, whose scenario asks for a p99 no real request can meet
(0.001 ms): the steady state after the load's ramp fails on latency, so nothing is injected
and the printed outcome names the measured p99 and the limit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from liverun import GAMEDRILL, ROOT

from harness.timeline import read_journal


@pytest.mark.timeout(120)
def test_an_unhealthy_baseline_is_not_injected_and_the_reason_is_printed(tmp_path: Path) -> None:
    scenario = (ROOT / "scenarios" / "hung-workers.yaml").read_text()
    strict = scenario.replace("    max_p99_ms: 500\n    window_s: 3", "    max_p99_ms: 0.001\n    window_s: 3")
    assert strict != scenario
    (tmp_path / "scenario.yaml").write_text(strict)
    drill = (ROOT / "tests" / "data" / "hung-manual.yaml").read_text().replace(
        "../../scenarios/hung-workers.yaml", "scenario.yaml").replace("baseline_s: 5", "baseline_s: 3")
    (tmp_path / "drill.yaml").write_text(drill)
    done = subprocess.run([*GAMEDRILL, "run", str(tmp_path / "drill.yaml"), "--runs-dir", str(tmp_path / "runs")],
                          capture_output=True, text=True, timeout=110, check=False, cwd=ROOT)
    assert done.returncode == 3, done.stdout + done.stderr  # the exit code for "not injected"
    assert "outcome: not_injected" in done.stdout, done.stdout
    assert "(the limit is 0.001 ms)" in done.stdout and "p99 latency" in done.stdout, done.stdout

    [run_dir] = [d for d in (tmp_path / "runs").iterdir() if (d / "journal.jsonl").exists()]
    events = read_journal(run_dir / "journal.jsonl")
    kinds = [e.kind for e in events]
    assert "fault.injecting" not in kinds and "fault.injected" not in kinds
    [checked] = [e for e in events if e.kind == "steady_state.checked"]
    started = next(e for e in events if e.kind == "load.started")
    assert checked.data["healthy"] is False and checked.data["requests"] > 0
    assert checked.data["achieved"] == checked.data["offered"] > 0  # the load itself held
    assert started.data["ramp_s"] == 1.5  # the default ramp, cut to half of a 3 s baseline
