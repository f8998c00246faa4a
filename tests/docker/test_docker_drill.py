"""A whole drill on the docker backend: the same journal, the same timings, nothing left."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest
from dockerkit import leftovers
from test_drill import DATA, CpuWatch, first

from harness.runner import RunOptions, prepare_run
from harness.spec import load_drill
from harness.stack.docker import DockerBackend
from harness.timeline import read_journal

pytestmark = pytest.mark.docker


@pytest.mark.timeout(300)
def test_autopilot_drill_on_docker_times_the_team_from_fault_to_resolution(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    drill = load_drill(DATA / "hung-autopilot.yaml").model_copy(update={"backend": "docker"})
    run = prepare_run(drill, RunOptions(runs_dir=tmp_path, autopilot=True))
    assert isinstance(run.backend, DockerBackend), "the drill's `backend: docker` picks the backend"
    with CpuWatch(run) as watch:
        result = run.execute()
    assert result.outcome == "resolved", result.reason
    events = read_journal(result.run_dir / "journal.jsonl")
    assert first(events, "run.planned").data["backend"] == "docker"

    fault = first(events, "fault.injected")
    alert = first(events, "alert.fired")
    declare = first(events, "team.declare")
    first_act = first(events, "team.act")
    global_kill = first(events, "team.act", action="kill-hung-workers", canary=None)
    restored = first(events, "restoration.detected")
    resolved = first(events, "team.resolve")
    restored_at = restored.data["window_start_t_s"]
    assert fault.t_s < alert.t_s < declare.t_s < first_act.t_s < restored_at < resolved.t_s
    assert restored_at >= global_kill.t_s, "restoration measured after the mitigation that healed it"
    assert restored.t_s >= restored_at + restored.data["window_s"], "a window is judged once it is over"

    # The looping workers really spun inside the containers, and the kill found them there.
    busy_before_act = [cores for t_s, cores in watch.samples if fault.t_s + 2 < t_s < first_act.t_s]
    assert busy_before_act and max(busy_before_act) >= 0.8, watch.samples
    killed = first(events, "action.result", action="kill-hung-workers").data["changed"]["killed"]
    assert killed.get("web-1"), "the canary kill found spinning workers on web-1 (read inside its container)"

    # Every fault reverted, the stack torn down, nothing of the run left on the engine.
    assert first(events, "fault.reverted").data["ok"]
    assert events[-1].kind == "run.finished" and events[-1].data["outcome"] == "resolved"
    state = json.loads((result.run_dir / "stack.json").read_text())
    assert state["backend"] == "docker" and state["services"] == {}
    assert leftovers(docker_client, run.backend.compose_project) == []
    assert (result.run_dir / "logs" / "web-1.log").read_text(), "container logs are kept in the run directory"

    card = json.loads((result.run_dir / "scorecard.json").read_text())
    phases = {p["phase"]: p for p in card["phases"]}
    assert phases["detect"]["seconds_from_fault"] == pytest.approx(alert.t_s - fault.t_s, abs=1e-3)
    assert phases["mitigate"]["seconds_from_fault"] == pytest.approx(restored_at - fault.t_s, abs=1e-3)
    assert (result.run_dir / "scorecard.md").read_text().count("detect") >= 1
