"""Process faults on the real local stack: each one's effect, its revert, and its lease.

"The harness died" is played by injecting a fault and then neither renewing nor reverting
it: whoever holds the lease outside the harness must undo it within the TTL.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shopclient import get

from harness.cleanup import cleanup, find_leftovers
from harness.faults import FaultContext, injector_for
from harness.faults.base import held_lease_s
from harness.shopapi import ControlPlane, LoadBalancer
from harness.spec import CpuHogFault, FdLimitFault, PauseFault, RestartFault, SignalFault
from harness.stack import LocalBackend, procfs
from harness.waiting import wait_until

TTL_S = 6.0  # the shortest a scenario may ask for: a dead harness's fault is undone within it
LEASE_S = held_lease_s(TTL_S)  # when the lease itself lapses (the rest of the TTL is for the undo)


@pytest.fixture
def ctx(shop: LocalBackend, tmp_path: Path) -> Iterator[FaultContext]:
    context = FaultContext(shop, ControlPlane(shop.endpoint("config").port), LoadBalancer(shop.endpoint("lb").port),
                           ("web-1", "web-2", "web-3"), shop.run_id, tmp_path / "leases")
    try:
        yield context
    finally:  # what a lease respawned is no longer the backend's: find it by run id
        cleanup(shop.run_id)
    assert find_leftovers(shop.run_id) == []


def answers(port: int, path: str = "/healthz", timeout_s: float = 0.5) -> bool:
    try:
        return get(port, path, timeout_s=timeout_s).status == 200
    except OSError:
        return False


def state_of(pid: int) -> str | None:
    stat = procfs.read_stat(pid)
    return stat.state if stat else None


def test_pause_freezes_a_service_until_reverted(shop: LocalBackend, ctx: FaultContext) -> None:
    port = shop.endpoint("inventory").port
    fault = injector_for("pause")(PauseFault(type="pause", service="inventory", ttl_s=30), ctx)
    pids = fault.detail["pids"]
    assert pids
    wait_until(lambda: all(state_of(pid) == "T" for pid in pids), 2, "every process to be stopped")
    assert not answers(port), "a frozen service answers nothing"
    done = fault.revert(ctx)
    assert done["undone"] == {"sigcont": pids}
    assert wait_until(lambda: answers(port), 5, "inventory to answer again")
    assert fault.revert(ctx) == {"already": True}


def test_a_pause_whose_lease_lapses_is_undone_without_the_harness(shop: LocalBackend, ctx: FaultContext) -> None:
    port = shop.endpoint("inventory").port
    injected_at = time.monotonic()
    injector_for("pause")(PauseFault(type="pause", service="inventory", ttl_s=TTL_S), ctx)  # never renewed
    assert not answers(port)
    wait_until(lambda: answers(port), TTL_S, "the lease watcher to thaw inventory")
    assert time.monotonic() - injected_at >= LEASE_S - 0.5, "undone by the lease running out, not earlier"
    assert not list((ctx.lease_dir).glob("*.lease")), "the watcher removed the lapsed lease"


def _nofile(pid: int) -> tuple[int, int]:
    return resource.prlimit(pid, resource.RLIMIT_NOFILE)


def test_fd_limit_starves_a_node_of_descriptors(shop: LocalBackend, ctx: FaultContext) -> None:
    port = shop.endpoint("web-1").port
    workers = [p for p in shop.processes("web-1") if p.role == "worker"]
    before = {p.pid: _nofile(p.pid) for p in shop.processes("web-1")}
    floor = max(p.open_fds or 0 for p in workers)
    fault = injector_for("fd_limit")(FdLimitFault(type="fd_limit", service="web-1", nofile=max(3, floor)), ctx)
    assert all(_nofile(pid)[0] == max(3, floor) for pid in before)
    assert all(_nofile(pid)[1] == hard for pid, (_, hard) in before.items()), "only the soft limit moves"

    def refused() -> bool:  # a worker at its limit cannot accept, or cannot reach inventory
        try:
            return get(port, "/product/sku-001", timeout_s=1.0).status >= 500
        except OSError:
            return True

    assert wait_until(refused, 10, "web-1 to fail for lack of descriptors")
    fault.revert(ctx)
    assert {pid: _nofile(pid) for pid in before} == before
    assert wait_until(lambda: answers(port, "/product/sku-001", 2.0), 10, "web-1 to serve again")


def test_an_fd_limit_whose_lease_lapses_is_put_back(shop: LocalBackend, ctx: FaultContext) -> None:
    before = {p.pid: _nofile(p.pid) for p in shop.processes("web-2")}
    injector_for("fd_limit")(FdLimitFault(type="fd_limit", service="web-2", nofile=32, ttl_s=TTL_S), ctx)
    assert all(_nofile(pid)[0] == 32 for pid in before)
    wait_until(lambda: all(_nofile(pid) == limits for pid, limits in before.items()), TTL_S,
               "the lease watcher to restore RLIMIT_NOFILE")


def _cpu_s(pids: list[int]) -> float:
    return sum(stat.cpu_s for stat in map(procfs.read_stat, pids) if stat is not None)


def test_cpu_hogs_burn_a_core_each_until_reverted(ctx: FaultContext) -> None:
    fault = injector_for("cpu_hog")(CpuHogFault(type="cpu_hog", cores=2, ttl_s=30), ctx)
    pids = fault.detail["pids"]
    assert len(pids) == 2
    wait_until(lambda: _cpu_s(pids) >= 0.5, 10, "the hogs to burn CPU")
    assert all(procfs.environ_of(pid).get("GAMEDRILL_RUN_ID") == ctx.run_id for pid in pids), "cleanup finds them"
    fault.revert(ctx)
    wait_until(lambda: not any(procfs.is_alive(pid) for pid in pids), 5, "the hogs to be gone")


def test_cpu_hogs_stop_when_their_lease_lapses(ctx: FaultContext) -> None:
    fault = injector_for("cpu_hog")(CpuHogFault(type="cpu_hog", cores=1, ttl_s=TTL_S), ctx)
    pids = fault.detail["pids"]
    wait_until(lambda: _cpu_s(pids) > 0.2, 10, "the hog to burn CPU")
    wait_until(lambda: not any(procfs.is_alive(pid) for pid in pids), TTL_S,
               "the hog to stop once nobody renews its lease")


def test_killed_workers_are_respawned_by_their_master(shop: LocalBackend, ctx: FaultContext) -> None:
    master = next(p.pid for p in shop.processes("web-3") if p.role == "master")
    fault = injector_for("signal")(SignalFault(type="signal", service="web-3", workers_only=True), ctx)
    killed = set(fault.detail["pids"])
    assert len(killed) == 4 and master not in killed

    def respawned() -> bool:
        workers = {p.pid for p in shop.processes("web-3") if p.role == "worker"}
        return len(workers) == 4 and workers.isdisjoint(killed)

    wait_until(respawned, 10, "web-3's master to respawn its workers")
    assert not any(procfs.is_alive(pid) for pid in killed)
    assert fault.revert(ctx) == {"restarted": False}, "the master healed it: nothing to restart"
    assert answers(shop.endpoint("web-3").port, "/product/sku-001", 2.0)


def test_a_killed_service_comes_back_on_revert(shop: LocalBackend, ctx: FaultContext) -> None:
    port = shop.endpoint("inventory").port
    fault = injector_for("signal")(SignalFault(type="signal", service="inventory"), ctx)
    wait_until(lambda: not shop.processes("inventory"), 5, "inventory to die")
    assert not answers(port)
    assert fault.revert(ctx) == {"restarted": True}
    assert answers(port)


def test_a_killed_service_is_started_again_when_its_lease_lapses(shop: LocalBackend, ctx: FaultContext) -> None:
    port = shop.endpoint("inventory").port
    injector_for("signal")(SignalFault(type="signal", service="inventory", ttl_s=TTL_S), ctx)
    wait_until(lambda: not answers(port, timeout_s=0.2), 5, "inventory to stop answering")
    wait_until(lambda: answers(port), TTL_S, "the lease watcher to start inventory again")
    again: list[Any] = [p for p in find_leftovers(shop.run_id) if p.service == "inventory"]
    assert again, "the respawned inventory carries the run id, so `gamedrill cleanup` finds it"


def test_a_restart_fault_replaces_every_process(shop: LocalBackend, ctx: FaultContext) -> None:
    fault = injector_for("restart")(RestartFault(type="restart", service="web-2"), ctx)
    before, after = set(fault.detail["pids_before"]), set(fault.detail["pids_after"])
    assert len(before) == len(after) == 5 and before.isdisjoint(after)
    assert not any(procfs.is_alive(pid) for pid in before)
    assert answers(shop.endpoint("web-2").port, "/product/sku-001", 2.0)
    assert fault.revert(ctx) == {"restarted": False}
