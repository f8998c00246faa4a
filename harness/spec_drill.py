"""The drill file: one game day or regression case built on a scenario.

In the file, `scenario` is a path relative to the drill; `load_drill` loads that file and
the model holds the loaded `Scenario`, so cross-file rules (a canary must be a node of the
scenario's stack) are checked here.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from harness.spec_base import (
    Issue,
    Person,
    PositiveSeconds,
    Seconds,
    Slug,
    SpecModel,
    Text,
    duplicates,
    raise_issues,
    resolve_path,
)
from harness.spec_injects import InjectRule, Stakeholder, inject_issues
from harness.spec_scenario import Scenario
from harness.spec_steps import Act, ResponderStep, Role


class ShopMix(SpecModel):
    """Relative weights of the shop user's tasks."""

    browse: float = Field(default=3.0, strict=True, ge=0)
    product: float = Field(default=6.0, strict=True, ge=0)
    checkout: float = Field(default=1.0, strict=True, ge=0)

    @model_validator(mode="after")
    def _some_traffic(self) -> ShopMix:
        if self.browse + self.product + self.checkout == 0:
            raise ValueError("at least one weight must be above 0")
        return self


# A game day can last the afternoon, never longer: past this a drill is a forgotten drill
# (its faults, leases and load still running) rather than a long one.
MAX_DRILL_DURATION_S = 12 * 3600

MAX_USERS = 10_000  # requests in flight at once in one Locust process
MAX_RATE_PER_S = 10_000.0
MAX_RAMP_S = 60.0
DEFAULT_RAMP_S = 2.0


class Load(SpecModel):
    """Open-loop customer load: arrivals on a schedule, whatever the stack answers (see
    harness.load_schedule). `users` is only a floor for the requests allowed in flight at
    once; the harness always allows every arrival of one request timeout."""

    users: int | None = Field(default=None, strict=True, ge=1, le=MAX_USERS)
    rate_per_s: float = Field(strict=True, gt=0, le=MAX_RATE_PER_S)  # arrivals per second, once ramped up
    arrivals: Literal["constant", "poisson"] = "constant"  # evenly spaced, or a Poisson process
    # From 0 to rate_per_s, linearly; None: DEFAULT_RAMP_S, or half the baseline when that is shorter.
    ramp_s: float | None = Field(default=None, strict=True, ge=0, le=MAX_RAMP_S)
    mix: ShopMix = Field(default_factory=ShopMix)  # the sample shop's user
    # Any other stack: GETs of these paths, by weight (then `mix` does not apply).
    paths: dict[str, float] | None = None

    @field_validator("paths")
    @classmethod
    def _paths(cls, paths: dict[str, float] | None) -> dict[str, float] | None:
        if paths is None:
            return None
        if not paths:
            raise ValueError("give at least one path, or leave `paths` out for the shop's user")
        for path, weight in paths.items():
            if not path.startswith("/") or any(c.isspace() for c in path):
                raise ValueError(f"{path!r} is not a URL path (it starts with / and has no spaces)")
            if not weight > 0:
                raise ValueError(f"the weight of {path!r} must be above 0, got {weight!r}")
        return paths

    @model_validator(mode="after")
    def _one_profile(self) -> Load:
        if self.paths is not None and "mix" in self.model_fields_set:
            raise ValueError("give `mix` (the shop's user) or `paths` (any stack), not both")
        return self


class Team(SpecModel):
    members: tuple[Person, ...] = Field(min_length=1)
    roles: dict[Role, Person] = Field(default_factory=dict)  # who is expected to hold each role

    @model_validator(mode="after")
    def _roles_held_by_members(self) -> Team:
        issues: list[Issue] = [(("members", i), "duplicate member") for i in duplicates(self.members)]
        issues += [(("roles", role), f"{who!r} is not a team member ({', '.join(self.members)})")
                   for role, who in self.roles.items() if who not in self.members]
        raise_issues(issues)
        return self


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class Webhook(SpecModel):
    """Where pages go: a Slack-compatible incoming webhook, or any receiver of plain JSON."""

    url: str
    format: Literal["slack", "json"] = "json"
    events: tuple[Literal["alert", "declare"], ...] = Field(default=("alert", "declare"), min_length=1)

    @field_validator("url")
    @classmethod
    def _loopback_http(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        if parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"{parts.hostname!r}: pages go to loopback only ({', '.join(LOOPBACK_HOSTS)}); "
                             "run a relay there to reach a chat service")
        try:
            port = parts.port  # urllib refuses a port out of range or not a number only when asked
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError(f"{url!r}: the port must be a number from 1 to 65535")
        return url


class Paging(SpecModel):
    webhooks: tuple[Webhook, ...] = ()
    timeout_s: PositiveSeconds = 2.0  # per delivery; a slow receiver never holds the drill up


class Targets(SpecModel):
    """Per-phase targets in seconds from fault injection (update_every_s: the longest gap)."""

    detect_s: PositiveSeconds | None = None
    ack_s: PositiveSeconds | None = None
    declare_s: PositiveSeconds | None = None
    first_update_s: PositiveSeconds | None = None
    update_every_s: PositiveSeconds | None = None
    mitigate_s: PositiveSeconds | None = None
    resolve_s: PositiveSeconds | None = None
    escalate_s: PositiveSeconds | None = None  # impact clear -> escalated (else the severity policy's)
    reply_s: PositiveSeconds | None = None  # a stakeholder's question -> the team's reply


