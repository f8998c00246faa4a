"""The docker backend needs no root: a user in the `docker` group (not root) injects,
reverts and leaves to their leases the pause, fd_limit and cpu_hog faults, all through the
engine's API. Root's own processes are out of that user's reach, so a host pid would fail."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from nonroot import DockerGroupUser, docker_group_user

from harness.burst import burst
from harness.stack.docker import DockerBackend

pytestmark = pytest.mark.docker
SCRIPT = Path(__file__).parent / "nonroot_faults.py"


@pytest.fixture
def docker_user() -> DockerGroupUser:
    found = docker_group_user()
    if isinstance(found, str):
        if os.environ.get("GAMEDRILL_REQUIRE_DOCKER") == "1":
            pytest.fail(f"no non-root docker-group user to run as: {found}", pytrace=False)
        pytest.skip(f"no non-root docker-group user to run as: {found}")
    return found


@pytest.mark.timeout(240)
def test_pause_fd_limit_and_cpu_hog_work_for_a_docker_group_user(
        docker_shop: DockerBackend, docker_user: DockerGroupUser) -> None:
    workdir = docker_user.workdir()
    try:
        done = docker_user.run([str(SCRIPT), str(workdir), docker_shop.run_id], timeout_s=200)
        assert done.returncode == 0, done.stderr[-3000:]
        saw = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert saw["euid"] != 0 and saw["euid"] == docker_user.uid

    assert saw["pause"]["paused"] and set(saw["pause"]["states"]) == {"T"}
    assert saw["pause"]["after"] is False

    assert saw["fd_limit"]["before"] == [["128", "128"]], "the compose file's ulimits"
    assert saw["fd_limit"]["lowered"] == [["16", "128"]], "only the soft limit moves"
    assert saw["fd_limit"]["after"] == [["128", "128"]]

    assert saw["cpu_hog"]["pids"] and saw["cpu_hog"]["burned"] and saw["cpu_hog"]["after"] == []

    assert saw["lapsed"]["leases_left"] == [], "each watcher removed its lease once it had undone it"

    # Seen from here (root) too: nothing paused, limits back, no hog, the shop serves.
    assert not any(docker_shop._state(name)["Paused"] for name in docker_shop.services())  # type: ignore[index]
    web1 = [p.pid for p in docker_shop.processes("web-1")]
    assert set(docker_shop._exec("web-1").nofile_limits(web1).values()) == {("128", "128")}
    hogs = saw["cpu_hog"]["pids"] + saw["lapsed"]["hogs"]
    assert not [s.pid for s in docker_shop._exec("web-2").scan().stats if s.pid in hogs], "a hog outlived its fault"
    assert docker_shop.exec("web-2", ["sh", "-c", "ls -d /tmp/gamedrill-hog-* 2>/dev/null; true"]) == (0, "")
    result = burst(docker_shop.endpoint("lb").port, requests=60, max_s=10, concurrency=3)
    assert result.failures == 0
