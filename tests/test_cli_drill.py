"""People play the team through the CLI, in subprocesses, against a real drill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from liverun import GAMEDRILL, healed_after_s, running_drill

from harness.burst import burst
from harness.control import ControlClient, ControlError
from harness.stack import procfs
from harness.timeline import read_journal
from harness.waiting import wait_until

DATA = Path(__file__).parent / "data"


def gamedrill(*args: str, run_dir: Path, by: str = "alice") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GAMEDRILL_USER": by}
    return subprocess.run([*GAMEDRILL, *args, "--run", str(run_dir)], capture_output=True, text=True, env=env,
                          timeout=60, check=False)


@pytest.fixture
def live_drill(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    with running_drill(tmp_path / "runs", DATA / "hung-manual.yaml") as running:
        yield running


def leftovers(run_id: str) -> list[str]:
    """Live processes the run started (they carry its id), described for the failure message."""
    found = []
    for pid in procfs.all_pids():
        stat = procfs.read_stat(pid)
        if stat is not None and stat.state != "Z" and procfs.environ_of(pid).get("GAMEDRILL_RUN_ID") == run_id:
            found.append(f"{pid} {stat.state} {Path(f'/proc/{pid}/cmdline').read_bytes()!r}")
    return found


def wait_for_event(run_dir: Path, kind: str, timeout_s: float) -> None:
    wait_until(lambda: any(e.kind == kind for e in read_journal(run_dir / "journal.jsonl")), timeout_s, kind)


@pytest.mark.timeout(300)
def test_team_plays_through_the_cli(live_drill: tuple[subprocess.Popen[str], Path]) -> None:
    proc, run_dir = live_drill
    wait_for_event(run_dir, "alert.fired", 60)

    assert gamedrill("ack", run_dir=run_dir).returncode == 0
    declared = gamedrill("declare", "--sev", "2", "--commander", "alice", run_dir=run_dir)
    assert declared.returncode == 0 and "recorded team.declare" in declared.stdout

    wrong = gamedrill("act", "reboot-the-internet", run_dir=run_dir)
    assert wrong.returncode == 2  # the drill found the request invalid: bad input
    assert "unknown action 'reboot-the-internet'" in wrong.stderr and "kill-hung-workers" in wrong.stderr
    bad_sev = gamedrill("declare", "--sev", "9", "--commander", "alice", run_dir=run_dir)
    assert bad_sev.returncode == 2 and "--sev" in bad_sev.stderr

    # Without the team's token the API refuses, and says why.
    url = json.loads((run_dir / "control.json").read_text())["url"]
    with pytest.raises(ControlError) as refused:
        ControlClient(url, token="").status()
    assert refused.value.status == 401
    assert "team.declare" in [e.kind for e in read_journal(run_dir / "journal.jsonl")], "the drill carried on"

    update = gamedrill("update", "--impact", "shop pages time out", "--action", "rolling back script v2",
                       "--next-update", "300", run_dir=run_dir, by="bob")
    assert update.returncode == 0
    assert gamedrill("suspect", "script_push v2", run_dir=run_dir).returncode == 0
    assert gamedrill("act", "rollback-script", run_dir=run_dir).returncode == 0
    killed = gamedrill("act", "kill-hung-workers", run_dir=run_dir)
    assert killed.returncode == 0 and "kill-hung-workers done" in killed.stdout
    status = gamedrill("status", run_dir=run_dir)
    assert status.returncode == 0 and "web-1" in status.stdout
    assert "arrivals/s offered" in status.stdout and "sent on time" in status.stdout, status.stdout
    changes = gamedrill("changes", run_dir=run_dir)
    assert "script_push" in changes.stdout and "v2" in changes.stdout

    wait_for_event(run_dir, "restoration.detected", 60)
    assert gamedrill("resolve", run_dir=run_dir).returncode == 0
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert "outcome: resolved" in output

    events = read_journal(run_dir / "journal.jsonl")
    people = {e.kind: e.data["by"] for e in events if e.kind.startswith("team.")}
    assert people["team.update"] == "bob" and people["team.declare"] == "alice"
    tokens = json.loads((run_dir / "tokens.json").read_text())
    journal_text = (run_dir / "journal.jsonl").read_text()
    assert tokens["team"] not in journal_text and tokens["facilitator"] not in journal_text
    assert leftovers(run_dir.name) == []


def test_no_live_drill_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run([*GAMEDRILL, "ack", "--runs-dir", str(tmp_path)], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 4  # no harness answers
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_bad_drill_file_starts_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "hung-manual.yaml").read_text().replace("baseline_s: 5", "baseline_s: soon")
                   .replace("../../scenarios", str(DATA.parent.parent / "scenarios")))
    result = subprocess.run([*GAMEDRILL, "run", str(bad), "--runs-dir", str(tmp_path / "runs")],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert f"{bad}:7:1: baseline_s: Input should be a valid number" in result.stderr.splitlines()[0]
    assert not (tmp_path / "runs").exists()


@pytest.mark.timeout(180)
def test_sigterm_mid_fault_reverts_and_tears_down(live_drill: tuple[subprocess.Popen[str], Path]) -> None:
    proc, run_dir = live_drill
    wait_for_event(run_dir, "fault.injected", 60)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 130, (proc.returncode, output)  # interrupted: reverted and torn down
    kinds = [e.kind for e in read_journal(run_dir / "journal.jsonl")]
    assert kinds.index("fault.injected") < kinds.index("fault.reverted") < kinds.index("stack.down")
    assert kinds[-1] == "run.finished"
    assert leftovers(run_dir.name) == []
    assert json.loads((run_dir / "scorecard.json").read_text())["outcome"] == "aborted"


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("drill", "ttl_s"), [
    pytest.param(DATA / "hung-manual.yaml", 15.0, id="rollout-lease-at-the-control-plane"),
    pytest.param(DATA / "killed" / "link-drill.yaml", 10.0, id="link-lease-at-the-proxy"),
    pytest.param(DATA / "killed" / "pause-drill.yaml", 8.0, id="pause-lease-at-the-watcher"),
])
def test_a_killed_harness_leaves_the_stack_healthy_within_the_ttl(tmp_path: Path, drill: Path, ttl_s: float) -> None:
    with running_drill(tmp_path / "runs", drill) as (proc, run_dir):
        wait_for_event(run_dir, "alert.fired", 60)  # the fault is live and hurting
        proc.kill()  # SIGKILL: no finally, no revert; only the lease can save the shop now
        proc.wait(timeout=10)
        killed_at = time.monotonic()
        lb_port = json.loads((run_dir / "stack.json").read_text())["services"]["lb"]["port"]
        try:
            def healthy() -> bool:
                result = burst(lb_port, requests=60, max_s=5, concurrency=4)
                return result.requests == 60 and result.failures == 0

            healed_after_s(healthy, killed_at, ttl_s, "the stack to heal itself after the harness died")
        finally:
            cleaned = subprocess.run([*GAMEDRILL, "cleanup", run_dir.name], capture_output=True, text=True,
                                     timeout=60, check=False)
        assert cleaned.returncode == 0 and "cleaned up" in cleaned.stdout, cleaned
        assert leftovers(run_dir.name) == []


def test_dry_run_prints_the_plan_and_starts_nothing(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = subprocess.run([*GAMEDRILL, "run", "drills/demo.yaml", "--dry-run", "--runs-dir", str(runs)],
                            capture_output=True, text=True, timeout=30, check=False,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    assert "fault at +0 s: rollout (push=script v2" in result.stdout
    assert "lease 15 s" in result.stdout and "responder: 14 steps" in result.stdout
    assert not runs.exists()
