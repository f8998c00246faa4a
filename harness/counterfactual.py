"""What the delay cost: a finished run played again, for real, with a different response.

`gamedrill scorecard counterfactual RUN` plays the run's drill again on a fresh stack with
the same scenario, load and injection moment, twice:

- **target**: the team's own response (its acknowledgement, declaration, roles, updates,
  suspects, scope and actions: what it ran, on which nodes, in its order and spacing) moved
  earlier so the restoration lands at the drill's `mitigate_s`: every step's time from the
  fault is scaled by target / measured mitigation;
- **ideal**: the ground truth's best response: acknowledged and declared at the alert, then
  every action of `truth.fixes` on every node (none if the fault heals by itself).

The game master's rules stay: they react to the replayed team as they did to the real one
(a slow acknowledgement that made it worse, a follow-on fault after an early fix).

Each variant is a real drill (its runbook is the only change), kept under
`RUN/counterfactual/`, with a history of its own so it never counts as a drill of the team.
The figures (failed requests over the incident, the curve per second) go to
`RUN/counterfactual.json`; the scorecard shows them (scorecards.counterfactual).

The resolution is the one step not moved: each replay resolves once its service is back.
Answers to stakeholders are not replayed (they change nothing customers meet).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from harness.errors import GamedrillError
from harness.runner import RunOptions, prepare_run
from harness.spec import Drill, load_drill
from harness.spec_steps import STEP_MODELS, Ack, Act, Declare, Pause, Resolve, Step, WaitFor
from harness.timeline import Event, read_journal
from scorecards import build_from_run_dir, build_scorecard
from scorecards.counterfactual import COUNTERFACTUAL_NAME, Outcome, Variant
from scorecards.model import Scorecard

log = logging.getLogger(__name__)

VARIANTS: Final = ("target", "ideal")
SUBDIR: Final = "counterfactual"
ATTEMPTS: Final = 2  # a busy machine can fail the steady-state check: that replay never injected
MIN_PAUSE_S: Final = 0.05  # steps closer than this run back to back


class CounterfactualError(GamedrillError):
    """The run cannot be played again: no fault, no drill file, no target to move to..."""


class ReplayNotInjected(GamedrillError):
    """A replay's stack was never healthy enough to inject its fault."""


@dataclass(frozen=True)
class TeamStep:
    at_s: float  # seconds from the fault, in the drill's own (uncompressed) time
    step: Step


@dataclass(frozen=True)
class Original:
    """What the counterfactual needs of the run that happened."""

    run_dir: Path
    drill: Drill
    card: Scorecard
    inject_after_s: float  # the injection's delay after the baseline, as it was drawn
    alert_s: float | None  # first alert, seconds from the fault (drill time)
    steps: tuple[TeamStep, ...]  # the team's, in journal order
    commander: str
    severity: int  # as the team declared it, else the measured one

    @property
    def actions(self) -> tuple[TeamStep, ...]:
        return tuple(s for s in self.steps if isinstance(s.step, Act))


REPLAYED: Final = ("ack", "declare", "role", "update", "note", "suspect", "scope", "act", "escalate")


def read_original(run_dir: Path, drill: Drill | None = None) -> Original:
    """The run as it happened; its drill as given (the pytest plugin's, with its overrides),
    else loaded again from the file run.planned names."""
    events = read_journal(run_dir / "journal.jsonl")
    planned = _first(events, "run.planned")
    if planned is None:
        raise CounterfactualError(f"{run_dir}: the journal has no plan (run.planned) to play again")
    if drill is None:
        drill = _drill_of(run_dir, planned)
    fault, baseline = _first(events, "fault.injected"), _first(events, "baseline.recorded")
    if fault is None or baseline is None:
        raise CounterfactualError(f"{run_dir}: no fault was injected: there is no delay to cost")
    card = build_scorecard(events)  # the events already read: the journal is not read twice
    if not card.complete:
        raise CounterfactualError(f"{run_dir}: the run never finished: its impact is not known")
    k = float(planned.data.get("time_compression") or 1.0)  # journal seconds -> drill seconds
    after = [e for e in events if e.seq > fault.seq]
    alert = next((e for e in after if e.kind == "alert.fired"), None)
    nodes = tuple(planned.data.get("nodes") or ())
    steps = tuple(TeamStep(round((e.t_s - fault.t_s) * k, 3), step) for e in after
                  if (step := _as_step(e, nodes)) is not None)
    commander = drill.team.roles.get("commander") or drill.team.members[0]
    severity = card.severity.declared or card.severity.measured or 2
    return Original(run_dir, drill, card, round(max(0.0, fault.t_s - baseline.t_s) * k, 3),
                    None if alert is None else round((alert.t_s - fault.t_s) * k, 3), steps, commander, severity)


def _drill_of(run_dir: Path, planned: Event) -> Drill:
    if not planned.data.get("drill_file"):
        raise CounterfactualError(f"{run_dir}: the journal names no drill file to play again")
    drill_file = Path(str(planned.data["drill_file"]))
    if not drill_file.is_file():
        raise CounterfactualError(f"{run_dir}: its drill file {drill_file} is gone")
    return load_drill(drill_file)


