"""Pause: a service's processes frozen with SIGSTOP, or by its engine (docker pause): a GC
pause, a stuck VM; leased."""

from __future__ import annotations

import signal

from harness.faults.base import FaultContext, reattacher, register
from harness.faults.leased import LeasedProcessFault, leased_engine_fault, open_lease, reattach_leased
from harness.spec import PauseFault
from harness.stack.base import EngineFaults


@register("pause")
def pause(spec: PauseFault, ctx: FaultContext) -> LeasedProcessFault:
    if isinstance(ctx.backend, EngineFaults):  # the engine's own pause (docker: the cgroup freezer)
        return leased_engine_fault(ctx, "pause", spec.ttl_s, ctx.backend.pause_fault(spec.service))
    pids = [p.pid for p in ctx.backend.processes(spec.service)]
    recipe = {"sigcont": pids}
    lease = open_lease(ctx, "pause", spec.ttl_s, recipe)  # before the fault: never unguarded
    ctx.backend.signal(spec.service, signal.SIGSTOP)
    return LeasedProcessFault("pause", spec.ttl_s, lease, recipe, {"service": spec.service, "pids": pids})


reattacher("pause")(reattach_leased)
