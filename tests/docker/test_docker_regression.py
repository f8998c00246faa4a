"""Every built-in scenario once on containers, with its regression runbook: the same
scorecard rules hold as on the local backend, and nothing of the run is left on the engine.

The engine is reached over TCP (DOCKER_HOST=tcp://127.0.0.1:PORT), as a remote one would be:
the harness, its Compose CLI and its lease watchers only ever speak the engine's API."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest
from dockerkit import leftovers
from engine_relay import EngineRelay

from harness.pytest_verdict import explain, judge
from harness.runner import RunOptions, prepare_run
from harness.spec import load_drill
from harness.stack.docker import DockerBackend
from harness.timeline import read_journal
from scorecards import build_from_run_dir

pytestmark = pytest.mark.docker

REGRESSION = Path(__file__).parents[2] / "drills" / "regression"
DRILLS = sorted(REGRESSION.glob("*.yaml"))


@pytest.mark.timeout(400)
@pytest.mark.parametrize("path", DRILLS, ids=[p.stem for p in DRILLS])
def test_the_regression_runbook_holds_on_docker(path: Path, tmp_path: Path, docker_client: docker.DockerClient,
                                                engine_over_tcp: EngineRelay) -> None:
    drill = load_drill(path).model_copy(update={"backend": "docker"})
    run = prepare_run(drill, RunOptions(runs_dir=tmp_path, autopilot=True))
    assert isinstance(run.backend, DockerBackend)
    assert run.backend.client.api.base_url == engine_over_tcp.url.replace("tcp://", "http://")
    result = run.execute()
    card = build_from_run_dir(result.run_dir)
    events = read_journal(result.run_dir / "journal.jsonl")
    verdict = judge(card, result.outcome, result.reason)
    assert verdict.passed, "\n".join(explain(drill.name, verdict, card, events))
    assert next(e for e in events if e.kind == "run.planned").data["backend"] == "docker"
    assert all(e.data["ok"] for e in events if e.kind == "fault.reverted")
    assert leftovers(docker_client, run.backend.compose_project) == []
    assert engine_over_tcp.connections > 1, "the harness and its Compose CLI went through the TCP socket"