def _as_step(event: Event, nodes: tuple[str, ...]) -> Step | None:
    """The runbook step that does again what `event` journaled; None for what is not replayed
    or no longer valid (an act on a node that is none was refused: it changed nothing)."""
    name = event.kind.removeprefix("team.")
    if not event.kind.startswith("team.") or name not in REPLAYED:
        return None
    model = STEP_MODELS[name]
    fields = {key: value for key, value in event.data.items() if key in model.model_fields and value is not None}
    try:
        step = model.model_validate(fields)
    except ValidationError:
        log.info("not replayed: %s (seq %d) is not a valid %s step", event.kind, event.seq, name)
        return None
    if isinstance(step, Act) and step.canary is not None and step.canary not in nodes:
        return None
    return step


def target_runbook(original: Original) -> tuple[Step, ...]:
    """The team's own steps, every time from the fault scaled so restoration lands at mitigate_s."""
    target = original.drill.targets.mitigate_s
    if target is None:
        raise CounterfactualError("the drill has no mitigate_s target to move the team's actions to")
    if not original.actions:
        raise CounterfactualError("the team ran no action: there is nothing to move earlier")
    measured = original.card.phase("mitigate").seconds_from_fault
    # Restored: scaled so the restoration would come at the target. Never restored: so the last
    # action comes at it (what the team ran, only sooner; it may still not heal).
    reference = measured if measured is not None else max(a.at_s for a in original.actions)
    scale = min(1.0, target / reference) if reference > 0 else 1.0
    return _runbook(original, [TeamStep(s.at_s * scale, s.step) for s in original.steps])


def ideal_runbook(original: Original) -> tuple[Step, ...]:
    """Acknowledged and declared at the alert, then every fix of the ground truth on every node."""
    at, who = original.alert_s or 0.0, original.commander
    opening: list[Step] = [Ack(by=who), Declare(severity=original.severity, commander=who)]
    fixes = [Act(by=who, action=action) for action in original.drill.scenario.truth.fixes]
    return _runbook(original, [TeamStep(at, step) for step in (*opening, *fixes)])


RUNBOOKS: Final[dict[str, Callable[[Original], tuple[Step, ...]]]] = {"target": target_runbook, "ideal": ideal_runbook}


def _runbook(original: Original, steps: Sequence[TeamStep]) -> tuple[Step, ...]:
    """Wait for the alert (a runbook sees no fault), then each step at its time from the fault;
    resolve once service is back."""
    limit_s = original.drill.duration_limit_s
    runbook: list[Step] = [WaitFor(event="alert", timeout_s=limit_s)]
    now_s = original.alert_s or 0.0
    for team_step in sorted(steps, key=lambda s: s.at_s):  # stable: the journal's order among equals
        wait = team_step.at_s - now_s
        if wait >= MIN_PAUSE_S:
            runbook.append(Pause(seconds=round(wait, 3)))
            now_s = team_step.at_s
        runbook.append(team_step.step)
    runbook += [WaitFor(event="restored", timeout_s=limit_s), Resolve(by=original.commander)]
    return tuple(runbook)


def play(original: Original, variant: str, out_dir: Path) -> Variant:
    """The drill again with the variant's runbook, for real; its figures."""
    runbook = RUNBOOKS[variant](original)
    drill = original.drill.model_copy(update={
        "name": f"{original.drill.name}-counterfactual-{variant}"[:64], "responder": runbook,
        "inject_after_s": original.inject_after_s, "surprise_window_s": None})
    runs_dir = out_dir / variant
    for attempt in range(1, ATTEMPTS + 1):
        options = RunOptions(runs_dir=runs_dir, autopilot=True, history=out_dir / "history.sqlite")
        result = prepare_run(drill, options).execute()
        card = build_from_run_dir(result.run_dir)
        if card.outcome != "not_injected":
            return Variant.of(variant, card, result.run_dir.relative_to(original.run_dir), _steps_shown(runbook))
        log.warning("%s replay %d of %d was not injected (%s); playing it again", variant, attempt, ATTEMPTS,
                    result.reason)
    raise ReplayNotInjected(f"the {variant} replay never injected its fault in {ATTEMPTS} attempts "
                            "(the stack was not healthy first: is the machine busy?)")


def counterfactual(run_dir: Path, variants: Sequence[str] = VARIANTS,
                   progress: Callable[[str], None] = lambda _: None, drill: Drill | None = None) -> Outcome:
    """Play every variant and write RUN/counterfactual.json; the scorecard files are rewritten by the caller.
    `drill`: the run's drill as it was played (None: loaded from the file the journal names)."""
    original = read_original(run_dir, drill)
    for variant in variants:  # refuse before playing anything
        RUNBOOKS[variant](original)
    out_dir = run_dir / SUBDIR
    played = []
    for variant in variants:
        progress(f"playing the {variant} response again on a fresh stack...")
        played.append(play(original, variant, out_dir))
    outcome = Outcome.of(original.card, tuple(played))
    (run_dir / COUNTERFACTUAL_NAME).write_text(json.dumps(outcome.to_dict(), indent=2) + "\n")
    return outcome


def _first(events: Sequence[Event], kind: str) -> Event | None:
    return next((e for e in events if e.kind == kind), None)


def _steps_shown(runbook: Sequence[Step]) -> tuple[str, ...]:
    """The actions and the waits between steps, in words (the other steps go without saying)."""
    shown = []
    for step in runbook:
        if isinstance(step, Act):
            shown.append(f"act {step.action}" + (f" on {step.canary}" if step.canary else " everywhere"))
        elif isinstance(step, Pause):
            shown.append(f"pause {step.seconds:g} s")
    return tuple(shown)
