"""restart: a service stopped and started again under load (a crash loop's one turn, a
node rebooted by someone else). It is over once it happened; reverting only makes sure
the service runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.faults.base import FaultContext, reattacher, register
from harness.spec import RestartFault


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
        ctx.backend.restart(self.service)
        return {"restarted": True}


@register("restart")
def restart(spec: RestartFault, ctx: FaultContext) -> Restarted:
    before = [p.pid for p in ctx.backend.processes(spec.service)]
    ctx.backend.restart(spec.service)
    after = [p.pid for p in ctx.backend.processes(spec.service)]
    return Restarted("restart", spec.service, spec.ttl_s, {"service": spec.service, "pids_before": before,
                                                            "pids_after": after})


@reattacher("restart")
def reattach_restart(spec: RestartFault, journaled: Mapping[str, Any], ctx: FaultContext) -> Restarted:
    return Restarted("restart", spec.service, spec.ttl_s, {"service": spec.service})
