"""cpu_hog: busy processes competing with the stack for the CPU (a noisy neighbour), leased.

Each hog also polices its own lease: it stops when the lease file goes stale or away, and
on its own after one TTL if the lease was never written (the harness died in between).
The watcher that holds the lease kills them too: two locks on one door. On an engine's
backend (docker) the hogs run inside a service's container and police a lease inside it
(harness.stack.docker_faults)."""

from __future__ import annotations

import subprocess
import sys

from harness.faults.base import FaultContext, held_lease_s, reattacher, register
from harness.faults.leased import LeasedProcessFault, lease_path, leased_engine_fault, open_lease, reattach_leased
from harness.spec import CpuHogFault
from harness.stack.base import EngineFaults

_HOG = """\
import os, sys, time
lease, ttl_s = sys.argv[1], float(sys.argv[2])
seen, renewed = None, time.monotonic()  # a renewal is a new mtime, aged on the monotonic clock
while True:
    spin_until = time.monotonic() + 0.05
    while time.monotonic() < spin_until:
        pass
    try:
        mtime = os.stat(lease).st_mtime_ns
    except FileNotFoundError:
        mtime = None
    if mtime is not None and mtime != seen:
        seen, renewed = mtime, time.monotonic()
    if time.monotonic() - renewed > ttl_s:
        sys.exit(0)
"""


@register("cpu_hog")
def cpu_hog(spec: CpuHogFault, ctx: FaultContext) -> LeasedProcessFault:
    if isinstance(ctx.backend, EngineFaults):  # docker: the hogs run inside a container, started by exec
        service = spec.service or ctx.nodes[0]
        fault = ctx.backend.cpu_hog_fault(service, spec.cores, held_lease_s(spec.ttl_s))
        return leased_engine_fault(ctx, "cpu_hog", spec.ttl_s, fault)
    env = {"GAMEDRILL_RUN_ID": ctx.run_id, "GAMEDRILL_SERVICE": "cpu-hog"}
    ctx.lease_dir.mkdir(parents=True, exist_ok=True)
    lease = lease_path(ctx, "cpu_hog")
    hogs = [subprocess.Popen([sys.executable, "-c", _HOG, str(lease), str(held_lease_s(spec.ttl_s))], env=env,
                             stdin=subprocess.DEVNULL, start_new_session=True) for _ in range(spec.cores)]
    recipe = {"kill": [hog.pid for hog in hogs]}
    held = open_lease(ctx, "cpu_hog", spec.ttl_s, recipe, path=lease)
    return LeasedProcessFault("cpu_hog", spec.ttl_s, held, recipe, {"cores": spec.cores, "pids": recipe["kill"]})


reattacher("cpu_hog")(reattach_leased)
