"""A bad artifact pushed through the control plane: the change itself is the fault.

The rollout carries a lease (the fault's TTL) that the control plane enforces: if the
harness stops renewing it (it died), the control plane rolls the change back and gives the
nodes fresh workers. Reverting rolls the rollout back on every node it still holds; for a
script it also kills the workers the script left spinning (a rollback stops new
infections, it heals none).
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import StackError
from harness.faults.base import FaultContext, held_lease_s, reattacher, register
from harness.spec import RolloutFault
from harness.workers import find_hung_workers


def push(ctx: FaultContext, rollout: Any, ttl_s: float | None = None) -> dict[str, Any]:
    """Register the artifact and roll it out; shared with decoy changes (which have no lease)."""
    artifact = rollout.artifact
    fields = artifact.model_dump(mode="json", exclude={"kind"})
    ctx.control_plane.register(artifact.kind, {**fields, "author": rollout.author,
                                               "description": rollout.description})
    return ctx.control_plane.rollout(artifact.kind, artifact.version, canary=rollout.canary,
                                     bake_s=rollout.bake_s, author=rollout.author,
                                     description=rollout.description, ttl_s=ttl_s,
                                     backdate_s=rollout.backdate_s)


@dataclass
class InjectedRollout:
    name: str
    rollout_id: int
    kind: str
    ttl_s: float
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False

    def renew(self, ctx: FaultContext) -> None:
        if not self.reverted:
            ctx.control_plane.renew(self.rollout_id, held_lease_s(self.ttl_s))

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        if self.reverted:
            return {"already": True}
        self.reverted = True
        state = next((r for r in ctx.control_plane.rollouts() if r["id"] == self.rollout_id), None)
        rolled_back: list[str] = []
        if state is not None and [n for n in state["reached"] if n not in state["rolled_back"]]:
            try:
                rolled_back = ctx.control_plane.rollback(self.rollout_id, author="gamedrill")["rolled_back"]
            except StackError as exc:
                if "no node left" not in str(exc):  # someone (the team) rolled it back already
                    raise
        if state is not None and "ttl_s_left" in state:
            ctx.control_plane.renew(self.rollout_id, 0)  # reverted: the lease has nothing left to guard
        killed: dict[str, list[int]] = {}
        if self.kind == "script":
            for node in ctx.nodes:
                pids = find_hung_workers(ctx.backend, node)
                if pids:
                    ctx.backend.signal(node, signal.SIGKILL, pids)
                    killed[node] = pids
        return {"rolled_back": rolled_back, "killed_workers": killed}


@register("rollout")
def inject_rollout(spec: RolloutFault, ctx: FaultContext) -> InjectedRollout:
    rollout = push(ctx, spec, ttl_s=held_lease_s(spec.ttl_s))
    detail = {"kind": spec.artifact.kind, "version": spec.artifact.version, "canary": spec.canary,
              "rollout_id": rollout["id"], "change": str(spec.change), "change_ids": rollout["change_ids"]}
    return InjectedRollout(name="rollout", rollout_id=rollout["id"], kind=spec.artifact.kind, ttl_s=spec.ttl_s,
                           detail=detail)


@reattacher("rollout")
def reattach_rollout(spec: RolloutFault, journaled: Mapping[str, Any], ctx: FaultContext) -> InjectedRollout | None:
    """The rollout again, if its lease still holds (else the control plane rolled it back)."""
    rollout_id = int(journaled["rollout_id"])
    state = next((r for r in ctx.control_plane.rollouts() if r["id"] == rollout_id), None)
    if state is None or "ttl_s_left" not in state:
        return None
    detail = {key: value for key, value in journaled.items() if key not in ("index", "type", "ttl_s")}
    return InjectedRollout(name="rollout", rollout_id=rollout_id, kind=spec.artifact.kind, ttl_s=spec.ttl_s,
                           detail=detail)
