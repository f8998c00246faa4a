"""The game master's part of a drill: adaptive injects and simulated stakeholders.

    stakeholders:
      - {name: support-lead, title: "Head of customer support"}
    injects:
      - name: silent-team
        when: {no_update_for_s: 30}          # one condition
        then:                                # one or more effects
          - ask: {stakeholder: support-lead, text: "When is the next update?"}
        repeat: true                         # fire again each time it holds anew

Conditions (exactly one per rule), times in drill seconds:
  at_s              this long after the injection began (a timed question)
  no_ack_for_s      this long after the first alert with no acknowledgement
  no_declare_for_s  this long after the first alert with no declaration
  no_update_for_s   this long after the first alert, or the last update, with no update
  relapse: true     the SLO is breached again after a restoration
  fixed_before_s    the service was restored less than this long after the injection
  action            the team ran this toolkit action (`without_canary: true`: on every node at once)

Effects (one key each):
  ask: {stakeholder, text}   a question posted into the incident room (`gamedrill reply`)
  inject: N                  scenario fault N (it must be `hold: true`): the incident widens, or
                             a follow-on fault after an early fix (with `fixed_before_s`)
  escalate: {fault: N, set}  fault N is reverted and injected again with `set` over its fields
                             (toxic: attributes/toxicity, fd_limit: nofile, cpu_hog: cores)

The cross-file rules (a stakeholder named, a fault index of the scenario) are checked by
`Drill`, whose model holds the scenario.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, JsonValue, ValidationError, model_validator

from harness.spec_base import (
    ActionName,
    Fraction,
    Issue,
    PositiveSeconds,
    Slug,
    SpecModel,
    Text,
    duplicates,
    raise_issues,
)
from harness.yamlsrc import FieldPath

CONDITIONS = ("at_s", "no_ack_for_s", "no_declare_for_s", "no_update_for_s", "relapse", "fixed_before_s", "action")
EFFECTS = ("ask", "inject", "escalate")
ESCALATABLE = ("toxic", "fd_limit", "cpu_hog")  # families whose strength is a field; the others are on or off


class Stakeholder(SpecModel):
    name: Slug
    title: Text


class When(SpecModel):
    at_s: PositiveSeconds | None = None
    no_ack_for_s: PositiveSeconds | None = None
    no_declare_for_s: PositiveSeconds | None = None
    no_update_for_s: PositiveSeconds | None = None
    relapse: Literal[True] | None = None
    fixed_before_s: PositiveSeconds | None = None
    action: ActionName | None = None
    without_canary: bool = Field(default=False, strict=True)

    @model_validator(mode="after")
    def _one_condition(self) -> When:
        given = [name for name in CONDITIONS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one condition of {', '.join(CONDITIONS)} "
                             f"(got {', '.join(given) or 'none'})")
        if self.without_canary and self.action is None:
            raise_issues([(("without_canary",), "only with `action`")])
        return self

    @property
    def condition(self) -> str:
        return next(name for name in CONDITIONS if getattr(self, name) is not None)


class Ask(SpecModel):
    stakeholder: Slug
    text: Text


class EscalateFault(SpecModel):
    fault: int = Field(strict=True, ge=0)
    set: dict[str, JsonValue] = Field(min_length=1)


class Effect(SpecModel):
    ask: Ask | None = None
    inject: int | None = Field(default=None, strict=True, ge=0)
    escalate: EscalateFault | None = None

    @model_validator(mode="after")
    def _one_effect(self) -> Effect:
        given = [name for name in EFFECTS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one effect of {', '.join(EFFECTS)} (got {', '.join(given) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in EFFECTS if getattr(self, name) is not None)


class InjectRule(SpecModel):
    name: Slug
    when: When
    then: tuple[Effect, ...] = Field(min_length=1)
    repeat: bool = Field(default=False, strict=True)  # False: fires at most once
    chance: Fraction = 1.0  # drawn from the run's seeded RNG each time the condition holds anew


def escalated(fault: Any, changes: dict[str, Any]) -> Any:
    """The fault with `changes` over its fields, validated as a scenario fault (ValueError if not)."""
    if fault.type not in ESCALATABLE:
        raise ValueError(f"a {fault.type} fault has no strength to raise (escalatable: {', '.join(ESCALATABLE)})")
    if "type" in changes:
        raise ValueError("`set` cannot change the fault's type")
    merged = {**fault.model_dump(mode="json", exclude_unset=True), "type": fault.type}
    for key, value in changes.items():
        old = merged.get(key)
        merged[key] = {**old, **value} if isinstance(old, dict) and isinstance(value, dict) else value
    return type(fault).model_validate(merged)


def inject_issues(rules: tuple[InjectRule, ...], stakeholders: tuple[Stakeholder, ...],
                  faults: tuple[Any, ...]) -> list[Issue]:
    """What a drill's injects name that its stakeholders or its scenario's faults do not have."""
    names = [s.name for s in stakeholders]
    issues: list[Issue] = [(("stakeholders", i, "name"), "duplicate stakeholder") for i in duplicates(tuple(names))]
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.name in seen:
            issues.append((("injects", i, "name"), f"duplicate rule name {rule.name!r}"))
        seen.add(rule.name)
        for j, effect in enumerate(rule.then):
            issues += _effect_issues(("injects", i, "then", j), effect, names, faults)
    return issues


def _effect_issues(at: FieldPath, effect: Effect, names: list[str], faults: tuple[Any, ...]) -> list[Issue]:
    no_fault = f"is not a fault of the scenario (it has {len(faults)}: 0 to {len(faults) - 1})"
    if effect.ask is not None and effect.ask.stakeholder not in names:
        return [((*at, "ask", "stakeholder"), f"{effect.ask.stakeholder!r} is not a stakeholder of the drill "
                 f"({', '.join(names) or 'none defined: add `stakeholders:`'})")]
    if effect.inject is not None:
        if effect.inject >= len(faults):
            return [((*at, "inject"), f"{effect.inject} {no_fault}")]
        if not faults[effect.inject].hold:
            return [((*at, "inject"), f"fault {effect.inject} comes on the schedule: give it `hold: true` "
                     "in the scenario to keep it for an inject")]
    if effect.escalate is not None:
        index = effect.escalate.fault
        if index >= len(faults):
            return [((*at, "escalate", "fault"), f"{index} {no_fault}")]
        try:
            escalated(faults[index], effect.escalate.set)
        except ValidationError as exc:
            return [((*at, "escalate", "set", *error["loc"]), error["msg"]) for error in exc.errors()]
        except ValueError as exc:
            return [((*at, "escalate", "set"), str(exc))]
    return []
