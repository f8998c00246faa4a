"""signal: a signal sent to a service's processes (every process, or its workers only).

A signal cannot be taken back: reverting brings the service back if it is gone. When the
whole service was signalled, the lease holds how to start it again, so a dead harness
still leaves it running after the TTL (workers alone need nothing: their master respawns
them). SIGSTOP is not offered here: a frozen service is the `pause` fault, with its lease.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.faults.base import FaultContext, reattacher, register
from harness.faults.lease import LeaseFile, renewing
from harness.faults.leased import open_lease
from harness.spec import SignalFault
from harness.stack.base import Respawnable


@dataclass
class SentSignal:
    name: str
    service: str
    ttl_s: float
    lease: LeaseFile | None
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False

    def renew(self, ctx: FaultContext) -> None:
        if not self.reverted and self.lease is not None:
            self.lease.renew()

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        if self.reverted:
            return {"already": True}
        self.reverted = True
        try:
            if ctx.backend.processes(self.service):
                return {"restarted": False}
            with renewing(self.lease):  # the start and its health wait can outlast a short lease
                ctx.backend.restart(self.service)
            return {"restarted": True}
        finally:
            if self.lease is not None:
                self.lease.release()


@register("signal")
def send_signal(spec: SignalFault, ctx: FaultContext) -> SentSignal:
    sig = signal.Signals[spec.signal]
    processes = ctx.backend.processes(spec.service)
    targets = [p.pid for p in processes if p.role == "worker" or not spec.workers_only]
    lease = None
    if not spec.workers_only and isinstance(ctx.backend, Respawnable):
        # Not while the signalled processes live, nor once the service runs again (a revert started it).
        recipe = {"respawn": [{**ctx.backend.respawn_recipe(spec.service), "unless_alive": targets}]}
        lease = open_lease(ctx, "signal", spec.ttl_s, recipe)
    ctx.backend.signal(spec.service, sig, targets)
    detail = {"service": spec.service, "signal": spec.signal, "pids": targets}
    if lease is not None:
        detail["lease_file"] = str(lease.path)
    return SentSignal("signal", spec.service, spec.ttl_s, lease, detail)


@reattacher("signal")
def reattach_signal(spec: SignalFault, journaled: Mapping[str, Any], ctx: FaultContext) -> SentSignal:
    """Still to take back (by restarting what is gone), whether or not its lease already did."""
    lease = LeaseFile.adopt(Path(journaled["lease_file"])) if "lease_file" in journaled else None
    detail = {key: value for key, value in journaled.items() if key not in ("index", "type", "ttl_s")}
    return SentSignal("signal", spec.service, spec.ttl_s, lease, detail)
