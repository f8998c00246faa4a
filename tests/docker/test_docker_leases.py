"""Container faults left to their leases: the watcher, a process of its own, undoes them
through the engine's API alone, here over TCP (`DOCKER_HOST=tcp://127.0.0.1:PORT`), as it
would against a remote engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_relay import EngineRelay

from harness.faults.base import FaultContext, injector_for
from harness.spec import FdLimitFault, SignalFault
from harness.stack.docker import DockerBackend
from harness.waiting import wait_until

pytestmark = pytest.mark.docker
TTL_S = 6.0  # held 3 s, never renewed here


def ctx_for(shop: DockerBackend, tmp_path: Path) -> FaultContext:
    return FaultContext(shop, None, None, ("web-1", "web-2", "web-3"), shop.run_id, tmp_path / "leases")  # type: ignore[arg-type]


@pytest.mark.timeout(120)
def test_a_killed_container_is_started_again_by_its_lease_over_tcp(
        docker_shop: DockerBackend, engine_over_tcp: EngineRelay, tmp_path: Path) -> None:
    fault = injector_for("signal")(SignalFault(type="signal", service="web-2", signal="SIGKILL", ttl_s=TTL_S),
                                   ctx_for(docker_shop, tmp_path))
    recipe = fault.lease.recipe()  # type: ignore[attr-defined]
    assert recipe["respawn"][0]["engine"] == {"host": engine_over_tcp.url, "tls": None}
    wait_until(lambda: not docker_shop.processes("web-2"), 20, "web-2's container to stop")
    before = engine_over_tcp.connections
    wait_until(lambda: docker_shop.is_healthy("web-2"), 40, "the lease watcher to start web-2 again")
    assert engine_over_tcp.connections > before, "the watcher reached the engine over TCP"
    wait_until(lambda: not list((tmp_path / "leases").glob("*.lease")), 10, "the watcher to drop its lease")
    assert fault.revert(ctx_for(docker_shop, tmp_path)) == {"restarted": False}, "nothing left to take back"


@pytest.mark.timeout(120)
def test_a_lowered_fd_limit_is_put_back_by_its_lease_over_tcp(
        docker_shop: DockerBackend, engine_over_tcp: EngineRelay, tmp_path: Path) -> None:
    pids = [p.pid for p in docker_shop.processes("web-1")]
    inside = docker_shop._exec("web-1")
    injector_for("fd_limit")(FdLimitFault(type="fd_limit", service="web-1", nofile=16, ttl_s=TTL_S),
                             ctx_for(docker_shop, tmp_path))
    assert set(inside.nofile_limits(pids).values()) == {("16", "128")}
    wait_until(lambda: set(inside.nofile_limits(pids).values()) == {("128", "128")}, 30,
               "the lease watcher to put the old limit back")
