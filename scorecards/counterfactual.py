"""What the delay cost, as the scorecard shows it: the figures of `counterfactual.json`, written
by `gamedrill scorecard counterfactual RUN` (harness.counterfactual), which played the drill
again for real with the team's actions moved to the target times and with the ground truth's
best response.

Failed requests are counted the same way in every run (Impact: the slo.window seconds from
the fault to the restoration), so "spared" is the original's count minus the replay's. The
figure is a measurement of one replay each, not a model: the sentence says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from scorecards.journalview import secs
from scorecards.model import Scorecard

COUNTERFACTUAL_NAME: Final = "counterfactual.json"
CURVE_AFTER_S: Final = 10  # seconds of the curve kept past the incident's end, to show it stay down

Curve = tuple[tuple[float, int], ...]  # (seconds from the fault, failed requests in that second)


@dataclass(frozen=True)
class Variant:
    name: str  # "target" or "ideal"
    run_dir: str  # relative to the original run's directory
    steps: tuple[str, ...]  # the runbook's actions and pauses, in words
    mitigate_s: float | None  # restored for good, seconds from the fault; None: never
    failed_requests: int
    total_requests: int
    curve: Curve

    @classmethod
    def of(cls, name: str, card: Scorecard, run_dir: Path, steps: tuple[str, ...]) -> Variant:
        return cls(name, str(run_dir), steps, card.phase("mitigate").seconds_from_fault, card.impact.failed_requests,
                   card.impact.total_requests, curve_of(card))


@dataclass(frozen=True)
class Outcome:
    mitigate_s: float | None  # the team's, as measured
    target_s: float | None  # the drill's mitigate_s
    failed_requests: int
    total_requests: int
    curve: Curve
    variants: tuple[Variant, ...]

    @classmethod
    def of(cls, card: Scorecard, variants: tuple[Variant, ...]) -> Outcome:
        mitigate = card.phase("mitigate")
        return cls(mitigate.seconds_from_fault, mitigate.target_s, card.impact.failed_requests,
                   card.impact.total_requests, curve_of(card), variants)

    def spared(self, variant: Variant) -> int:
        """Failed requests the variant's response would have spared (negative: it failed more)."""
        return self.failed_requests - variant.failed_requests

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Outcome:
        variants = tuple(Variant(**{**v, "steps": tuple(v["steps"]), "curve": _curve(v["curve"])})
                         for v in raw["variants"])
        return cls(raw["mitigate_s"], raw["target_s"], raw["failed_requests"], raw["total_requests"],
                   _curve(raw["curve"]), variants)


def load_outcome(run_dir: Path) -> Outcome | None:
    path = run_dir / COUNTERFACTUAL_NAME
    if not path.is_file():
        return None
    return Outcome.from_dict(json.loads(path.read_text(encoding="utf-8")))


def curve_of(card: Scorecard) -> Curve:
    """Failed requests per second from the fault to a little after the incident's end."""
    if card.fault_t_s is None:
        return ()
    end = card.impact.end_t_s if card.impact.end_t_s is not None else float("inf")
    return tuple((round(w.start_t_s - card.fault_t_s, 3), w.failures) for w in card.series
                 if card.fault_t_s - 1 < w.start_t_s <= end + CURVE_AFTER_S)


def sentences(outcome: Outcome) -> list[str]:
    """One sentence per variant: what its response would have spared, measured by playing it."""
    return [_sentence(outcome, variant) for variant in outcome.variants]


def _sentence(outcome: Outcome, variant: Variant) -> str:
    spared = outcome.spared(variant)
    of = f"of the {outcome.failed_requests} failed requests customers met"
    effect = (f"would have spared {spared} {of}" if spared > 0 else
              f"would have failed {-spared} more requests than the {outcome.failed_requests} customers met"
              if spared < 0 else f"would have spared none {of}")
    replay = f"the replay restored service at {_at(variant.mitigate_s)} with {variant.failed_requests} failed"
    if variant.name == "target":
        team = _at(outcome.mitigate_s)
        if outcome.target_s is not None and outcome.mitigate_s is not None and outcome.mitigate_s <= outcome.target_s:
            return (f"The team restored service at {team}, within its target ({secs(outcome.target_s)}): its own "
                    f"actions played again {effect} ({replay}).")
        target = "the target" if outcome.target_s is None else f"the target ({secs(outcome.target_s)})"
        return f"Mitigating at {target} instead of {team} {effect} ({replay})."
    return f"The ground truth's best response ({'; '.join(variant.steps) or 'no action'}) {effect} ({replay})."


def _at(seconds: float | None) -> str:
    return "never" if seconds is None else f"fault + {secs(seconds)}"


def markdown_lines(outcome: Outcome) -> list[str]:
    lines = ["## What the delay cost", "",
             "Measured by playing the drill again on a fresh stack, same scenario, load and injection moment, "
             "once per response below (`gamedrill scorecard counterfactual`); one replay each.", ""]
    lines += [f"- {sentence}" for sentence in sentences(outcome)]
    lines += ["", "| response | restored | failed requests | spared | replay |", "|---|---|---|---|---|",
              f"| the team's | {_at(outcome.mitigate_s)} | {outcome.failed_requests} | — | this run |"]
    lines += [f"| {LABELS.get(v.name, v.name)} | {_at(v.mitigate_s)} | {v.failed_requests} | {outcome.spared(v)} | "
              f"`{v.run_dir}` |" for v in outcome.variants]
    return [*lines, ""]


LABELS: Final = {"target": "the team's actions at the target", "ideal": "the ground truth's best response"}
COLOURS: Final = {"team": "#c62828", "target": "#1565c0", "ideal": "#2e7d32"}


def chart_series(outcome: Outcome) -> Sequence[tuple[str, str, Curve]]:
    """(label, colour, curve) for each run, the team's first: one chart holds them all."""
    return [("the team's response", COLOURS["team"], outcome.curve),
            *((LABELS.get(v.name, v.name), COLOURS.get(v.name, "#757575"), v.curve) for v in outcome.variants)]


def _curve(raw: Sequence[Sequence[float]]) -> Curve:
    return tuple((float(t), int(n)) for t, n in raw)
