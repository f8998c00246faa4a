"""`gamedrill cleanup` never touches a drill in progress: a run whose harness is alive (it
holds the run's live mark) is left alone; once that harness is gone, its leftovers go."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cleanup import cleanup, find_leftovers, live_runs
from harness.liveruns import LiveMark, RunIsLive, is_live
from harness.waiting import wait_until


def test_a_live_run_is_left_alone_and_a_dead_ones_leftovers_go(tmp_path: Path) -> None:
    run_id = f"test-cleanup-{tmp_path.name}"
    env = {**os.environ, "GAMEDRILL_RUN_ID": run_id, "GAMEDRILL_SERVICE": "web-1"}
    service = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"], env=env,
                               start_new_session=True)
    live = LiveMark(run_id)
    try:
        wait_until(lambda: find_leftovers(run_id), 10, "the run's process to be found")
        assert is_live(run_id) and run_id in live_runs()
        with pytest.raises(RunIsLive, match="has a live harness"):
            cleanup(run_id)
        assert service.poll() is None, "a live drill's process was stopped"
        with pytest.raises(RunIsLive):
            LiveMark(run_id)  # a second harness cannot take a live run over

        live.release()  # the harness is gone
        assert not is_live(run_id)
        assert [item.pid for item in cleanup(run_id)] == [service.pid]
        assert service.wait(timeout=10) is not None
        assert find_leftovers(run_id) == []
    finally:
        live.release()
        if service.poll() is None:
            service.kill()
            service.wait()
