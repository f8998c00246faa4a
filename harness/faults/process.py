"""Process faults on a service's real processes: signals, pause, a lowered fd limit, CPU hogs.

Pause, fd limit and CPU hog hold a lease kept by a watcher process (harness.leasewatch), so
a dead harness cannot leave a service frozen, starved of descriptors or out-competed.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from harness.faults.base import FaultContext, register
from harness.faults.lease import LeaseFile
from harness.leasewatch import undo
from harness.spec import CpuHogFault, FdLimitFault, PauseFault, SignalFault


@dataclass
class LeasedProcessFault:
    """A process fault whose undo recipe is held in a lease file (and by its watcher)."""

    name: str
    ttl_s: float
    lease: LeaseFile
    recipe: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False

    def renew(self, ctx: FaultContext) -> None:
        if not self.reverted:
            self.lease.renew()

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        if self.reverted:
            return {"already": True}
        self.reverted = True
        undo(self.recipe)
        self.lease.release()
        return {"undone": {key: list(value) for key, value in self.recipe.items()}}


def _lease(ctx: FaultContext, name: str, index_hint: str, ttl_s: float, recipe: dict[str, Any]) -> LeaseFile:
    ctx.lease_dir.mkdir(parents=True, exist_ok=True)
    return LeaseFile(ctx.lease_dir / f"{name}-{index_hint}.lease", ttl_s, recipe, ctx.run_id)


@register("pause")
def pause(spec: PauseFault, ctx: FaultContext) -> LeasedProcessFault:
    pids = [p.pid for p in ctx.backend.processes(spec.service)]
    recipe = {"sigcont": pids}
    lease = _lease(ctx, "pause", spec.service, spec.ttl_s, recipe)  # before the fault: never unguarded
    ctx.backend.signal(spec.service, signal.SIGSTOP)
    return LeasedProcessFault("pause", spec.ttl_s, lease, recipe, {"service": spec.service, "pids": pids})


@register("fd_limit")
def fd_limit(spec: FdLimitFault, ctx: FaultContext) -> LeasedProcessFault:
    before = {p.pid: resource.prlimit(p.pid, resource.RLIMIT_NOFILE) for p in ctx.backend.processes(spec.service)}
    recipe = {"rlimit_nofile": {str(pid): list(limits) for pid, limits in before.items()}}
    lease = _lease(ctx, "fd_limit", spec.service, spec.ttl_s, recipe)
    for pid, (_, hard) in before.items():
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (spec.nofile, hard))  # soft only: revertible
    return LeasedProcessFault("fd_limit", spec.ttl_s, lease, recipe,
                              {"service": spec.service, "nofile": spec.nofile, "pids": list(before)})


@register("cpu_hog")
def cpu_hog(spec: CpuHogFault, ctx: FaultContext) -> LeasedProcessFault:
    env = {"GAMEDRILL_RUN_ID": ctx.run_id, "GAMEDRILL_SERVICE": "cpu-hog"}
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], env=env, stdin=subprocess.DEVNULL,
                             start_new_session=True) for _ in range(spec.cores)]
    recipe = {"kill": [hog.pid for hog in hogs]}
    lease = _lease(ctx, "cpu_hog", str(hogs[0].pid), spec.ttl_s, recipe)
    return LeasedProcessFault("cpu_hog", spec.ttl_s, lease, recipe, {"cores": spec.cores, "pids": recipe["kill"]})


@dataclass
class SentSignal:
    """A signal cannot be taken back; reverting brings the service back if it is gone."""

    name: str
    service: str
    ttl_s: float
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False

    def renew(self, ctx: FaultContext) -> None:
        pass  # nothing is held: the effect is already whatever the signal did

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        if self.reverted:
            return {"already": True}
        self.reverted = True
        if ctx.backend.processes(self.service):
            return {"restarted": False}
        ctx.backend.restart(self.service)
        return {"restarted": True}


@register("signal")
def send_signal(spec: SignalFault, ctx: FaultContext) -> SentSignal:
    sig = signal.Signals[spec.signal]
    targets = [p.pid for p in ctx.backend.processes(spec.service) if p.role == "worker" or not spec.workers_only]
    ctx.backend.signal(spec.service, sig, targets)
    return SentSignal("signal", spec.service, spec.ttl_s,
                      {"service": spec.service, "signal": spec.signal, "pids": targets})
