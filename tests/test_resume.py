"""`gamedrill run --resume RUN`: the harness dies mid-incident, a new one takes the drill over
(stack, faults, tokens, journal), the team carries on, and nothing recorded is lost."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from liverun import GAMEDRILL, ROOT, running_drill

from harness.cleanup import find_leftovers
from harness.load import read_records
from harness.stack import procfs
from harness.timeline import Event, read_journal
from harness.waiting import wait_until

DRILL = ROOT / "tests" / "data" / "hung-manual.yaml"


def team(*args: str, run_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GAMEDRILL_USER": "alice"}
    return subprocess.run([*GAMEDRILL, *args, "--run", str(run_dir)], capture_output=True, text=True, env=env,
                          timeout=60, check=False, cwd=ROOT)


def journal(run_dir: Path) -> list[Event]:
    return read_journal(run_dir / "journal.jsonl")


def first(events: list[Event], kind: str) -> Event:
    return next(e for e in events if e.kind == kind)


@pytest.mark.timeout(240)
def test_a_new_harness_takes_the_drill_over_and_the_team_carries_on(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with running_drill(runs, DRILL) as (harness, run_dir):
        wait_until(lambda: any(e.kind == "alert.fired" for e in journal(run_dir)), 60, "the page")
        assert team("ack", run_dir=run_dir).returncode == 0
        assert team("declare", "--sev", "2", "--commander", "alice", run_dir=run_dir).returncode == 0
        harness.send_signal(signal.SIGKILL)
        harness.wait(timeout=10)

        # While no harness listens, the team's command is refused by its client, not half-recorded.
        refused = team("note", "is anyone there?", run_dir=run_dir)
        assert refused.returncode == 4 and "no harness answers for this drill, nothing was recorded" in \
            refused.stderr, refused.stderr

        resumed = subprocess.Popen([*GAMEDRILL, "run", "--resume", run_dir.name, "--runs-dir", str(runs)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        try:
            wait_until(lambda: (run_dir / "control.json").exists()
                       and json.loads((run_dir / "control.json").read_text())["pid"] == resumed.pid,
                       60, "the new harness's control API")
            taken = first(journal(run_dir), "run.resumed")
            assert taken.data["faults_held"] == [0] and taken.data["faults_lapsed"] == [], taken.data
            twice = subprocess.run([*GAMEDRILL, "run", "--resume", str(run_dir)], capture_output=True, text=True,
                                   timeout=60, check=False, cwd=ROOT)
            assert twice.returncode == 4 and f"is still running (its harness is pid {resumed.pid})" in twice.stderr

            assert team("act", "rollback-script", run_dir=run_dir).returncode == 0
            assert team("act", "kill-hung-workers", run_dir=run_dir).returncode == 0
            wait_until(lambda: any(e.kind == "restoration.detected" and e.seq > taken.seq
                                   for e in journal(run_dir)), 60, "restoration under the new harness")
            assert team("resolve", run_dir=run_dir).returncode == 0
            output, _ = resumed.communicate(timeout=90)
        finally:
            if resumed.poll() is None:
                resumed.terminate()
                resumed.wait(timeout=60)
        assert resumed.returncode == 0 and "outcome: resolved" in output, output

    events = journal(run_dir)
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "one journal, no gap, no rewrite"
    kinds = [e.kind for e in events]
    reopened = kinds.index("journal.reopened")
    assert kinds.index("team.ack") < kinds.index("team.declare") < reopened < kinds.index("team.act")
    assert events[-1].kind == "run.finished" and events[-1].data["outcome"] == "resolved"
    assert [e.data["how"] for e in events if e.kind == "fault.reverted"] == ["end of drill"]
    assert all(e.t_s <= later.t_s for e, later in itertools.pairwise(events)), "t_s never goes back"
    card = json.loads((run_dir / "scorecard.json").read_text())
    assert card["complete"] is True and card["outcome"] == "resolved"
    # Every logged arrival is in a window, also those whose second the dead harness never wrote.
    logged = [r for r in read_records(run_dir / "metrics" / "requests.jsonl") if r.sent]
    windows = [e.data for e in events if e.kind == "slo.window"]
    assert (sum(w["requests"] for w in windows), sum(w["failures"] for w in windows)) == \
        (len(logged), sum(1 for r in logged if not r.ok))
    assert card["impact"]["failed_requests"] > 0
    assert find_leftovers(run_dir.name) == [], [procfs.read_stat(p.pid) for p in find_leftovers(run_dir.name)]



@pytest.mark.parametrize(("events", "why"), [
    pytest.param([], "the journal has no plan", id="no-plan"),
    pytest.param(["run.planned", "run.finished"], "is over (its journal has run.finished)", id="finished"),
    pytest.param(["run.planned"], "died before its fault was injected", id="never-injected"),
])
def test_what_cannot_be_resumed_says_why(tmp_path: Path, events: list[str], why: str) -> None:
    from harness.resume import CannotResume, prepare_resume
    from harness.runner import RunOptions
    from harness.timeline import Journal

    run_dir = tmp_path / f"resume-refused-{tmp_path.name}"  # its name is the run id, machine-wide
    run_dir.mkdir()
    with Journal.open(run_dir / "journal.jsonl") as written:
        for kind in events:
            written.append(kind, drill="x")
    with pytest.raises(CannotResume) as refused:
        prepare_resume(run_dir, RunOptions())
    assert why in str(refused.value)
