"""`gamedrill run` killed with SIGKILL at every stage of a drill: the shop heals by itself
within the fault's lease, `gamedrill cleanup` leaves nothing of the run, the journal up to
the kill is intact, and `gamedrill scorecard rebuild` scores it, marked incomplete."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.burst import burst
from harness.cleanup import find_leftovers
from harness.timeline import Event, read_journal, scan_journal
from harness.waiting import wait_until

DRILL = Path(__file__).parent / "data" / "hung-autopilot.yaml"
GAMEDRILL = [sys.executable, "-m", "harness.cli"]
TTL_S = 15.0  # scenarios/hung-workers.yaml's lease


def kill_when(run_dir_parent: Path, proc: subprocess.Popen[str], ready: str) -> Path:
    """SIGKILL `proc` as soon as its journal holds an event matching `ready` ("kind" or "kind:to")."""
    kind, _, to = ready.partition(":")

    def reached() -> Path | None:
        for journal in run_dir_parent.glob("*/journal.jsonl"):
            if any(e.kind == kind and (not to or e.data.get("to") == to) for e in read_journal(journal)):
                return journal.parent
        return None

    run_dir = wait_until(reached, 90, f"the drill to reach {ready}", interval_s=0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return run_dir


def healthy(lb_port: int) -> bool:
    result = burst(lb_port, requests=60, max_s=5, concurrency=4)
    return result.requests == 60 and result.failures == 0


@pytest.mark.timeout(240)
@pytest.mark.parametrize("ready", [
    pytest.param("run.state:baseline", id="before-inject"),
    pytest.param("alert.fired", id="mid-fault"),
    pytest.param("team.act", id="mid-mitigation"),
    pytest.param("load.stopped", id="during-teardown"),
])
def test_a_harness_killed_at_any_stage_leaves_nothing_broken_or_lost(tmp_path: Path, ready: str) -> None:
    runs = tmp_path / "runs"
    proc = subprocess.Popen([*GAMEDRILL, "run", str(DRILL), "--autopilot", "--runs-dir", str(runs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        run_dir = kill_when(runs, proc, ready)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed_at = time.monotonic()
    try:
        # The journal up to the kill: every line whole (a torn last line at most), seq unbroken.
        scan = scan_journal(run_dir / "journal.jsonl")
        events: list[Event] = list(scan.events)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert not any(e.kind == "run.finished" for e in events)
        assert any(e.kind == ready.partition(":")[0] for e in events)

        if ready == "load.stopped":
            # Killed while taking the stack down on purpose: nothing is left injected, and
            # what is left running is cleanup's.
            injected = {e.data["index"] for e in events if e.kind == "fault.injected"}
            assert injected and injected == {e.data["index"] for e in events if e.kind == "fault.reverted"}
        else:
            # The shop heals by itself: the leases outlive the harness.
            stack = json.loads((run_dir / "stack.json").read_text())
            lb_port = stack["services"]["lb"]["port"]
            wait_until(lambda: healthy(lb_port), TTL_S + 20, "the shop to heal after the harness died",
                       interval_s=0.2)
            assert time.monotonic() - killed_at <= TTL_S + 20
    finally:
        cleaned = subprocess.run([*GAMEDRILL, "cleanup", run_dir.name], capture_output=True, text=True,
                                 timeout=60, check=False)
    assert cleaned.returncode == 0, cleaned.stderr
    assert find_leftovers(run_dir.name) == [], "cleanup left processes of the run"

    rebuilt = subprocess.run([*GAMEDRILL, "scorecard", "rebuild", run_dir.name, "--runs-dir", str(runs)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert rebuilt.returncode == 0, rebuilt.stderr
    card = json.loads((run_dir / "scorecard.json").read_text())
    assert card["complete"] is False, "a run without run.finished is scored as incomplete"
    assert "incomplete" in (run_dir / "scorecard.md").read_text().lower()
