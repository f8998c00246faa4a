"""The game master: which of a drill's inject rules hold now, given what the journal says.

`InjectRules` watches the journal (a listener: it only takes notes) and, asked by the
runner's monitor loop, returns the rules that fire now, each with why. The runner applies
the effects (harness.runner). A condition holds in *occurrences*: a time condition once
per elapsed period (with `repeat`), an event condition once per matching event; a rule
fires on its first occurrence only unless it has `repeat`. `chance` is drawn from the
run's seeded RNG once per occurrence, so a run with `--seed` replays the same way.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.spec_injects import InjectRule, When
from harness.timeline import Event


@dataclass(frozen=True)
class Firing:
    index: int  # the rule's place in the drill's `injects`
    rule: InjectRule
    occurrence: int  # 1 for the first time the condition held, then 2...
    why: str


@dataclass
class _Seen:
    """What the conditions look at, as the journal told it."""

    start_t_s: float | None = None  # the first fault.injected
    first_alert_t_s: float | None = None
    ack_t_s: float | None = None
    declare_t_s: float | None = None
    last_update_t_s: float | None = None
    relapses: list[Event] = field(default_factory=list)
    restorations: list[Event] = field(default_factory=list)
    acts: list[Event] = field(default_factory=list)


class InjectRules:
    def __init__(self, rules: tuple[InjectRule, ...], rng: random.Random) -> None:
        self.rules = rules
        self._rng = rng
        self._seen = _Seen()
        self._lock = threading.Lock()
        self._done: dict[int, set[int]] = {i: set() for i in range(len(rules))}  # occurrences decided
        self._fired: dict[int, int] = {i: 0 for i in range(len(rules))}

    def observe(self, event: Event) -> None:
        """A journal listener: notes what the conditions need (quick, never appends)."""
        seen, kind = self._seen, event.kind
        with self._lock:
            if kind == "fault.injected" and seen.start_t_s is None:
                seen.start_t_s = event.t_s
            elif kind == "alert.fired" and seen.first_alert_t_s is None:
                seen.first_alert_t_s = event.t_s
            elif kind == "team.ack" and seen.ack_t_s is None:
                seen.ack_t_s = event.t_s
            elif kind == "team.declare" and seen.declare_t_s is None:
                seen.declare_t_s = event.t_s
            elif kind == "team.update":
                seen.last_update_t_s = event.t_s
            elif kind == "slo.breached" and event.data.get("relapse"):
                seen.relapses.append(event)
            elif kind == "restoration.detected":
                seen.restorations.append(event)
            elif kind == "team.act":
                seen.acts.append(event)
            elif kind == "inject.fired":  # a resumed run carries on from the journal
                index, occurrence = int(event.data["index"]), int(event.data["occurrence"])
                self._done[index].add(occurrence)
                self._fired[index] += 1

    def catch_up(self, events: Iterable[Event]) -> None:
        for event in events:
            self.observe(event)

    def due(self, now_t_s: float) -> list[Firing]:
        """The rules that fire now; each occurrence is decided (fired or not, by chance) once."""
        firings: list[Firing] = []
        with self._lock:
            for index, rule in enumerate(self.rules):
                if self._fired[index] and not rule.repeat:
                    continue
                for occurrence, why in self._occurrences(rule.when, now_t_s):
                    if occurrence in self._done[index]:
                        continue
                    self._done[index].add(occurrence)
                    if rule.chance < 1.0 and self._rng.random() >= rule.chance:
                        continue
                    self._fired[index] += 1
                    firings.append(Firing(index, rule, occurrence, why))
                    if not rule.repeat:
                        break
        return firings

    def next_due_t_s(self, now_t_s: float) -> float | None:
        """The earliest time after now a timed condition could next hold (None: only an event can)."""
        with self._lock:
            times = [t for i, rule in enumerate(self.rules) if self._fired[i] == 0 or rule.repeat
                     if (t := self._next_time(rule.when, now_t_s)) is not None and t > now_t_s]
        return min(times) if times else None

    # ---- conditions -----------------------------------------------------------------------

    def _occurrences(self, when: When, now_t_s: float) -> list[tuple[int, str]]:
        seen = self._seen
        if when.at_s is not None:
            return _periods(seen.start_t_s, when.at_s, now_t_s, "s after the injection")
        if when.no_ack_for_s is not None and seen.ack_t_s is None:
            return _periods(seen.first_alert_t_s, when.no_ack_for_s, now_t_s, "s after the first alert, no ack")
        if when.no_declare_for_s is not None and seen.declare_t_s is None:
            return _periods(seen.first_alert_t_s, when.no_declare_for_s, now_t_s,
                            "s after the first alert, no declaration")
        if when.no_update_for_s is not None and seen.first_alert_t_s is not None:
            since = max(seen.first_alert_t_s, seen.last_update_t_s or 0.0)
            what = "the last update" if seen.last_update_t_s and seen.last_update_t_s > seen.first_alert_t_s \
                else "the first alert"
            # Occurrences count silences: each new update starts a new one, numbered by its time.
            base = int(since * 1000) * 1000
            return [(base + n, f"{why} since {what}, no update")
                    for n, why in _periods(since, when.no_update_for_s, now_t_s, "s")]
        if when.relapse is not None:
            return [(e.seq, f"the SLO was breached again at t = {e.t_s:.1f} s, after a restoration (seq {e.seq})")
                    for e in seen.relapses]
        if when.fixed_before_s is not None and seen.start_t_s is not None:
            return [(e.seq, f"restored {restored:.1f} s after the injection, before {when.fixed_before_s:g} s "
                     f"(seq {e.seq})") for e in seen.restorations
                    if (restored := float(e.data.get("window_start_t_s", e.t_s)) - seen.start_t_s)
                    < when.fixed_before_s]
        if when.action is not None:
            return [(e.seq, f"{e.data.get('by')} ran {when.action}"
                     + (" without a canary" if when.without_canary else "") + f" (seq {e.seq})")
                    for e in seen.acts if e.data.get("action") == when.action
                    and (not when.without_canary or e.data.get("canary") is None)]
        return []

    def _next_time(self, when: When, now_t_s: float) -> float | None:
        seen = self._seen
        waits = ((when.at_s, seen.start_t_s, None), (when.no_ack_for_s, seen.first_alert_t_s, seen.ack_t_s),
                 (when.no_declare_for_s, seen.first_alert_t_s, seen.declare_t_s),
                 (when.no_update_for_s, None if seen.first_alert_t_s is None
                  else max(seen.first_alert_t_s, seen.last_update_t_s or 0.0), None))
        for period_s, since_t_s, done in waits:
            if period_s is not None and since_t_s is not None and done is None:
                return since_t_s + period_s * (int(max(0.0, now_t_s - since_t_s) // period_s) + 1)
        return None


def _periods(since_t_s: float | None, period_s: float, now_t_s: float, what: str) -> list[tuple[int, str]]:
    """Occurrence n (from 1) once n periods have passed since `since_t_s`."""
    if since_t_s is None or now_t_s < since_t_s + period_s:
        return []
    count = int((now_t_s - since_t_s) // period_s)
    return [(n, f"{n * period_s:g} {what}") for n in range(1, count + 1)]
