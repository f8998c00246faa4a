"""Journal events in plain words, for people watching a drill (the facilitator's terminal).

One sentence per event a person cares about; the per-second SLO windows, the journal's
own bookkeeping and the autopilot's step markers say nothing (None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from harness.timeline import Event

Words = Callable[[Mapping[str, Any]], str]


def _on(node: Any) -> str:
    return f" on {node}" if node else ""


def _everywhere_or(canary: Any) -> str:
    return f" on {canary} (canary)" if canary else " on every node"


WORDS: Final[Mapping[str, Words]] = {
    "run.state": lambda d: f"drill {d.get('to')}",
    "stack.up": lambda d: f"the shop is up ({len(d.get('services') or [])} services)",
    "load.started": lambda d: f"load started: {d.get('users')} users, {d.get('rate_per_s')} requests/s",
    "baseline.recorded": lambda d: f"healthy baseline recorded ({d.get('requests')} requests)",
    "steady_state.checked": lambda d: "steady state holds" if d.get("healthy") else "steady state does NOT hold",
    "change.pushed": lambda d: f"decoy change pushed: {d.get('kind')} {d.get('version')}",
    "fault.injected": lambda d: f"fault {d.get('index')} injected: {d.get('type')} (lease {d.get('ttl_s')} s)",
    "fault.reverted": lambda d: f"fault {d.get('index')} reverted ({d.get('how')})" + ("" if d.get("ok") else
                                                                                      ": FAILED"),
    "safety.tripped": lambda d: f"safety limit reached: {d.get('limit')} ({d.get('value')})",
    "alert.fired": lambda d: f"ALERT {d.get('name')}{_on(d.get('node'))}: {d.get('metric')} {d.get('value')} "
                             f"{d.get('op')} {d.get('threshold')}",
    "alert.cleared": lambda d: f"alert {d.get('name')} cleared{_on(d.get('node'))}",
    "slo.breached": lambda d: "the shop failed again after recovering" if d.get("relapse") else "customer impact",
    "restoration.detected": lambda d: f"service restored (healthy since {d.get('window_start_t_s')} s)",
    "team.paged": lambda d: f"page sent ({d.get('format')})",
    "page.failed": lambda d: f"page could not be delivered: {d.get('error')}",
    "team.ack": lambda d: f"{d.get('by')} acknowledged the page",
    "team.declare": lambda d: f"{d.get('by')} declared SEV{d.get('severity')}, commander {d.get('commander')}",
    "team.role": lambda d: f"{d.get('who')} is {d.get('role')} (named by {d.get('by')})",
    "team.update": lambda d: f"{d.get('by')} posted a status update: {d.get('impact') or d.get('text') or ''}",
    "team.note": lambda d: f"{d.get('by')} noted: {d.get('text')}",
    "team.suspect": lambda d: f"{d.get('by')} suspects {d.get('change')}",
    "team.scope": lambda d: f"{d.get('by')} scoped the incident to {', '.join(d.get('nodes') or [])}",
    "team.act": lambda d: f"{d.get('by')} ran {d.get('action')}{_everywhere_or(d.get('canary'))}",
    "team.escalate": lambda d: f"{d.get('by')} escalated to {d.get('to')}",
    "team.resolve": lambda d: f"{d.get('by')} resolved the incident",
    "team.reply": lambda d: f"{d.get('by')} answered {d.get('question')}: {d.get('text')}",
    "stakeholder.asked": lambda d: f"{d.get('stakeholder')} ({d.get('title')}) asks: {d.get('text')}",
    "inject.fired": lambda d: f"GAME MASTER: {d.get('rule')} fired ({d.get('why')})",
    "action.result": lambda d: f"{d.get('action')} {'done' if d.get('ok') else 'FAILED'}: {d.get('detail') or ''}",
    "run.aborted": lambda d: f"drill aborted: {d.get('reason')}",
    "run.stopping": lambda d: f"drill ending: {d.get('outcome')} ({d.get('reason')})",
    "run.finished": lambda d: f"drill over: {d.get('outcome')}",
    "run.resumed": lambda d: "a new harness took the drill over",
}


def in_words(event: Event) -> str | None:
    """The event as a sentence, or None for events nobody reads as they happen."""
    words = WORDS.get(event.kind)
    return None if words is None else words(event.data).strip()
