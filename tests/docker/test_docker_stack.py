"""The sample shop as containers: every failure mode test_shop_stack proves locally, on docker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import docker
import pytest
from dockerkit import UP_TIMEOUT_S, leftovers
from shopclient import get, post
from test_shop_stack import LOOPING_SCRIPT, node_runs, push

from harness.burst import burst
from harness.errors import StackError
from harness.stack import load_compose
from harness.stack.docker import DockerBackend
from harness.stack.docker_engine import gamedrill_projects, project_name, remove_project
from harness.stack.factory import SHOP_COMPOSE
from harness.waiting import wait_until
from harness.workers import find_hung_workers

pytestmark = pytest.mark.docker


def test_stack_is_healthy_with_prefork_nodes_and_leaves_nothing_behind(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    backend = DockerBackend(load_compose(SHOP_COMPOSE), tmp_path / "run", "test-teardown", docker_client)
    backend.up(timeout_s=UP_TIMEOUT_S)
    try:
        assert all(backend.is_healthy(name) for name in backend.services())
        web = backend.processes("web-1")
        assert [p.role for p in web] == ["master", "worker", "worker", "worker", "worker"]
        assert all(p.ppid == web[0].pid for p in web[1:])
        # The backend reads the container's own /proc (through exec): the pids the service reports.
        metrics = get(backend.endpoint("web-1").port, "/metrics").body
        assert metrics["master_pid"] == web[0].pid
        assert sorted(w["pid"] for w in metrics["workers"]) == sorted(p.pid for p in web[1:])
        assert metrics["rlimit_nofile"] == 128, "the compose file's ulimits reach the container"
        for name in ("lb", "config", "inventory"):
            body = get(backend.endpoint(name).port, "/metrics").body
            assert {"requests", "errors", "open_fds", "cpu_s", "pid"} <= set(body)
        pids = backend.all_pids()
        counts = {name: len(backend.processes(name)) for name in backend.services()}
        assert len(pids) == 4 + 3 * 5, f"docker-init and healthcheck execs are not the service's processes: {counts}"
        assert all((p.open_fds or 0) > 0 for name in backend.services() for p in backend.processes(name))
        assert leftovers(docker_client, backend.compose_project)
    finally:
        backend.down()
    assert leftovers(docker_client, backend.compose_project) == []
    assert "listening on" in backend.log_tail("lb"), "the logs outlive the containers, in the run's logs/"
    backend.down()  # idempotent


def test_healthy_traffic_is_spread_over_every_node(docker_shop: DockerBackend) -> None:
    result = burst(docker_shop.endpoint("lb").port, requests=300, max_s=10, concurrency=4)
    assert result.failures == 0
    assert set(result.served_by) == {"web-1", "web-2", "web-3"}
    assert min(result.served_by.values()) >= 80


def test_looping_script_spins_a_worker_the_master_keeps_alive(docker_shop: DockerBackend) -> None:
    shop = docker_shop
    port = shop.endpoint("web-1").port
    push(shop, "script", {"version": "v2", "source": LOOPING_SCRIPT})
    wait_until(lambda: node_runs(shop, "web-1", "script_version", "v2"), 20, "web-1 to load script v2")
    before = {p.pid: p.cpu_s for p in shop.processes("web-1")}

    with pytest.raises(TimeoutError):
        get(port, "/product/sku-007", timeout_s=1.0)

    def stuck_worker() -> int | None:
        for p in shop.processes("web-1"):
            if p.role == "worker" and p.cpu_s - before.get(p.pid, 0.0) > 1.0:
                return p.pid
        return None

    pid = wait_until(stuck_worker, 30, "a worker's CPU time to grow by a second")
    assert find_hung_workers(shop, "web-1") == [pid], "runnable in every sample, read inside the container"
    assert [p.role for p in shop.processes("web-1")].count("worker") == 4, "the master did not notice"
    assert get(port, "/product/sku-001").status == 200, "other workers still serve"

    shop.signal("web-1", signal.SIGKILL, [pid])  # what kill-hung-workers does, through docker exec
    wait_until(lambda: pid not in {p.pid for p in shop.processes("web-1")}, 10, "the stuck worker to die")
    wait_until(lambda: [p.role for p in shop.processes("web-1")].count("worker") == 4, 10, "a fresh worker")


def test_leaky_release_reaches_emfile(docker_shop: DockerBackend) -> None:
    shop = docker_shop
    port = shop.endpoint("web-1").port
    push(shop, "release", {"version": "v1.1.0", "flags": {"leak_on_error": True}, "supported_schema": 2},
         canary="web-1")
    wait_until(lambda: node_runs(shop, "web-1", "release", "v1.1.0"), 20, "web-1 to run release v1.1.0")

    def emfile() -> str | None:
        for _ in range(50):
            reply = get(port, "/product/sku-999")
            if reply.status == 500 and "Too many open files" in str(reply.body):
                return str(reply.body)
            assert reply.status in (404, 500), reply
        return None

    wait_until(emfile, 90, "a request to fail with EMFILE")
    fds = [p.open_fds or 0 for p in shop.processes("web-1") if p.role == "worker"]
    assert max(fds) >= 120, f"a worker's fds should be near its limit of 128: {fds}"
    assert node_runs(shop, "web-2", "release", "v1.0.0"), "the canary stage reached only web-1"


def test_schema_mismatched_config_fails_that_node_only(docker_shop: DockerBackend) -> None:
    shop = docker_shop
    push(shop, "config", {"version": "v2", "schema_version": 3, "data": {"price_multiplier": 1.0}},
         canary="web-2")
    web2 = shop.endpoint("web-2").port
    wait_until(lambda: get(web2, "/healthz").status == 503, 20, "web-2 to report the bad config")
    reply = get(web2, "/product/sku-001")
    assert reply.status == 500 and "schema" in reply.body["error"]
    assert get(shop.endpoint("web-1").port, "/product/sku-001").status == 200
    assert not shop.is_healthy("web-2") and shop.is_healthy("web-1")


def test_lb_weight_zero_isolates_a_node(docker_shop: DockerBackend) -> None:
    lb = docker_shop.endpoint("lb").port
    assert get(lb, "/admin/weights").body == {"weights": {"web-1": 1, "web-2": 1, "web-3": 1}}
    assert post(lb, "/admin/weights/web-3", {"weight": 0}).status == 200
    result = burst(lb, requests=150, max_s=10, concurrency=3)
    assert result.failures == 0 and "web-3" not in result.served_by
    post(lb, "/admin/weights/web-3", {"weight": 1})
    assert burst(lb, requests=60, max_s=10, concurrency=3).served_by.get("web-3", 0) > 0


def test_stopping_or_freezing_the_proxy_cuts_inventory_off(docker_shop: DockerBackend) -> None:
    shop = docker_shop
    web1 = shop.endpoint("web-1").port

    def recovered() -> bool:
        return get(web1, "/product/sku-001").status == 200

    shop.signal("proxy", signal.SIGSTOP)  # every process of the container, through docker exec
    try:
        assert {p.state for p in shop.processes("proxy")} == {"T"}
        assert get(web1, "/product/sku-001", timeout_s=5).status >= 500
    finally:
        shop.signal("proxy", signal.SIGCONT)
    wait_until(recovered, 20, "recovery after SIGCONT")

    shop.pause("proxy")  # the cgroup freezer: same effect, no signal the service could see
    try:
        assert get(web1, "/product/sku-001", timeout_s=5).status >= 500
        assert not shop.is_healthy("proxy")
        assert {p.state for p in shop.processes("proxy")} == {"T"}, "a frozen container: as last seen, stopped"
    finally:
        shop.unpause("proxy")
    wait_until(recovered, 20, "recovery after unpause")


def test_restart_brings_a_service_back_with_fresh_processes(docker_shop: DockerBackend) -> None:
    def started_at() -> str:
        return str(docker_shop._state("web-3")["StartedAt"])  # type: ignore[index]

    before = started_at()
    docker_shop.pause("web-3")  # the engine restarts a frozen container too (the frozen-node runbook)
    docker_shop.restart("web-3")
    assert started_at() != before, "the engine started the container again"
    assert len(docker_shop.processes("web-3")) == 5
    assert docker_shop.is_healthy("web-3")
    assert "master up" in docker_shop.log_tail("web-3", 200)


def test_signal_refuses_pids_that_are_not_the_services(docker_shop: DockerBackend) -> None:
    web1 = {p.pid for p in docker_shop.processes("web-1")}
    stranger = max(web1) + 1000  # pids are the container's own: one no process of web-1 has
    with pytest.raises(StackError, match="not a process of 'web-1'"):
        docker_shop.signal("web-1", signal.SIGKILL, [stranger])
    assert {p.pid for p in docker_shop.processes("web-1")} == web1


def test_a_service_that_dies_on_start_fails_up_and_leaves_nothing(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    compose = tmp_path / "stack.yml"
    compose.write_text(textwrap.dedent("""
        x-base: &base
          image: ${GAMEDRILL_SHOP_IMAGE:-gamedrill-shop:latest}
          network_mode: host
          init: true
        services:
          steady:
            <<: *base
            command: ["python3", "-c", "import time; time.sleep(60)"]
          broken:
            <<: *base
            command: ["python3", "-c", "import sys; print('config missing'); sys.exit(3)"]
            depends_on: [steady]
            healthcheck: {test: ["CMD", "false"], interval: 1s, start_interval: 50ms}
        """))
    backend = DockerBackend(load_compose(compose), tmp_path / "run", f"test-dies-{tmp_path.name}", docker_client)
    try:
        with pytest.raises(StackError) as caught:
            backend.up(timeout_s=UP_TIMEOUT_S)
    finally:
        backend.down()  # a no-op when up() cleaned up after itself, as it must
    assert "'broken' exited with status 3" in str(caught.value) and "config missing" in str(caught.value)
    assert leftovers(docker_client, backend.compose_project) == []


def test_ctrl_c_during_up_takes_the_stack_down(tmp_path: Path, docker_client: docker.DockerClient) -> None:
    run_id = f"test-sigint-{tmp_path.name}"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from harness.stack import load_compose
        from harness.stack.docker import DockerBackend
        DockerBackend(load_compose({str(SHOP_COMPOSE)!r}), Path({str(tmp_path / "run")!r}), {run_id!r}).up(90)
        """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    compose_project = project_name(run_id)
    try:
        wait_until(lambda: leftovers(docker_client, compose_project), 60, "the first container", interval_s=0.05)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "KeyboardInterrupt" in output and proc.returncode != 0
    assert leftovers(docker_client, compose_project) == []


def test_a_killed_harness_leaves_a_project_that_can_be_found_and_removed(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    run_id = f"test-kill9-{tmp_path.name}"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from harness.stack import load_compose
        from harness.stack.docker import DockerBackend
        DockerBackend(load_compose({str(SHOP_COMPOSE)!r}), Path({str(tmp_path / "run")!r}), {run_id!r}).up(90)
        print("up", flush=True)
        input()  # hold the stack until killed
        """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    compose_project = project_name(run_id)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "up"
        proc.kill()  # no teardown runs: a harness killed with -9
        proc.communicate(timeout=30)
        assert compose_project in gamedrill_projects(docker_client)
        cleaned = subprocess.run([sys.executable, "-m", "harness.cli", "cleanup", run_id], capture_output=True,
                                 text=True, timeout=120)
        assert cleaned.returncode == 0, cleaned.stderr
        assert f"removed the containers of compose project {compose_project}" in cleaned.stdout
        assert leftovers(docker_client, compose_project) == [], "`gamedrill cleanup RUN_ID` removed them"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        remove_project(docker_client, compose_project)
    assert leftovers(docker_client, compose_project) == []
    assert compose_project not in gamedrill_projects(docker_client)
