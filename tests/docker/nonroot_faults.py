"""Run by test_docker_nonroot as a user in the docker group, not root: the pause, fd_limit
and cpu_hog faults on a shop another process brought up, each injected, checked through
the engine and reverted; then a pause and a hog left to their leases. Prints one JSON
line of what it saw. Usage: nonroot_faults.py WORKDIR RUN_ID
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from harness.faults.base import FaultContext, injector_for
from harness.spec import CpuHogFault, FdLimitFault, PauseFault
from harness.stack import load_compose
from harness.stack.docker import DockerBackend
from harness.stack.factory import SHOP_COMPOSE
from harness.waiting import wait_until

LONG_TTL_S = 60.0  # nobody renews these leases here: long enough never to lapse mid-step
SHORT_TTL_S = 6.0  # held 3 s: left to lapse


def paused(backend: DockerBackend, service: str) -> bool:
    state = backend._state(service)
    return bool(state and state["Paused"])


def hog_cpu_s(backend: DockerBackend, service: str, pids: list[int]) -> dict[int, float]:
    return {stat.pid: stat.cpu_s for stat in backend._exec(service).scan().stats if stat.pid in pids}


def main(workdir: Path, run_id: str) -> dict[str, Any]:
    saw: dict[str, Any] = {"euid": os.geteuid()}
    backend = DockerBackend(load_compose(SHOP_COMPOSE, allocate=False), workdir / "run", run_id)
    ctx = FaultContext(backend, None, None, ("web-1", "web-2", "web-3"), run_id, workdir / "leases")  # type: ignore[arg-type]

    fault = injector_for("pause")(PauseFault(type="pause", service="web-3", ttl_s=LONG_TTL_S), ctx)
    saw["pause"] = {"paused": paused(backend, "web-3"), "states": [p.state for p in backend.processes("web-3")]}
    fault.revert(ctx)
    saw["pause"]["after"] = paused(backend, "web-3")

    pids = [p.pid for p in backend.processes("web-1")]
    before = backend._exec("web-1").nofile_limits(pids)
    fault = injector_for("fd_limit")(FdLimitFault(type="fd_limit", service="web-1", nofile=16, ttl_s=LONG_TTL_S), ctx)
    saw["fd_limit"] = {"before": sorted(set(before.values())),
                       "lowered": sorted(set(backend._exec("web-1").nofile_limits(pids).values()))}
    fault.revert(ctx)
    saw["fd_limit"]["after"] = sorted(set(backend._exec("web-1").nofile_limits(pids).values()))

    fault = injector_for("cpu_hog")(CpuHogFault(type="cpu_hog", cores=1, service="web-2", ttl_s=LONG_TTL_S), ctx)
    hogs = fault.detail["pids"]
    first = hog_cpu_s(backend, "web-2", hogs)
    wait_until(lambda: sum(hog_cpu_s(backend, "web-2", hogs).values()) - sum(first.values()) >= 0.5, 30,
               "the hog to burn half a CPU second")
    fault.revert(ctx)
    saw["cpu_hog"] = {"pids": hogs, "burned": True, "after": sorted(hog_cpu_s(backend, "web-2", hogs))}

    # Left to their leases: the watchers (this user's processes too) undo them through the engine.
    injector_for("pause")(PauseFault(type="pause", service="web-3", ttl_s=SHORT_TTL_S), ctx)
    hog = injector_for("cpu_hog")(CpuHogFault(type="cpu_hog", cores=1, service="web-2", ttl_s=SHORT_TTL_S), ctx)
    began = time.monotonic()
    wait_until(lambda: not paused(backend, "web-3") and not hog_cpu_s(backend, "web-2", hog.detail["pids"])
               and not list((workdir / "leases").glob("*.lease")), 30, "the leases to lapse and be undone")
    saw["lapsed"] = {"hogs": hog.detail["pids"], "undone_after_s": round(time.monotonic() - began, 1),
                     "leases_left": sorted(p.name for p in (workdir / "leases").glob("*.lease"))}
    return saw


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2])))
