"""The shared shape of process faults whose undo is held by a lease watcher.

The recipe (what to undo) is written to a lease file *before* the fault is applied, so
there is no moment when the fault exists and nobody outside the harness can undo it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.faults.base import FaultContext, held_lease_s
from harness.faults.lease import LeaseFile
from harness.leasewatch import undo
from harness.stack.base import EngineFault


@dataclass
class LeasedProcessFault:
    """A process fault whose undo recipe is held in a lease file (and by its watcher)."""

    name: str
    ttl_s: float
    lease: LeaseFile
    recipe: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False
    engine: EngineFault | None = None  # what the engine side holds too (see EngineFault.renew)

    def __post_init__(self) -> None:
        self.detail.setdefault("lease_file", str(self.lease.path))  # a resumed harness takes it over

    def renew(self, ctx: FaultContext) -> None:
        if not self.reverted:
            self.lease.renew()
            if self.engine is not None:
                self.engine.renew()

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        if self.reverted:
            return {"already": True}
        self.reverted = True
        undo(self.recipe)
        self.lease.release()
        return {"undone": dict(self.recipe)}


def lease_path(ctx: FaultContext, name: str) -> Path:
    """A fresh lease file name: two faults of one family on one service never share one."""
    return ctx.lease_dir / f"{name}-{secrets.token_hex(4)}.lease"


def open_lease(ctx: FaultContext, name: str, ttl_s: float, recipe: dict[str, Any],
               path: Path | None = None) -> LeaseFile:
    """Write the lease (and start its watcher) for a fault about to be applied; it lapses
    `held_lease_s(ttl_s)` after its last renewal."""
    ctx.lease_dir.mkdir(parents=True, exist_ok=True)
    return LeaseFile(path or lease_path(ctx, name), held_lease_s(ttl_s), recipe, ctx.run_id)


def leased_engine_fault(ctx: FaultContext, name: str, ttl_s: float, fault: EngineFault) -> LeasedProcessFault:
    """Apply a fault the backend's engine applies, its undo leased first; a failed apply is undone."""
    lease = open_lease(ctx, name, ttl_s, fault.undo)
    try:
        fault.apply()
    except BaseException:  # nothing half-applied: what went in comes out, then the error
        undo(fault.undo)
        lease.release()
        raise
    return LeasedProcessFault(name, ttl_s, lease, fault.undo, dict(fault.detail), engine=fault)


def reattach_leased(spec: Any, journaled: Mapping[str, Any], ctx: FaultContext) -> LeasedProcessFault | None:
    """The fault again, if its watcher has not undone it (its lease file is still there)."""
    lease = LeaseFile.adopt(Path(str(journaled["lease_file"])))
    if lease is None:
        return None
    detail = {key: value for key, value in journaled.items() if key not in ("index", "type", "ttl_s")}
    return LeasedProcessFault(spec.type, spec.ttl_s, lease, lease.recipe(), detail)
