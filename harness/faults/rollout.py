"""A bad artifact pushed through the control plane: the change itself is the fault.

Reverting rolls the rollout back on every node it reached; for a script it also kills
the workers the script left spinning (a rollback stops new infections, it heals none).
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

from harness.errors import StackError
from harness.faults.base import FaultContext, register
from harness.spec import RolloutFault
from harness.workers import find_hung_workers


def push(ctx: FaultContext, rollout: Any) -> dict[str, Any]:
    """Register the artifact and roll it out; shared with decoy changes."""
    artifact = rollout.artifact
    fields = artifact.model_dump(mode="json", exclude={"kind"})
    ctx.control_plane.register(artifact.kind, {**fields, "author": rollout.author,
                                               "description": rollout.description})
    return ctx.control_plane.rollout(artifact.kind, artifact.version, canary=rollout.canary,
                                     bake_s=rollout.bake_s, author=rollout.author,
                                     description=rollout.description)


@dataclass
class InjectedRollout:
    name: str
    rollout_id: int
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False

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
    rollout = push(ctx, spec)
    detail = {"kind": spec.artifact.kind, "version": spec.artifact.version, "canary": spec.canary,
              "rollout_id": rollout["id"], "change": spec.change.model_dump(mode="json") if spec.change else None}
    return InjectedRollout(name="rollout", rollout_id=rollout["id"], kind=spec.artifact.kind, detail=detail)