class Drill(SpecModel):
    kind: Literal["drill"]
    name: Slug
    title: Text
    description: str = ""
    scenario: Scenario
    backend: Literal["local", "docker"] = "local"
    runs_dir: Path | None = None  # relative to the drill file; None: the default runs/
    load: Load
    baseline_s: Seconds
    inject_after_s: Seconds | None = None  # fixed delay after the baseline...
    surprise_window_s: tuple[Seconds, Seconds] | None = None  # ...or a random one in [lo, hi]
    time_compression: float = Field(default=1.0, strict=True, ge=1.0, le=1000.0)  # 2.0: the schedule runs twice as fast
    # Human pace: the scenario's bakes, fault offsets and leak rates stretched this many
    # times, so people can still contain what a runbook contains in seconds (harness/pace.py).
    pace: float = Field(default=1.0, strict=True, ge=1.0, le=100.0)
    team: Team
    targets: Targets = Field(default_factory=Targets)
    # The drill's own limit; None: the scenario's safety.max_duration_s (a default the drill
    # may raise up to MAX_DRILL_DURATION_S, or lower).
    max_duration_s: PositiveSeconds | None = None
    paging: Paging = Field(default_factory=Paging)
    responder: tuple[ResponderStep, ...] = ()  # empty: people play the team
    stakeholders: tuple[Stakeholder, ...] = ()  # simulated personas asking questions (harness.spec_injects)
    injects: tuple[InjectRule, ...] = ()  # the game master's rules over the live drill

    @field_validator("runs_dir")
    @classmethod
    def _relative_to_drill(cls, value: Path, info: ValidationInfo) -> Path:
        resolved = resolve_path(value, info, must_exist=False)
        existing = next((p for p in (resolved, *resolved.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():  # mkdir would fail as the run starts
            what = "is" if existing == resolved else f"is inside {existing}, which is"
            raise ValueError(f"{resolved} {what} not a directory: runs go in a directory (made if missing)")
        return resolved

    @model_validator(mode="after")
    def _consistent(self) -> Drill:
        raise_issues(self._schedule_issues() + self._responder_issues()
                     + inject_issues(self.injects, self.stakeholders, self.scenario.faults))
        return self

    @property
    def duration_limit_s(self) -> float:
        """When the drill stops by itself: its own max_duration_s, else the scenario's."""
        return self.scenario.safety.max_duration_s if self.max_duration_s is None else self.max_duration_s

    @property
    def _limit_field(self) -> tuple[str]:
        """Where the duration limit is written: the drill's max_duration_s, else its scenario's."""
        return ("max_duration_s",) if self.max_duration_s is not None else ("scenario",)

    @property
    def ramp_s(self) -> float:
        """The load's ramp: as given, else DEFAULT_RAMP_S cut to half the baseline."""
        if self.load.ramp_s is not None:
            return self.load.ramp_s
        return min(DEFAULT_RAMP_S, self.baseline_s / 2)

    def inject_delay_s(self, rng: random.Random) -> float:
        """Seconds after the baseline at which to inject (drawn from the window if there is one)."""
        if self.surprise_window_s is not None:
            return rng.uniform(*self.surprise_window_s)
        return self.inject_after_s or 0.0

    def _schedule_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        if self.surprise_window_s is not None:
            lo, hi = self.surprise_window_s
            if self.inject_after_s is not None:
                issues.append((("surprise_window_s",), "give inject_after_s or surprise_window_s, not both"))
            if lo > hi:
                issues.append((("surprise_window_s",), f"the window starts after it ends ([{lo}, {hi}])"))
        if self.duration_limit_s > MAX_DRILL_DURATION_S:
            issues.append((self._limit_field, f"{self.duration_limit_s:g} s is longer than a drill may last "
                                  f"({MAX_DRILL_DURATION_S:g} s, {MAX_DRILL_DURATION_S // 3600} h)"))
        issues += self._late_fault_issues()
        if self.load.ramp_s is not None and self.baseline_s <= self.load.ramp_s:
            issues.append((("baseline_s",), f"must be longer than the load's ramp (load.ramp_s: {self.load.ramp_s:g}): "
                                            "the steady state is checked after the ramp"))
        return issues

    def _late_fault_issues(self) -> list[Issue]:
        """Faults the schedule would bring after the drill has stopped: they would never come."""
        latest_inject_s = self.baseline_s + (self.surprise_window_s[1] if self.surprise_window_s is not None
                                             else self.inject_after_s or 0.0)
        where = self._limit_field
        limit = "max_duration_s" if self.max_duration_s is not None else "the scenario's safety.max_duration_s"
        issues: list[Issue] = []
        for i, fault in enumerate(self.scenario.faults):
            comes_s = latest_inject_s + fault.at_s * self.pace  # the pace stretches fault offsets
            if not fault.hold and comes_s >= self.duration_limit_s:
                paced = f" x pace {self.pace:g}" if self.pace != 1.0 else ""
                issues.append((where, f"the scenario's faults[{i}] ({fault.type}) comes {comes_s:g} s into the drill "
                                      f"(baseline_s, the injection delay, at_s {fault.at_s:g}{paced}), but the drill "
                                      f"stops at {self.duration_limit_s:g} s ({limit}): it would never be injected"))
        return issues

    def _responder_issues(self) -> list[Issue]:
        members, nodes = self.team.members, self.scenario.stack.nodes
        not_member = f"is not a team member ({', '.join(members)})"
        not_node = f"is not a node of the scenario's stack ({', '.join(nodes)})"
        issues: list[Issue] = []
        for i, step in enumerate(self.responder):
            issues += [(("responder", i, step.step, field), f"{who!r} {not_member}")
                       for field, who in step.named_people() if who not in members]
            issues += [(("responder", i, step.step, *where), f"{node!r} {not_node}")
                       for where, node in step.named_nodes() if node not in nodes]
            if isinstance(step, Act) and (cannot := self.scenario.stack.cannot_run(step.action)):
                issues.append((("responder", i, step.step, "action"), cannot))
        return issues
