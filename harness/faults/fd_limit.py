"""fd_limit: RLIMIT_NOFILE lowered on a service's live processes (prlimit; on docker, run
inside the container), leased.

Only the soft limit moves, so the old limit can always be put back (raising a soft limit
up to the unchanged hard one needs no privilege)."""

from __future__ import annotations

import resource

from harness.faults.base import FaultContext, reattacher, register
from harness.faults.leased import LeasedProcessFault, leased_engine_fault, open_lease, reattach_leased
from harness.spec import FdLimitFault
from harness.stack.base import EngineFaults


@register("fd_limit")
def fd_limit(spec: FdLimitFault, ctx: FaultContext) -> LeasedProcessFault:
    if isinstance(ctx.backend, EngineFaults):  # docker: prlimit inside the container
        fault = ctx.backend.fd_limit_fault(spec.service, spec.nofile)
        return leased_engine_fault(ctx, "fd_limit", spec.ttl_s, fault)
    before = {p.pid: resource.prlimit(p.pid, resource.RLIMIT_NOFILE) for p in ctx.backend.processes(spec.service)}
    recipe = {"rlimit_nofile": {str(pid): list(limits) for pid, limits in before.items()}}
    lease = open_lease(ctx, "fd_limit", spec.ttl_s, recipe)
    for pid, (soft, hard) in before.items():
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (min(spec.nofile, soft), hard))
    return LeasedProcessFault("fd_limit", spec.ttl_s, lease, recipe,
                              {"service": spec.service, "nofile": spec.nofile, "pids": list(before)})


reattacher("fd_limit")(reattach_leased)
