"""What the delay cost, measured for real: a drill is played, then played again on a fresh stack
with the team's actions moved to the target and with the ground truth's best response.

The bad config reaches one node of three and, after its bake, every node: a team that waits
12 s after the alert lets a third of the traffic fail all that time, so moving its rollback
to the 8 s target spares customers; a team that acts at the alert has nothing to gain.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.exitcodes import ExitCode

REPO = Path(__file__).parents[1]
GAMEDRILL = [sys.executable, "-m", "harness.cli"]
TIMEOUT_S = 240

SLOW = [{"wait_for": {"event": "alert", "timeout_s": 60}}, {"ack": {"by": "alice"}}, {"pause": 12},
        {"act": {"by": "alice", "action": "rollback-config"}},
        {"wait_for": {"event": "restored", "timeout_s": 60}}, {"resolve": {"by": "alice"}}]
AT_ONCE = [{"wait_for": {"event": "alert", "timeout_s": 60}}, {"ack": {"by": "alice"}},
           {"act": {"by": "alice", "action": "pause-rollout"}}, {"act": {"by": "alice", "action": "rollback-config"}},
           {"wait_for": {"event": "restored", "timeout_s": 60}}, {"resolve": {"by": "alice"}}]


def drill_file(tmp_path: Path, name: str, runbook: list[dict[str, Any]]) -> Path:
    drill = {"kind": "drill", "name": name, "title": f"Counterfactual: {name}",
             "scenario": str(REPO / "scenarios" / "bad-config-rollout.yaml"), "backend": "local",
             "load": {"users": 12, "rate_per_s": 50}, "baseline_s": 3, "inject_after_s": 0, "max_duration_s": 90,
             "team": {"members": ["alice", "bob"]}, "targets": {"detect_s": 10, "ack_s": 10, "mitigate_s": 8},
             "responder": runbook}
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(drill, indent=2))
    return path


def gamedrill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAMEDRILL, *args], capture_output=True, text=True, timeout=3 * TIMEOUT_S, check=False)


def played(tmp_path: Path, name: str, runbook: list[dict[str, Any]]) -> Path:
    runs = tmp_path / f"runs-{name}"
    done = gamedrill("run", str(drill_file(tmp_path, name, runbook)), "--autopilot", "--runs-dir", str(runs))
    run_dirs = [d for d in runs.iterdir() if d.is_dir()]
    assert len(run_dirs) == 1, done.stdout[-2000:] + done.stderr[-2000:]
    return run_dirs[0]


def measured(run_dir: Path, *variants: str) -> dict[str, Any]:
    args = [f"--variant={v}" for v in variants]
    done = gamedrill("scorecard", "counterfactual", str(run_dir), *args, "--json")
    assert done.returncode == ExitCode.OK, done.stdout[-2000:] + done.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(done.stdout)
    assert outcome == json.loads((run_dir / "counterfactual.json").read_text())
    return outcome


def spared(outcome: dict[str, Any], name: str) -> int:
    variant = next(v for v in outcome["variants"] if v["name"] == name)
    return int(outcome["failed_requests"]) - int(variant["failed_requests"])


@pytest.mark.timeout(6 * TIMEOUT_S)
def test_a_slow_team_is_told_what_its_delay_cost_and_a_prompt_one_that_it_cost_nothing(tmp_path: Path) -> None:
    slow = played(tmp_path, "slow", SLOW)
    outcome = measured(slow)
    target = next(v for v in outcome["variants"] if v["name"] == "target")
    assert outcome["mitigate_s"] > outcome["target_s"] == 8, outcome
    assert target["mitigate_s"] is not None and target["mitigate_s"] < outcome["mitigate_s"], outcome
    assert spared(outcome, "target") > 0 and spared(outcome, "ideal") > 0, outcome
    assert target["steps"][0].startswith("pause") and "act rollback-config everywhere" in target["steps"], target

    scorecard = (slow / "scorecard.md").read_text()
    assert "## What the delay cost" in scorecard
    assert f"would have spared {spared(outcome, 'target')} of the {outcome['failed_requests']}" in scorecard
    html = (slow / "scorecard.html").read_text()
    assert 'id="chart-counterfactual"' in html and html.count("<polyline") >= 3  # the team's curve and two replays
    # The replays are not drills of the team: they keep a history of their own.
    listed = gamedrill("scorecard", "list", "--runs-dir", str(slow.parent), "--json")
    assert [run["run_id"] for run in json.loads(listed.stdout)] == [slow.name], listed.stdout
    assert (slow / "counterfactual" / "history.sqlite").is_file()

    prompt = played(tmp_path, "prompt", AT_ONCE)
    at_once = measured(prompt, "ideal")  # the team already played the ground truth's best response
    assert [v["name"] for v in at_once["variants"]] == ["ideal"]
    assert abs(spared(at_once, "ideal")) <= max(25, 0.35 * at_once["failed_requests"]), at_once
    assert abs(spared(at_once, "ideal")) < spared(outcome, "target") / 2, (at_once, outcome)


def test_a_run_that_cannot_be_played_again_is_refused_as_bad_input(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    opened = '{"seq":1,"kind":"journal.opened","wall":"2026-01-01T00:00:00.000000Z","t_s":0,"data":{}}\n'
    planned = '{"seq":2,"kind":"run.planned","wall":"2026-01-01T00:00:00.000000Z","t_s":0,"data":{"drill":"d"}}\n'
    for run_id, journal, says in (("20260101-000000-abcdef", opened, "has no plan"),
                                  ("20260101-000000-fedcba", opened + planned, "names no drill file")):
        (runs / run_id).mkdir(parents=True)
        (runs / run_id / "journal.jsonl").write_text(journal)
        done = gamedrill("scorecard", "counterfactual", run_id, "--runs-dir", str(runs))
        assert done.returncode == ExitCode.BAD_INPUT and says in done.stderr, done.stderr
    unknown = gamedrill("scorecard", "counterfactual", "nosuchrun", "--runs-dir", str(runs))
    assert unknown.returncode == ExitCode.BAD_INPUT and "20260101-000000-abcdef" in unknown.stderr
