"""The incident's timeline: every journal event a reviewer cares about, in words.

Per-second SLO windows, state transitions, autopilot steps and the journal's own lines are
left out (the charts show the windows). A kind without a label here is shown by its name
and data, so a new event kind is never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from harness.timeline import Event, format_wall
from scorecards.model import TimelineEntry

LEFT_OUT: Final = frozenset({"journal.opened", "journal.reopened", "run.state", "slo.window", "responder.step"})
# The incident's own events (what a postmortem lists and the charts mark), as opposed to the harness's.
INCIDENT_KINDS: Final = frozenset({
    "change.pushed", "fault.injected", "fault.reverted", "alert.fired", "alert.cleared", "restoration.detected",
    "slo.breached", "inject.fired", "stakeholder.asked", "team.reply",
    "safety.tripped", "run.aborted", "action.result", *(f"team.{kind}" for kind in (
        "paged", "ack", "declare", "role", "update", "note", "suspect", "scope", "act", "escalate", "resolve")),
})
Label = Callable[[Mapping[str, Any]], str]


def _g(data: Mapping[str, Any], key: str, default: str = "?") -> str:
    value = data.get(key)
    return default if value is None else str(value)


def _secs(value: Any) -> str:
    return "?" if not isinstance(value, int | float) else f"{round(float(value), 2):g} s"


LABELS: Final[Mapping[str, Label]] = MappingProxyType({
    "run.planned": lambda d: f"drill {_g(d, 'drill')} planned on scenario {_g(d, 'scenario')}",
    "run.aborted": lambda d: f"drill aborted: {_g(d, 'reason')}",
    "run.finished": lambda d: f"drill finished: {_g(d, 'outcome')}",
    "stack.up": lambda d: f"stack up in {_g(d, 'up_s')} s",
    "stack.down": lambda d: "stack kept up" if d.get("kept") else "stack torn down",
    "load.started": lambda d: f"load started: {_g(d, 'users')} users, {_g(d, 'rate_per_s')} req/s",
    "load.stopped": lambda d: f"load stopped: {_g(d, 'failures')} of {_g(d, 'requests')} requests failed",
    "baseline.recorded": lambda d: f"healthy baseline: p99 {_g(d, 'p99_ms')} ms, error rate {_g(d, 'error_rate')}",
    "steady_state.checked": lambda d: "steady state " + ("healthy" if d.get("healthy") else "NOT healthy"),
    "change.pushed": lambda d: f"change pushed: {_g(d, 'artifact_kind', _g(d, 'kind'))} {_g(d, 'version')}",
    "fault.injected": lambda d: f"FAULT injected: {_g(d, 'type')} {_g(d, 'kind', '')} {_g(d, 'version', '')}".rstrip(),
    "fault.reverted": lambda d: f"fault reverted ({_g(d, 'how')})",
    "safety.tripped": lambda d: f"safety limit {_g(d, 'limit')} tripped at {_g(d, 'value')}",
    "alert.fired": lambda d: f"alert {_g(d, 'name')} fired ({_g(d, 'metric')} {_g(d, 'value')})"
                             + (f" on {d['node']}" if d.get("node") else ""),
    "alert.cleared": lambda d: f"alert {_g(d, 'name')} cleared",
    "slo.breached": lambda d: ("RELAPSE: " if d.get("relapse") else "") + "SLO breached (error rate "
                              f"{_g(d, 'error_rate')}, p99 {_g(d, 'p99_ms')} ms)",
    "restoration.detected": lambda d: f"service restored (healthy from t = {_secs(d.get('window_start_t_s'))})",
    "team.paged": lambda d: f"team paged for {_g(d, 'alert')}",
    "team.ack": lambda d: f"{_g(d, 'by')} acknowledged",
    "team.declare": lambda d: f"{_g(d, 'by')} declared SEV{_g(d, 'severity')}, commander {_g(d, 'commander')}",
    "team.role": lambda d: f"{_g(d, 'by')} named {_g(d, 'who')} {_g(d, 'role')}",
    "team.update": lambda d: f"{_g(d, 'by')} posted an update: {_g(d, 'impact')} / {_g(d, 'action')}",
    "team.note": lambda d: f"{_g(d, 'by')} noted: {_g(d, 'text')}",
    "team.suspect": lambda d: f"{_g(d, 'by')} suspects {_g(d, 'change')}",
    "team.scope": lambda d: f"{_g(d, 'by')} scoped to {', '.join(map(str, d.get('nodes') or []))}",
    "team.act": lambda d: f"{_g(d, 'by')} ran {_g(d, 'action')}" + (f" on canary {d['canary']}" if d.get("canary")
                                                                    else " on every node"),
    "team.escalate": lambda d: f"{_g(d, 'by')} escalated to {_g(d, 'to')}",
    "team.resolve": lambda d: f"{_g(d, 'by')} resolved the incident",
    "inject.fired": lambda d: f"GAME MASTER: rule {_g(d, 'rule')} fired ({_g(d, 'why')}): "
                              + ", ".join(_effect(e) for e in d.get("effects") or []),
    "stakeholder.asked": lambda d: f"{_g(d, 'stakeholder')} ({_g(d, 'title')}) asked {_g(d, 'id')}: {_g(d, 'text')}",
    "team.reply": lambda d: f"{_g(d, 'by')} answered {_g(d, 'question')}: {_g(d, 'text')}",
    "action.result": lambda d: f"{_g(d, 'action')} {'done' if d.get('ok') else 'FAILED'}: {_g(d, 'detail', '')}",
})


def _effect(effect: Any) -> str:
    if not isinstance(effect, Mapping):
        return str(effect)
    kind = _g(effect, "effect")
    if not effect.get("done"):
        return f"{kind} skipped ({_g(effect, 'skipped', _g(effect, 'error'))})"
    done = {"ask": f"question {_g(effect, 'question')}", "inject": f"fault {_g(effect, 'fault')} injected",
            "escalate": f"fault {_g(effect, 'fault')} escalated"}
    return done.get(kind, kind)


def timeline(events: tuple[Event, ...]) -> tuple[TimelineEntry, ...]:
    return tuple(TimelineEntry(e.seq, e.kind, e.t_s, format_wall(e.wall), _label(e))
                 for e in events if e.kind not in LEFT_OUT)


def _label(event: Event) -> str:
    label = LABELS.get(event.kind)
    if label is None:
        return f"{event.kind} {dict(event.data)}"
    return label(event.data)
