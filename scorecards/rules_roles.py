"""Roles: who was commander, comms and scribe, and from when; one commander at a time; and
the commander's hands off the keyboard.

A commander is named by `team.declare` (its `commander`) or by `team.role` with role
`commander`. A change made by the sitting commander is a handover; a change made by anyone
else means two people believed they were in command. Someone is "present" once they have
done anything in the journal or been named to a role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from harness.timeline import Event
from scorecards.journalview import RunView, secs
from scorecards.model import Finding, RoleAssignment

CATEGORY: Final = "roles"
REQUIRED_ROLES: Final = ("commander", "comms", "scribe")


@dataclass(frozen=True)
class CommandChange:
    event: Event
    commander: str
    previous: str | None
    clean: bool  # False: made by someone other than the sitting commander


def role_assignments(run: RunView) -> tuple[RoleAssignment, ...]:
    named: list[RoleAssignment] = []
    for event in run.of_kind("team.declare", "team.role"):
        if event.kind == "team.declare":
            role, who = "commander", event.data.get("commander")
        else:
            role, who = str(event.data.get("role")), event.data.get("who")
        if who:
            named.append(RoleAssignment(role, str(who), str(event.data.get("by", "")), run.since_fault(event.t_s),
                                        event.seq))
    return tuple(named)


def command_changes(run: RunView) -> list[CommandChange]:
    changes: list[CommandChange] = []
    current: str | None = None
    for event in run.of_kind("team.declare", "team.role"):
        if event.kind == "team.role" and event.data.get("role") != "commander":
            continue
        who = event.data.get("commander") if event.kind == "team.declare" else event.data.get("who")
        if not who or who == current:
            continue
        clean = current is None or event.data.get("by") == current
        changes.append(CommandChange(event, str(who), current, clean))
        current = str(who)
    return changes


def role_findings(run: RunView, roles: tuple[RoleAssignment, ...]) -> list[Finding]:
    if run.fault is None:
        return []
    changes = command_changes(run)
    found: list[Finding | None] = [_role_finding(run, role, roles, changes) for role in REQUIRED_ROLES]
    found += [_single_commander(run, changes), _hands_off_keyboard(run, changes)]
    return [f for f in found if f is not None]


def _role_finding(run: RunView, role: str, roles: tuple[RoleAssignment, ...],
                  changes: list[CommandChange]) -> Finding:
    team = run.plan.get("team")
    planned = team.get("roles") if isinstance(team, Mapping) else None
    expected = f" (planned: {planned[role]})" if isinstance(planned, Mapping) and role in planned else ""
    target = f"a {role} named while the incident is open{expected}"
    holders = [r for r in roles if r.role == role]
    resolved = run.first_after_fault("team.resolve")
    if not holders and run.stopped_before(None):
        return Finding(CATEGORY, f"role_{role}", f"no {role} named {run.stopped_note()}", target, None, ())
    if not holders:
        return Finding(CATEGORY, f"role_{role}", f"no {role} was ever named", target, False, ())
    first = holders[0]
    in_time = resolved is None or first.seq < resolved.seq
    when = "before the fault" if first.seconds_from_fault is None else f"fault + {secs(first.seconds_from_fault)}"
    what = f"{first.who} named {role} by {first.by or '?'} at {when}"
    if len(holders) > 1:
        what += f"; later {', '.join(h.who for h in holders[1:])}"
    commander = _commander_at(changes, first.seq)
    doubled = role != "commander" and commander is not None and first.who == commander
    if doubled:
        what += " (who was also the commander: one person holding two roles)"
    if not in_time:
        what += " (only after the resolution)"
    return Finding(CATEGORY, f"role_{role}", what, target, in_time and not doubled, tuple(h.seq for h in holders))


def _single_commander(run: RunView, changes: list[CommandChange]) -> Finding | None:
    if not changes:
        return None
    clashes = [c for c in changes if not c.clean]
    handovers = [c for c in changes[1:] if c.clean]
    parts = [f"{changes[0].commander} took command ({run.at(changes[0].event.t_s)})"]
    parts += [f"handed over to {c.commander} ({run.at(c.event.t_s)})" for c in handovers]
    parts += [f"{c.event.data.get('by', '?')} named {c.commander} commander while {c.previous} was "
              f"({run.at(c.event.t_s)}): two commanders" for c in clashes]
    return Finding(CATEGORY, "single_commander", "; ".join(parts), "one commander at a time; a change of command "
                   "is a handover by the sitting commander", not clashes, tuple(c.event.seq for c in changes))


def _hands_off_keyboard(run: RunView, changes: list[CommandChange]) -> Finding | None:
    if not changes:
        return None
    hands_on: list[str] = []
    evidence: list[int] = []
    for act in run.after_fault("team.act"):
        commander = _commander_at(changes, act.seq)
        if commander is None or act.data.get("by") != commander:
            continue
        others = sorted(_present_before(run, act.seq) - {commander})
        if others:
            hands_on.append(f"{act.data.get('action')} (seq {act.seq}) while {', '.join(others)} was present")
            evidence.append(act.seq)
    what = "the commander ran no mitigation command while others were present"
    if hands_on:
        what = f"the commander ran {len(hands_on)} mitigation command(s) while others were present: " \
               + "; ".join(hands_on)
    return Finding(CATEGORY, "hands_off_keyboard", what, "the commander coordinates; someone else types",
                   not hands_on, tuple(evidence) or tuple(c.event.seq for c in changes[:1]))


def _commander_at(changes: list[CommandChange], seq: int) -> str | None:
    current: str | None = None
    for change in changes:
        if change.event.seq > seq:
            break
        current = change.commander
    return current


def _present_before(run: RunView, seq: int) -> set[str]:
    present: set[str] = set()
    for event in run.events:
        if event.seq >= seq:
            break
        if event.kind.startswith("team."):
            present.update(str(event.data[key]) for key in ("by", "who", "commander") if event.data.get(key))
    return present
