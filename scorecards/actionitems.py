"""Follow-up action items: one per failed finding, worded as something a team can do.

Owner and due date stay empty in the scorecard; the postmortem shows placeholders and the
history database tracks each item until someone closes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from scorecards.model import ActionItem, Finding

# Finding name -> what to do about it. A finding not listed gets the generic wording.
PROMPTS: Final[Mapping[str, str]] = MappingProxyType({
    "detect": "Tune the alerting so this fault pages sooner (threshold, window, per-node rules)",
    "acknowledge": "Review the paging path so the on-call acknowledges within target",
    "declare": "Lower the bar to declaring: declare as soon as customers are affected",
    "first_update": "Prepare a status-update template so the first update goes out fast",
    "mitigate": "Write or fix the runbook step that restores service for this failure mode",
    "resolve": "Agree on when an incident is resolved and who says so",
    "first_update_after_declare": "Make the first status update part of declaring (comms role owns it)",
    "update_cadence": "Set a timer for the next update whenever one is posted",
    "update_content": "Use an update template with impact, current action and next-update time",
    "update_promises": "Keep the next-update promise, even when there is no news",
    "role_commander": "Name an incident commander at declaration",
    "role_comms": "Name a communications lead at declaration",
    "role_scribe": "Name a scribe to keep the timeline",
    "single_commander": "Practise explicit command handovers (the sitting commander hands over)",
    "hands_off_keyboard": "The commander coordinates; hand mitigation commands to an operator",
    "severity": "Review the severity table against measured customer impact",
    "trigger": "Check the change log first and confirm the triggering change before acting",
    "scope": "Check per-node health before recording the blast radius",
    "canary_first": "Run mitigations on one canary node before going global",
    "made_worse": "Review why this action made things worse and guard it in the runbook",
    "ineffective": "Remove or fix runbook actions that did not help",
    "fixed_not_masked": "Find and apply the real fix, not only the symptom relief",
    "error_budget": "Cut the time to mitigate: the incident burnt too much error budget",
    "escalation": "Escalate as soon as business impact is clear",
})


def action_items(findings: Iterable[Finding]) -> tuple[ActionItem, ...]:
    items: list[ActionItem] = []
    seen: set[str] = set()
    for finding in findings:
        if finding.passed is not False or finding.name in seen:
            continue
        seen.add(finding.name)
        prompt = PROMPTS.get(finding.name, f"Address {finding.name.replace('_', ' ')}")
        items.append(ActionItem(finding.name, finding.name, prompt, finding.what_happened, None, None))
    return tuple(items)
