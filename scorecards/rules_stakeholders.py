"""Stakeholders: were their questions answered in time, by the comms role, and truly?

A simulated stakeholder's question is `stakeholder.asked` (its `id`); the team answers with
`team.reply` naming that id. The target is the drill's `reply_s`. When the team has a comms
role (named during the drill, or planned), the answers are comms' to give: a commander
answering questions is a commander not commanding. An answer's claims (a share failing,
"restored", an action done) are checked against the measurements then (rules_factcheck).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from harness.timeline import Event
from scorecards.journalview import RunView, round_s, secs
from scorecards.model import Finding
from scorecards.rules_factcheck import reply_factcheck_finding

CATEGORY: Final = "communication"


def stakeholder_findings(run: RunView) -> list[Finding]:
    questions = run.of_kind("stakeholder.asked")
    if not questions:
        return []
    replies = run.of_kind("team.reply")
    answers = {str(q.data.get("id")): next((r for r in replies if r.data.get("question") == q.data.get("id")
                                            and r.seq > q.seq), None) for q in questions}
    found = [_reply_times(run, questions, answers), _reply_role(run, answers),
             reply_factcheck_finding(run, [a for a in answers.values() if a is not None])]
    return [f for f in found if f is not None]


def _reply_times(run: RunView, questions: list[Event], answers: Mapping[str, Event | None]) -> Finding:
    target_s = run.targets.get("reply_s")
    target = f"each stakeholder question answered within {target_s:g} s" if target_s is not None \
        else "each stakeholder question answered"
    parts: list[str] = []
    verdicts: list[bool | None] = []
    evidence: list[int] = []
    for question in questions:
        qid, answer = str(question.data.get("id")), answers[str(question.data.get("id"))]
        asked = f"{qid} from {question.data.get('stakeholder')} ({run.at(question.t_s)}: {question.data.get('text')!r})"
        evidence.append(question.seq)
        if answer is None:
            due = None if target_s is None else question.t_s + target_s
            not_reached = run.stopped_before(due)
            parts.append(f"{asked} never answered" + (f" {run.stopped_note()}" if not_reached else ""))
            verdicts.append(None if not_reached else False)
            continue
        wait_s = round_s(answer.t_s - question.t_s)
        evidence.append(answer.seq)
        parts.append(f"{asked} answered by {answer.data.get('by')} {secs(wait_s)} later")
        verdicts.append(True if target_s is None else wait_s <= target_s)
    passed = False if False in verdicts else (None if None in verdicts else True)
    return Finding(CATEGORY, "stakeholder_replies", "; ".join(parts), target, passed, tuple(evidence))


def _reply_role(run: RunView, answers: Mapping[str, Event | None]) -> Finding | None:
    given = [a for a in answers.values() if a is not None]
    if not given:
        return None
    verdicts: list[str] = []
    wrong = 0
    for answer in given:
        comms, commander = _holder_at(run, "comms", answer.seq), _holder_at(run, "commander", answer.seq)
        if comms is None:
            return None  # no comms role: nobody else's job to answer
        by = str(answer.data.get("by"))
        if by == comms:
            verdicts.append(f"{answer.data.get('question')} by {by} (comms)")
            continue
        wrong += 1
        verdicts.append(f"{answer.data.get('question')} by {by}, " + ("the commander" if by == commander
                                                                       else "not the comms role") + f" ({comms})")
    return Finding(CATEGORY, "stakeholder_reply_role", "answers: " + "; ".join(verdicts),
                   "the comms role answers stakeholders, not the commander", wrong == 0,
                   tuple(a.seq for a in given))


def _holder_at(run: RunView, role: str, seq: int) -> str | None:
    """Who held `role` at `seq`: the last naming before it, else the plan's roster."""
    holder: str | None = None
    for event in run.of_kind("team.declare", "team.role"):
        if event.seq > seq:
            break
        if role == "commander" and event.kind == "team.declare" and event.data.get("commander"):
            holder = str(event.data["commander"])
        elif event.kind == "team.role" and event.data.get("role") == role and event.data.get("who"):
            holder = str(event.data["who"])
    if holder is None:
        team = run.plan.get("team")
        planned = team.get("roles") if isinstance(team, Mapping) else None
        if isinstance(planned, Mapping) and planned.get(role):
            holder = str(planned[role])
    return holder
