"""Fact-checked status updates and answers to stakeholders: what each claims, against what
was measured when it was posted.

Three kinds of claim are checked, each only when the update makes it:
- the impact: a share of requests failing (`impact_pct`, or the first "N %" in the impact
  text) against the failed share measured over the FACT_WINDOW_S before the update (never
  before the fault), and the
  components it names (`components`) against the nodes failing then;
- "restored" / "resolved" / "back to normal" against the SLO at that moment;
- a finished action ("rolled back", "restarted", "isolated", "paused") against the journal: the
  matching action must have run, and worked, before the update. "Rolling back" is a plan,
  not a claim, and is not checked.

A claim that cannot be checked (no traffic measured yet) is left out, never failed. An
answer to a stakeholder (`team.reply`) is free text: its share, "restored" and finished
actions are read from that text, the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from harness.timeline import Event
from scorecards.journalview import RunView, error_share, failing_nodes
from scorecards.model import Finding
from scorecards.policy import INCIDENT_LIVE_SHARE, NODE_FAILING_SHARE

CATEGORY: Final = "communication"
FACT_WINDOW_S: Final = 10.0  # an update describes the last 10 s, not the whole incident
IMPACT_TOLERANCE: Final = 0.15  # a stated share within 15 points of the measured one is right
_PERCENT: Final = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
_RESTORED: Final = re.compile(r"\b(restored|resolved|recovered|back to normal|fixed|all clear)\b", re.IGNORECASE)
_NEGATED: Final = re.compile(r"\b(not|no longer|isn't|is not|partially|partly)\b[^.;]*$", re.IGNORECASE)
# A finished action the update claims -> the toolkit actions that would make it true.
_DONE: Final[Mapping[str, tuple[str, ...]]] = {
    r"\brolled\s+back\b": ("rollback-release", "rollback-config", "rollback-script"),
    r"\brestarted\b": ("restart", "kill-hung-workers"),
    r"\b(isolated|drained)\b": ("isolate",),
    r"\bpaused\b": ("pause-rollout",),
    r"\bkilled\b": ("kill-hung-workers",),
}


@dataclass(frozen=True)
class Claim:
    update: Event
    said: str
    true: bool
    why: str


def factcheck_finding(run: RunView, updates: Sequence[Event]) -> Finding | None:
    return _finding(run, updates, "update_facts", "every status update")


def reply_factcheck_finding(run: RunView, replies: Sequence[Event]) -> Finding | None:
    """The answers to stakeholders, held to the measurements like the status updates."""
    return _finding(run, replies, "stakeholder_reply_facts", "every answer to a stakeholder")


def _finding(run: RunView, posts: Sequence[Event], name: str, every: str) -> Finding | None:
    if run.fault is None:
        return None
    claims = [claim for post in posts for claim in _claims(run, post)]
    if not claims:
        return None
    false = [c for c in claims if not c.true]
    listed = "; ".join(f"seq {c.update.seq} said {c.said!r}: {c.why}" for c in (false or claims)[:6])
    what = (f"{len(false)} of {len(claims)} checked claim(s) did not match the measurements: {listed}" if false
            else f"all {len(claims)} checked claim(s) matched the measurements ({listed})")
    return Finding(CATEGORY, name, what, f"{every} states what was measured when it was "
                   f"posted: the impact within {IMPACT_TOLERANCE * 100:g} points, 'restored' only when it is, "
                   "and only actions that ran", not false, tuple(sorted({c.update.seq for c in (false or claims)})))


def _impact_text(post: Event) -> str:
    """What a post says of the impact: an update's impact field, a reply's whole text."""
    key = "text" if post.kind == "team.reply" else "impact"
    return str(post.data.get(key) or "")


def _claims(run: RunView, update: Event) -> list[Claim]:
    text = " ".join(str(update.data.get(key) or "") for key in ("impact", "action", "text"))
    assert run.fault is not None
    since = max(update.t_s - FACT_WINDOW_S, run.fault.t_s)  # never the healthy baseline before the fault
    windows = [w for w in run.windows_starting(since, update.t_s) if w.start_t_s + 1 <= update.t_s]
    measured = error_share(windows)
    found: list[Claim] = []
    stated = _stated_share(update)
    if stated is not None and measured is not None:
        found.append(Claim(update, f"{stated * 100:g} % failing", abs(stated - measured) <= IMPACT_TOLERANCE,
                           f"measured {measured * 100:.0f} % over the {len(windows)} s before"))
    components = update.data.get("components")
    if isinstance(components, list) and components and windows:
        failing = set(failing_nodes(windows, NODE_FAILING_SHARE))
        named = {str(c) for c in components}
        nodes = set(run.nodes())
        wrong = sorted(n for n in named & nodes if n not in failing)
        missed = sorted(failing - named) if named & nodes else []
        found.append(Claim(update, "affected: " + ", ".join(sorted(named)), not wrong and not missed,
                           f"failing then: {', '.join(sorted(failing)) or 'none'}"))
    impact = _impact_text(update)
    restored = _RESTORED.search(impact)
    if restored and not _NEGATED.search(impact[:restored.start()]) and windows:
        recent = windows[-int(FACT_WINDOW_S / 2):]
        now = error_share(recent)
        if now is not None:
            found.append(Claim(update, restored.group(0), now <= INCIDENT_LIVE_SHARE,
                               f"{now * 100:.0f} % of requests failing in the last {len(recent)} s"))
    found += _action_claims(run, update, text)
    return found


def _stated_share(update: Event) -> float | None:
    value = update.data.get("impact_pct")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 100
    match = _PERCENT.search(_impact_text(update))
    return float(match.group(1)) / 100 if match and float(match.group(1)) <= 100 else None


def _action_claims(run: RunView, update: Event, text: str) -> list[Claim]:
    done = {str(r.data.get("action")) for r in run.of_kind("action.result")
            if r.seq < update.seq and r.data.get("ok")}
    claims = []
    for pattern, actions in _DONE.items():
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            ran = sorted(done & set(actions))
            claims.append(Claim(update, match.group(0), bool(ran),
                                f"ran: {', '.join(ran)}" if ran else f"no {' / '.join(actions)} had run and worked"))
    return claims
