"""Scorecard -> a blameless postmortem draft in Markdown.

The draft states facts from the journal and turns the findings into prompts: it names
what happened and when, never who was at fault. Owners and due dates are placeholders for
the review meeting to fill in. Pure: a scorecard in, text out.
"""

from __future__ import annotations

from typing import Final

from scorecards.chronicle import INCIDENT_KINDS
from scorecards.fmt import clock, grade_text, ms, offset, percent, seconds
from scorecards.model import PHASE_NEVER, Finding, Scorecard

OWNER_PLACEHOLDER: Final = "_owner?_"
DUE_PLACEHOLDER: Final = "_due YYYY-MM-DD?_"


def render_postmortem(card: Scorecard) -> str:
    lines = [f"# Postmortem (draft): {card.scenario or 'incident'} — drill {card.drill or '?'}", "",
             "_Blameless: this draft describes what the system and the process did, not who is to blame. "
             "Every statement cites journal lines (`seq`) of run "
             f"`{card.run_id}`._", ""]
    lines += ["## Summary", "", _summary(card), ""]
    lines += ["## Impact", "", *_impact(card), ""]
    lines += ["## Timeline (UTC)", "", "| time | from fault | seq | what happened |", "|---|---|---|---|"]
    lines += [f"| {clock(e.wall)} | {offset(card, e.t_s)} | {e.seq} | {e.label.replace('|', '/')} |"
              for e in card.timeline if e.kind in INCIDENT_KINDS]
    lines += ["", "## Trigger", "", _trigger(card), ""]
    lines += ["## Contributing factors", "",
              "_Prompts from the findings; keep the ones that mattered and say why._", ""]
    lines += [f"- {f.what_happened} — what made this likely? (seq {_seqs(f)})" for f in _failed(card)]
    lines += ["- What in the system made this failure possible, and what made it hard to see?", ""]
    lines += ["## What went well", ""]
    lines += [f"- {f.what_happened} (seq {_seqs(f)})" for f in card.findings if f.passed is True
              and f.category != "response"] or ["- _to discuss_"]
    lines += ["", "## What went poorly", ""]
    lines += [f"- {f.what_happened}. Target: {f.target or '—'} (seq {_seqs(f)})" for f in _failed(card)] or [
        "- _nothing the scorecard could see; discuss_"]
    lines += ["", "## Action items", "", "| # | action | owner | due |", "|---|---|---|---|"]
    lines += [f"| {i} | {item.text} ({item.why.replace('|', '/')}) | {item.owner or OWNER_PLACEHOLDER} | "
              f"{item.due or DUE_PLACEHOLDER} |" for i, item in enumerate(card.action_items, 1)]
    if not card.action_items:
        lines.append("| — | no failed finding; add what the review finds | | |")
    return "\n".join(lines) + "\n"


def _summary(card: Scorecard) -> str:
    if card.fault_t_s is None:
        return f"The drill ended ({card.outcome}) before any fault was injected; there is no incident to review."
    severity = card.severity
    declared = f"declared SEV{severity.declared}" if severity.declared else "never declared"
    measured = f", impact measured SEV{severity.measured}" if severity.measured else ""
    mitigate = card.phase("mitigate")
    restored = mitigate.seconds_from_fault
    if restored is not None:
        fixed = f"service was restored {seconds(restored)} after the fault"
    elif mitigate.status == PHASE_NEVER:
        fixed = "service was not restored before the drill ended"
    else:
        fixed = "service had not been restored when the harness stopped"
    if mitigate.masked_s:
        fixed += " (" + ", ".join(f"masked at {seconds(t)}" for t in mitigate.masked_s) + ": restored, then relapsed)"
    ended = (f"The drill ended with outcome `{card.outcome}`" if card.complete
             else f"The harness stopped before the drill ended (outcome `{card.outcome}`, an incomplete run)")
    return (f"On {card.fault_wall[:10] if card.fault_wall else '?'} at {clock(card.fault_wall)} UTC the "
            f"{card.scenario or '?'} fault was injected. The incident was {declared}{measured}; {fixed}. "
            f"{ended}; grade {grade_text(card.grade)}.")


def _impact(card: Scorecard) -> list[str]:
    impact = card.impact
    if impact.start_t_s is None:
        return ["- none: no fault was injected"]
    return [f"- {impact.failed_requests} of {impact.total_requests} requests failed ({percent(impact.error_rate)})",
            f"- peak error rate {percent(impact.peak_error_rate)} over {impact.peak_window_s:g} s; worst p99 "
            f"{ms(impact.p99_max_ms)}",
            f"- {impact.error_budget_minutes:g} error-budget minutes ({impact.error_budget_share * 100:.2f} % of the "
            "month)",
            f"- evidence: seq {', '.join(map(str, impact.evidence)) or '—'}"]


def _trigger(card: Scorecard) -> str:
    diagnosis = card.diagnosis
    if card.fault_t_s is None:
        return "No fault was injected."
    suspects = ", ".join(diagnosis.suspects) or "nothing"
    found = {True: "identified it", False: "did not identify it", None: "could not be judged"}
    when = f" at {seconds(diagnosis.identify_s)} after the fault" if diagnosis.identify_s is not None else ""
    return (f"The trigger was **{diagnosis.trigger_truth}**. The team suspected {suspects} and "
            f"{found[diagnosis.trigger_identified]}{when}. Affected nodes: {', '.join(diagnosis.scope_truth) or '?'}.")


def _failed(card: Scorecard) -> list[Finding]:
    return [f for f in card.findings if f.passed is False]


def _seqs(finding: Finding) -> str:
    return ", ".join(map(str, finding.evidence)) or "—"
