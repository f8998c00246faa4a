"""What a resumed harness reads from a dead one's journal: which faults it left live, where
their schedule stands, and whether it had already decided to end the drill.

Used by `Run.resume` (see harness.resume for the whole take-over).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.faults import FaultContext, FaultStack, reattach
from harness.schedule import FaultSchedule
from harness.spec import Fault
from harness.timeline import Event, Journal


@dataclass
class TakenOver:
    schedule: FaultSchedule
    start_t_s: float  # when injection began
    held: list[int] = field(default_factory=list)  # faults this harness now holds (leases renewed)
    lapsed: list[int] = field(default_factory=list)  # faults a lease undid (or will) while no harness ran


def take_over_faults(faults: tuple[Fault, ...], journaled: Sequence[Event], stack: FaultStack,
                     ctx: FaultContext, journal: Journal) -> TakenOver:
    """Every fault the dead harness left live, held again (lease renewed now) or, if its lease
    undid it meanwhile, journaled as reverted by the lease; the schedule carries on from there.

    A fault it was still injecting (fault.injecting, no fault.injected) is looked for where
    the spec alone can find it (a toxic, a cut link); if only its unjournaled handle could
    (a rollout id, a lease file), its lease undoes whatever of it took effect. Either way it
    is never injected a second time."""
    injected = {e.data["index"]: e for e in journaled if e.kind == "fault.injected"}
    injecting = {e.data["index"]: e for e in journaled
                 if e.kind == "fault.injecting" and e.data["index"] not in injected}
    # Reverted after its last injection: an escalated fault (harness.gamemaster) comes back stronger.
    reverted = {e.data["index"] for e in journaled if e.kind == "fault.reverted"
                and (e.data["index"] not in injected or e.seq > injected[e.data["index"]].seq)}
    start = next(e.t_s for e in journaled if e.kind == "run.state" and e.data.get("to") == "injected")
    taken = TakenOver(FaultSchedule.of(faults, start, {i: e.t_s for i, e in (injecting | injected).items()},
                                       over=reverted), start)
    for index, event in sorted((injecting | injected).items()):
        if index in reverted:
            continue
        unconfirmed = index in injecting
        try:
            live = reattach(faults[index], event.data, ctx)
        except KeyError:  # its handle was never journaled: only its lease knows it
            live = None
        if live is None:
            journal.append("fault.reverted", index=index, type=faults[index].type, how="lease", ok=True,
                           **({"unconfirmed": True} if unconfirmed else {}))
            taken.lapsed.append(index)
            continue
        live.renew(ctx)
        stack.adopt(index, live)
        taken.held.append(index)
    return taken


def stop_decided(journaled: Sequence[Event]) -> tuple[str, str] | None:
    """The outcome a dead harness had decided on (or the team's resolve it had not acted on yet)."""
    for event in journaled:
        if event.kind == "run.stopping":
            return str(event.data["outcome"]), str(event.data["reason"])
    if any(event.kind == "team.resolve" for event in journaled):
        return "resolved", "the team resolved the incident"
    return None
