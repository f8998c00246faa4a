"""The lease watcher's respawn recipe: a service is started again only if none of it runs
(a process of it carries the recipe's GAMEDRILL_RUN_ID and GAMEDRILL_SERVICE).

This is what makes a restart safe when the harness dies between the stop and the start
(`harness.faults.restart.restart_leased`): the lease lapses, and the watcher starts the
service unless a process of it (found by its environment) already runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cleanup import cleanup, find_leftovers
from harness.leasewatch import undo
from harness.waiting import wait_until

IDLE = "import signal; signal.pause()"  # runs until a signal ends it


@pytest.fixture
def run_id(tmp_path: Path) -> Iterator[str]:
    run = f"test-leasewatch-{tmp_path.name}"
    try:
        yield run
    finally:
        cleanup(run)
    assert find_leftovers(run) == []


def recipe(run_id: str, tmp_path: Path) -> dict[str, object]:
    marker = tmp_path / "respawned"
    return {"argv": [sys.executable, "-c", f"open({str(marker)!r}, 'w').close(); {IDLE}"], "cwd": str(tmp_path),
            "env": {**os.environ, "GAMEDRILL_RUN_ID": run_id, "GAMEDRILL_SERVICE": "web-2"},
            "log": str(tmp_path / "web-2.log"), "rlimits": {}}


def test_a_running_service_is_not_started_twice(run_id: str, tmp_path: Path) -> None:
    env = {**os.environ, "GAMEDRILL_RUN_ID": run_id, "GAMEDRILL_SERVICE": "web-2"}
    running = subprocess.Popen([sys.executable, "-c", IDLE], env=env)
    try:
        wait_until(lambda: [p.pid for p in find_leftovers(run_id)] == [running.pid], 10, "the service to run")
        undo({"respawn": [recipe(run_id, tmp_path)]})
        assert [p.pid for p in find_leftovers(run_id)] == [running.pid], "a second copy was started"
        assert not (tmp_path / "respawned").exists()
    finally:
        running.kill()
        running.wait()


def test_a_service_that_is_gone_is_started_again(run_id: str, tmp_path: Path) -> None:
    other_run = {**os.environ, "GAMEDRILL_RUN_ID": f"{run_id}-other", "GAMEDRILL_SERVICE": "web-2"}
    unrelated = subprocess.Popen([sys.executable, "-c", IDLE], env=other_run)
    try:  # the same service of another run does not count
        undo({"respawn": [recipe(run_id, tmp_path)]})
        wait_until(lambda: (tmp_path / "respawned").exists(), 10, "the service to be started again")
        assert [p.service for p in find_leftovers(run_id)] == ["web-2"]
    finally:
        unrelated.kill()
        unrelated.wait()
