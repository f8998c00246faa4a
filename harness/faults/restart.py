"""restart: a service stopped and started again under load (a crash loop's one turn, a
node rebooted by someone else). It is over once it happened; reverting only makes sure
the service runs.

Between the stop and the start the service is down, and only the harness would start it:
`restart_leased` (also the toolkit's `restart`) holds a respawn lease meanwhile, so a
harness killed in that moment still leaves the service running once the lease lapses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.faults.base import FaultContext, reattacher, register
from harness.faults.lease import renewing
from harness.faults.leased import open_lease
from harness.spec import RestartFault
from harness.stack.base import Respawnable


@dataclass
class Restarted:
    name: str
    service: str
    ttl_s: float
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False

    def renew(self, ctx: FaultContext) -> None:
        pass  # nothing is held

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        if self.reverted:
            return {"already": True}
        self.reverted = True
        if ctx.backend.processes(self.service):
            return {"restarted": False}
        restart_leased(ctx, self.service, self.ttl_s)
        return {"restarted": True}


def restart_leased(ctx: FaultContext, service: str, ttl_s: float) -> None:
    """Stop and start `service`; until it runs again, a lease watcher would start it (see above)."""
    lease = None
    if isinstance(ctx.backend, Respawnable):
        # The watcher starts it only if no process of it runs then: a finished restart never twice.
        lease = open_lease(ctx, "restart", ttl_s, {"respawn": [ctx.backend.respawn_recipe(service)]})
    try:
        with renewing(lease):  # a stop grace and a health wait can outlast a short lease
            ctx.backend.restart(service)
    finally:
        if lease is not None:
            lease.release()


@register("restart")
def restart(spec: RestartFault, ctx: FaultContext) -> Restarted:
    before = [p.pid for p in ctx.backend.processes(spec.service)]
    restart_leased(ctx, spec.service, spec.ttl_s)
    after = [p.pid for p in ctx.backend.processes(spec.service)]
    return Restarted("restart", spec.service, spec.ttl_s, {"service": spec.service, "pids_before": before,
                                                            "pids_after": after})


@reattacher("restart")
def reattach_restart(spec: RestartFault, journaled: Mapping[str, Any], ctx: FaultContext) -> Restarted:
    return Restarted("restart", spec.service, spec.ttl_s, {"service": spec.service})
