"""The sample shop on the local backend: every failure mode a drill relies on, for real."""

from __future__ import annotations

import socket
import sys
from typing import Any

import pytest
from shopclient import get, post

from harness.burst import burst
from harness.stack import LocalBackend, procfs
from harness.waiting import wait_until

LOOPING_SCRIPT = """
def adjust(product, request):
    while product["sku"].endswith("7"):
        pass
    product["price"] = product["base_price"]
    return product
"""


def push(shop: LocalBackend, kind: str, artifact: dict[str, Any], canary: str | None = None) -> None:
    """Register an artifact with the control plane and roll it out (to the canary only, if given)."""
    config = shop.endpoint("config").port
    reply = post(config, f"/v1/{kind}s", artifact)
    assert reply.status == 201, reply.body
    rollout = {"kind": kind, "version": artifact["version"], "author": "test"}
    if canary:
        rollout.update(canary=canary, bake_s=3600)
    reply = post(config, "/v1/rollouts", rollout)
    assert reply.status in (200, 201), reply.body


def node_runs(shop: LocalBackend, node: str, field: str, version: str) -> bool:
    reply = get(shop.endpoint(node).port, "/metrics", timeout_s=1)
    return reply.status == 200 and reply.body.get(field) == version


def test_stack_is_healthy_with_prefork_nodes_and_leaves_nothing_behind(tmp_path: Any) -> None:
    from harness.stack import load_compose
    from harness.stack.factory import SHOP_COMPOSE

    backend = LocalBackend(load_compose(SHOP_COMPOSE), tmp_path / "run", run_id="test-teardown")
    backend.up(timeout_s=30)
    try:
        assert all(backend.is_healthy(name) for name in backend.services())
        web = backend.processes("web-1")
        assert [p.role for p in web] == ["master", "worker", "worker", "worker", "worker"]
        assert all(p.ppid == web[0].pid for p in web[1:])
        metrics = get(backend.endpoint("web-1").port, "/metrics").body
        assert metrics["master_pid"] == web[0].pid
        assert sorted(w["pid"] for w in metrics["workers"]) == sorted(p.pid for p in web[1:])
        assert metrics["rlimit_nofile"] == 128, "the compose file's ulimits reach the process"
        for name in ("lb", "config", "inventory"):
            body = get(backend.endpoint(name).port, "/metrics").body
            assert {"requests", "errors", "open_fds", "cpu_s", "pid"} <= set(body)
        pids = backend.all_pids()
        assert len(pids) == 4 + 3 * 5
        assert all(procfs.environ_of(pid).get("GAMEDRILL_RUN_ID") == "test-teardown" for pid in pids)
    finally:
        backend.down()
    assert [pid for pid in pids if procfs.is_alive(pid)] == []


def test_healthy_traffic_is_spread_over_every_node(shop: LocalBackend) -> None:
    result = burst(shop.endpoint("lb").port, requests=300, max_s=10, concurrency=4)
    assert result.failures == 0
    assert set(result.served_by) == {"web-1", "web-2", "web-3"}
    assert min(result.served_by.values()) >= 80


def test_looping_script_spins_a_worker_the_master_keeps_alive(shop: LocalBackend) -> None:
    port = shop.endpoint("web-1").port
    push(shop, "script", {"version": "v2", "source": LOOPING_SCRIPT})
    wait_until(lambda: node_runs(shop, "web-1", "script_version", "v2"), 10, "web-1 to load script v2")
    before = {p.pid: p.cpu_s for p in shop.processes("web-1")}

    try:
        get(port, "/product/sku-007", timeout_s=1.0)
        raise AssertionError("a looping request answered")
    except TimeoutError:
        pass

    def stuck_worker() -> int | None:
        for p in shop.processes("web-1"):
            if p.role == "worker" and p.cpu_s - before.get(p.pid, 0.0) > 1.0:
                return p.pid
        return None

    pid = wait_until(stuck_worker, 15, "a worker's CPU time to grow by a second")
    assert procfs.read_stat(pid) is not None and procfs.read_stat(pid).state == "R"  # type: ignore[union-attr]
    assert [p.role for p in shop.processes("web-1")].count("worker") == 4, "the master did not notice"
    assert get(port, "/product/sku-001").status == 200, "other workers still serve"


