"""`gamedrill run` on the docker backend killed with SIGKILL mid-fault: the lease held inside
the stack's own containers heals the shop within the fault's TTL, and `gamedrill cleanup`
removes every container and process of the run."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import docker
import pytest
from dockerkit import leftovers
from liverun import GAMEDRILL, ROOT, healed_after_s, running_drill

from harness.burst import burst
from harness.cleanup import find_leftovers
from harness.stack.docker_engine import project_name
from harness.timeline import read_journal
from harness.waiting import wait_until

pytestmark = pytest.mark.docker

DRILL = ROOT / "tests" / "data" / "killed" / "hung-docker-drill.yaml"
TTL_S = 15.0  # scenarios/hung-workers.yaml's


@pytest.mark.timeout(300)
def test_a_harness_killed_mid_fault_on_docker_heals_and_cleans_up(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    runs = tmp_path / "runs"
    with running_drill(runs, DRILL) as (harness, run_dir):
        project = project_name(run_dir.name)
        try:
            wait_until(lambda: any(e.kind == "alert.fired" for e in read_journal(run_dir / "journal.jsonl")), 90,
                       "the fault to hurt")
            harness.send_signal(signal.SIGKILL)
            harness.wait(timeout=10)
            killed_at = time.monotonic()
            lb_port = json.loads((run_dir / "stack.json").read_text())["services"]["lb"]["port"]

            def healthy() -> bool:
                result = burst(lb_port, requests=60, max_s=5, concurrency=4)
                return result.requests == 60 and result.failures == 0

            assert not healthy(), "the fault was live when the harness died"
            healed_s = healed_after_s(healthy, killed_at, TTL_S, "the containers' lease to heal the shop")
            print(f"healed {healed_s:.1f} s after the kill (ttl {TTL_S:g} s)")
            assert leftovers(docker_client, project), "the stack outlived its harness"
        finally:
            cleaned = subprocess.run([*GAMEDRILL, "cleanup", run_dir.name], capture_output=True, text=True,
                                     timeout=120, check=False)
    assert cleaned.returncode == 0, cleaned.stderr
    assert f"removed the containers of compose project {project}" in cleaned.stdout
    assert leftovers(docker_client, project) == []
    assert find_leftovers(run_dir.name) == []