def test_leaky_release_reaches_emfile(shop: LocalBackend) -> None:
    port = shop.endpoint("web-1").port
    push(shop, "release", {"version": "v1.1.0", "flags": {"leak_on_error": True}, "supported_schema": 2},
         canary="web-1")
    wait_until(lambda: node_runs(shop, "web-1", "release", "v1.1.0"), 10, "web-1 to run release v1.1.0")

    def emfile() -> str | None:
        for _ in range(50):
            reply = get(port, "/product/sku-999")
            if reply.status == 500 and "Too many open files" in str(reply.body):
                return str(reply.body)
            assert reply.status in (404, 500), reply
        return None

    wait_until(emfile, 60, "a request to fail with EMFILE")
    fds = [p.open_fds or 0 for p in shop.processes("web-1") if p.role == "worker"]
    assert max(fds) >= 120, f"a worker's fds should be near its limit of 128: {fds}"
    assert node_runs(shop, "web-2", "release", "v1.0.0"), "the canary stage reached only web-1"


def test_schema_mismatched_config_fails_that_node_only(shop: LocalBackend) -> None:
    push(shop, "config", {"version": "v2", "schema_version": 3, "data": {"price_multiplier": 1.0}}, canary="web-2")
    web2 = shop.endpoint("web-2").port
    wait_until(lambda: get(web2, "/healthz").status == 503, 10, "web-2 to report the bad config")
    reply = get(web2, "/product/sku-001")
    assert reply.status == 500 and "schema" in reply.body["error"]
    assert get(shop.endpoint("web-1").port, "/product/sku-001").status == 200
    assert not shop.is_healthy("web-2") and shop.is_healthy("web-1")


def test_lb_weight_zero_isolates_a_node(shop: LocalBackend) -> None:
    lb = shop.endpoint("lb").port
    assert get(lb, "/admin/weights").body == {"weights": {"web-1": 1, "web-2": 1, "web-3": 1}}
    reply = post(lb, "/admin/weights/web-3", {"weight": 0})
    assert reply.status == 200
    result = burst(lb, requests=150, max_s=10, concurrency=3)
    assert result.failures == 0 and "web-3" not in result.served_by
    assert post(lb, "/admin/weights/web-3", {"weight": "heavy"}).status == 400
    assert post(lb, "/admin/weights/web-9", {"weight": 1}).status == 404
    post(lb, "/admin/weights/web-3", {"weight": 1})
    assert burst(lb, requests=60, max_s=10, concurrency=3).served_by.get("web-3", 0) > 0


def test_proxy_slot_carries_inventory_traffic(shop: LocalBackend) -> None:
    # web reaches inventory only through the proxy: stopping the proxy fails stock lookups.
    import signal

    shop.signal("proxy", signal.SIGSTOP)
    try:
        reply = get(shop.endpoint("web-1").port, "/product/sku-001", timeout_s=5)
        assert reply.status >= 500
    finally:
        shop.signal("proxy", signal.SIGCONT)
    wait_until(lambda: get(shop.endpoint("web-1").port, "/product/sku-001").status == 200, 10, "recovery")


def test_restart_brings_a_service_back_with_new_pids(shop: LocalBackend) -> None:
    old = {p.pid for p in shop.processes("web-3")}
    shop.restart("web-3")
    new = {p.pid for p in shop.processes("web-3")}
    assert old.isdisjoint(new) and len(new) == 5
    assert not any(procfs.is_alive(pid) for pid in old)
    assert "web-3" in shop.log_tail("web-3", 200) or shop.log_tail("web-3", 200) != ""


def test_ports_come_from_the_os_and_are_free_after_teardown(shop: LocalBackend) -> None:
    port = shop.endpoint("lb").port
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_a_service_that_dies_on_start_fails_up_and_leaves_nothing(tmp_path: Any) -> None:
    from harness.errors import StackError
    from harness.stack import load_compose

    compose = tmp_path / "stack.yml"
    compose.write_text(f"""
services:
  steady:
    command: ["{sys.executable}", "-c", "import time; time.sleep(60)"]
  broken:
    command: ["{sys.executable}", "-c", "import sys; print('config missing'); sys.exit(3)"]
    depends_on: [steady]
    healthcheck: {{test: ["CMD", "false"], start_interval: 50ms}}
""")
    backend = LocalBackend(load_compose(compose), tmp_path / "run", run_id=f"test-dies-{tmp_path.name}")
    try:
        with pytest.raises(StackError) as caught:
            backend.up(timeout_s=10)
    finally:
        backend.down()  # a no-op when up() cleaned up after itself, as it must
    assert "'broken' exited with status 3" in str(caught.value) and "config missing" in str(caught.value)
    leftovers = [p for p in procfs.all_pids() if procfs.environ_of(p).get("GAMEDRILL_RUN_ID") == backend.run_id]
    assert leftovers == []
