"""The scenario file: what breaks, what the change log shows, the ground truth, the rules.

A new fault type is a new model with a `type: Literal[...]` field, added to `Fault`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, JsonValue, PlainValidator, ValidationInfo, field_validator, model_validator

from harness.errors import shown
from harness.proxy.toxics import REGISTRY, ValidatedToxic, wire_fields
from harness.proxy.wire import INT_BOUND, MAX_TTL_S
from harness.spec_base import (
    CONTROL_PLANE,
    DEFAULT_COMPOSE_FILE,
    TOOLKIT_ACTIONS,
    ActionName,
    Fraction,
    Issue,
    NodeName,
    PositiveSeconds,
    Seconds,
    Slug,
    SpecModel,
    Text,
    Version,
    duplicates,
    raise_issues,
    resolve_path,
)
from harness.stack.compose import NR_OPEN

ChangeKind = Literal["deploy", "config_push", "script_push"]
Metric = Literal["error_rate", "p99_ms", "p50_ms", "failed_requests"]
SchemaVersion = Annotated[int, Field(strict=True, ge=1)]
# A lease longer than an hour is a mistake; the fault proxy takes up to MAX_TTL_S, the control plane any.
MAX_LEASE_S = min(3600.0, MAX_TTL_S)
MAX_BACKDATE_S = 10 * 365 * 24 * 3600
MAX_NOFILE = NR_OPEN  # no process may hold more descriptors


# ---- artifacts the control plane versions ------------------------------------------------


class Release(SpecModel):
    change_kind: ClassVar[ChangeKind] = "deploy"
    kind: Literal["release"]
    version: Version
    flags: dict[str, JsonValue] = Field(default_factory=dict)
    # The config schemas the release's code reads: one, or several (new code that still
    # reads the old config, which is what makes a release safe to roll forward).
    supported_schema: SchemaVersion | Annotated[tuple[SchemaVersion, ...], Field(min_length=1)]


class Config(SpecModel):
    change_kind: ClassVar[ChangeKind] = "config_push"
    kind: Literal["config"]
    version: Version
    schema_version: int = Field(strict=True, ge=1)
    data: dict[str, JsonValue] = Field(default_factory=dict)


class Script(SpecModel):
    change_kind: ClassVar[ChangeKind] = "script_push"
    kind: Literal["script"]
    version: Version
    source: str

    @field_validator("source")
    @classmethod
    def _defines_adjust(cls, source: str) -> str:
        # Parse only: a script may loop at import, so it is never executed here.
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise ValueError(f"SyntaxError: {exc.msg} (line {exc.lineno} of the script)") from None
        except (RecursionError, MemoryError):
            raise ValueError("the script's expressions are nested too deeply to parse") from None
        except ValueError as exc:  # a NUL byte in the source
            raise ValueError(f"the script cannot be parsed: {exc}") from None
        if not any(isinstance(node, ast.FunctionDef) and node.name == "adjust" for node in tree.body):
            raise ValueError("the script must define adjust(product, request)")
        return source


Artifact = Annotated[Release | Config | Script, Field(discriminator="kind")]


class Rollout(SpecModel):
    """One push through the control plane, as `POST /v1/rollouts` takes it."""

    artifact: Artifact
    canary: NodeName | None = None
    bake_s: Seconds | None = None  # None: the control plane's default bake
    author: Text
    description: str = ""
    # Logged this long ago: a latent change, outside the recent window.
    backdate_s: float = Field(default=0.0, strict=True, ge=0, le=MAX_BACKDATE_S)

    @property
    def change(self) -> ChangeRef:
        """How this push appears in the change log."""
        return ChangeRef(kind=self.artifact.change_kind, version=self.artifact.version)


class DecoyChange(Rollout):
    """A harmless change in the change log, pushed `before_fault_s` before the fault."""

    before_fault_s: Seconds


# ---- faults ------------------------------------------------------------------------------


class FaultBase(SpecModel):
    at_s: Seconds = 0.0  # offset from the start of injection
    duration_s: PositiveSeconds | None = None  # reverted this long after it came (None: at the end)
    # A dead harness's fault is undone, and the shop healthy, within ttl_s (harness.faults.base.held_lease_s).
    ttl_s: float = Field(default=30.0, strict=True, ge=6.0, le=MAX_LEASE_S)
    # Kept off the schedule for a drill's inject to bring in (harness.spec_injects): `at_s` does not apply.
    hold: bool = Field(default=False, strict=True)


class RolloutFault(FaultBase, Rollout):
    """A bad artifact pushed through the control plane: the change *is* the fault."""

    type: Literal["rollout"]


def _known_toxic(name: str) -> str:
    if name not in REGISTRY:  # the fault proxy's own toxics: what it can run is what a scenario may ask
        raise ValueError(f"unknown toxic {name!r}; toxics: {', '.join(sorted(REGISTRY))}")
    return name


def _toxic_integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -INT_BOUND <= value < INT_BOUND:
        raise ValueError(f"{shown(value)} is not a 64-bit integer (Toxiproxy's attributes are whole numbers)")
    return value


class ToxicFault(FaultBase):
    """A Toxiproxy toxic on a link of the fault proxy (`attributes` as Toxiproxy names them)."""

    type: Literal["toxic"]
    proxy: Slug = "inventory"
    toxic: Annotated[str, AfterValidator(_known_toxic)]
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: Fraction = 1.0
    attributes: dict[str, Annotated[int, PlainValidator(_toxic_integer)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _attributes_of_the_toxic(self) -> ToxicFault:
        """The names the proxy reads (it ignores others), with values it accepts at inject time."""
        toxic_class = REGISTRY[self.toxic]
        names = {f.metadata["wire"]: f.name for f in wire_fields(toxic_class)}
        issues: list[Issue] = [(("attributes", key), f"{self.toxic} has no attribute {key!r} "
                                f"(its attributes: {', '.join(names) or 'none'})")
                               for key in self.attributes if key not in names]
        toxic = None if issues else toxic_class(**{names[k]: v for k, v in self.attributes.items()})
        if isinstance(toxic, ValidatedToxic):
            try:
                toxic.validate()
            except ValueError as exc:
                key, _, message = str(exc).partition(": ")
                issues.append((("attributes", key), message) if key in self.attributes else
                              (("attributes",), str(exc)))
        raise_issues(issues)
        return self


class LinkDownFault(FaultBase):
    """The link is cut: the fault proxy stops listening and drops its connections."""

    type: Literal["link_down"]
    proxy: Slug = "inventory"


class SignalFault(FaultBase):
    """A signal to a service's processes: every process, or its workers only."""

    type: Literal["signal"]
    service: Slug
    signal: Literal["SIGKILL", "SIGTERM", "SIGHUP", "SIGINT"] = "SIGKILL"  # SIGSTOP: the `pause` fault
    workers_only: bool = False


class RestartFault(FaultBase):
    """The service is stopped and started again (its stop signal, its grace period) under load."""

    type: Literal["restart"]
    service: Slug


class PauseFault(FaultBase):
    """The service freezes (SIGSTOP) until reverted (SIGCONT): a GC pause, a stuck VM."""

    type: Literal["pause"]
    service: Slug


class FdLimitFault(FaultBase):
    """RLIMIT_NOFILE lowered on the live processes of a service (prlimit)."""

    type: Literal["fd_limit"]
    service: Slug
    nofile: int = Field(strict=True, ge=3, le=MAX_NOFILE)  # at or below what a process holds: no new descriptor at all


class CpuHogFault(FaultBase):
    """Busy processes competing with the stack for the CPU."""

    type: Literal["cpu_hog"]
    cores: int = Field(default=1, strict=True, ge=1, le=16)
    # docker: the container the hogs run in (default: the first node); local: host processes
    service: Slug | None = None


Fault = Annotated[RolloutFault | ToxicFault | LinkDownFault | SignalFault | RestartFault | PauseFault
                  | FdLimitFault | CpuHogFault, Field(discriminator="type")]


# ---- ground truth, alerts, limits --------------------------------------------------------


class ChangeRef(SpecModel):
    """A change-log identity (`script_push v2`), or `none: true` for a fault with no change."""

    kind: ChangeKind | None = None
    version: Version | None = None
    none: bool = Field(default=False, strict=True)

    @model_validator(mode="after")
    def _either_change_or_none(self) -> ChangeRef:
        if self.none:
            raise_issues([((key,), "must be absent with `none: true`")
                          for key in ("kind", "version") if getattr(self, key) is not None])
        else:
            raise_issues([((key,), "required unless `none: true`")
                          for key in ("kind", "version") if getattr(self, key) is None])
        return self

    def __str__(self) -> str:
        return "none" if self.none else f"{self.kind} {self.version}"


class Truth(SpecModel):
    trigger: ChangeRef
    affected_nodes: tuple[NodeName, ...] = Field(min_length=1)
    fixes: tuple[ActionName, ...] = ()  # actions that heal (none: it heals when the fault ends)
    masks: tuple[ActionName, ...] = ()  # actions that only relieve the symptoms
    worsens: tuple[ActionName, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> Truth:
        issues: list[Issue] = []
        lists = {"fixes": self.fixes, "masks": self.masks, "worsens": self.worsens}
        for name, actions in lists.items():
            for other, other_actions in lists.items():
                if other < name:
                    issues += [((name, i), f"{action!r} is also listed under {other}")
                               for i, action in enumerate(actions) if action in other_actions]
        raise_issues(issues)
        return self


class AlertRule(SpecModel):
    """Either the harness's own rule (`metric`, `op`, `threshold`, evaluated on the load's
    requests) or a `promql` expression, evaluated by a real Prometheus and received from
    Alertmanager (see harness.observability): both journal `alert.fired` the same way."""

    name: Slug
    metric: Metric | None = None
    op: Literal[">", "<"] | None = None
    threshold: float | None = Field(default=None, strict=True, ge=0)  # in the metric's unit: fraction, ms or count
    promql: Text | None = None  # an alerting rule's `expr`: it fires while it returns any series
    for_s: Seconds = 0.0
    scope: Literal["all", "per_node"] = "all"  # of a `metric` rule; a `promql` rule's labels say the node

    @model_validator(mode="after")
    def _one_kind(self) -> AlertRule:
        if self.promql is not None:
            raise_issues([((key,), "must be absent with `promql` (Prometheus evaluates the expression)")
                          for key in ("metric", "op", "threshold") if getattr(self, key) is not None])
            return self
        raise_issues([((key,), "required (or give `promql` instead)")
                      for key in ("metric", "op", "threshold") if getattr(self, key) is None])
        if self.metric == "error_rate" and self.threshold is not None and self.threshold > 1:
            raise_issues([(("threshold",), f"an error rate is a fraction from 0 to 1, not {self.threshold}")])
        return self

    def describe(self) -> str:
        what = f"promql `{self.promql}`" if self.promql else f"{self.metric} {self.op} {self.threshold:g}"
        return f"{what} for {self.for_s:g} s" + ("" if self.promql else f" ({self.scope})")


class HealthWindow(SpecModel):
    """Healthy = at most this error rate and p99 latency, sustained over `window_s`."""

    max_error_rate: Fraction
    max_p99_ms: float = Field(strict=True, gt=0)
    window_s: PositiveSeconds


class Safety(SpecModel):
    max_duration_s: PositiveSeconds
    max_error_budget_burn: float = Field(strict=True, gt=0, le=1)  # failed/all requests over the drill
    steady_state: HealthWindow  # checked before injecting; unhealthy -> no injection


class Stack(SpecModel):
    """Which services of the compose file play which part (the defaults: the sample shop)."""

    compose_file: Path = DEFAULT_COMPOSE_FILE  # relative to the scenario file
    entry: Slug = "lb"  # the service taking customer traffic
    nodes: tuple[NodeName, ...] = Field(default=("web-1", "web-2", "web-3"), min_length=1)
    # The services speaking the sample shop's control-plane and lb admin APIs; null for a
    # stack without them (then rollouts, decoy changes and lb isolation are not available).
    control_plane: Slug | None = "config"
    balancer: Slug | None = "lb"
    probe_path: str = Field(default="/product/sku-001", pattern=r"^/[!-~]*$")  # GET on each node; < 500 is up
    # Prometheus /metrics paths to scrape besides the role services' `/metrics` (see harness.observability).
    metrics: dict[Slug, Annotated[str, Field(pattern=r"^/[!-~]*$")]] = Field(default_factory=dict)

    @field_validator("compose_file")
    @classmethod
    def _relative_to_scenario(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_path(value, info)

    def cannot_run(self, action: str) -> str | None:
        """Why the toolkit's `action` cannot work on this stack (None: it can)."""
        role = TOOLKIT_ACTIONS.get(action)
        if role is None or getattr(self, role) is not None:
            return None
        api = "control-plane" if role == CONTROL_PLANE else "lb admin"
        return f"{action!r} works through the sample shop's {api} API, and stack.{role} is null"


# ---- the scenario ------------------------------------------------------------------------


class Scenario(SpecModel):
    kind: Literal["scenario"]
    name: Slug
    title: Text
    description: str = ""
    stack: Stack = Field(default_factory=Stack)
    changes: tuple[DecoyChange, ...] = ()
    faults: tuple[Fault, ...] = Field(min_length=1)
    truth: Truth
    alerts: tuple[AlertRule, ...] = Field(min_length=1)
    restoration: HealthWindow
    safety: Safety

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        raise_issues(self._stack_issues() + self._node_issues() + self._change_issues()
                     + [(("alerts", i, "name"), "duplicate alert name")
                        for i in duplicates(tuple(a.name for a in self.alerts))])
        return self

    def _stack_issues(self) -> list[Issue]:
        """What a stack without the shop's control plane or lb cannot do."""
        issues: list[Issue] = []
        if self.stack.control_plane is None:
            needs = "needs the stack's control plane, and stack.control_plane is null"
            issues += [(("faults", i, "type"), f"a rollout {needs}")
                       for i, f in enumerate(self.faults) if isinstance(f, RolloutFault)]
            issues += [(("changes", i), f"a decoy change {needs}") for i in range(len(self.changes))]
        lists = {"fixes": self.truth.fixes, "masks": self.truth.masks, "worsens": self.truth.worsens}
        issues += [(("truth", section, i), message) for section, actions in lists.items()
                   for i, action in enumerate(actions) if (message := self.stack.cannot_run(action))]
        return issues

    def _node_issues(self) -> list[Issue]:
        known = ", ".join(self.stack.nodes)
        issues: list[Issue] = [(("stack", "entry"), "the entry service cannot also be a node")
                               ] if self.stack.entry in self.stack.nodes else []
        issues += [(("stack", "nodes", i), "duplicate node") for i in duplicates(self.stack.nodes)]
        issues += [(("truth", "affected_nodes", i), f"{node!r} is not a node of the stack ({known})")
                   for i, node in enumerate(self.truth.affected_nodes) if node not in self.stack.nodes]
        for section, rollouts in self._rollouts().items():
            for i, rollout in rollouts:
                if rollout.canary is not None and rollout.canary not in self.stack.nodes:
                    issues.append(((section, i, "canary"), f"{rollout.canary!r} is not a node ({known})"))
                if rollout.canary is None and rollout.bake_s is not None:
                    issues.append(((section, i, "bake_s"), "a bake time needs a canary node"))
        return issues

    def _change_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        seen: set[str] = set()
        for section, rollouts in self._rollouts().items():
            for i, rollout in rollouts:
                identity = str(rollout.change)
                if identity in seen:  # the control plane refuses a version twice (409)
                    issues.append(((section, i, "artifact", "version"), f"{rollout.change} is pushed twice"))
                seen.add(identity)
        trigger = self.truth.trigger
        pushed_by_faults = {str(f.change) for f in self.faults if isinstance(f, Rollout)}
        if not trigger.none and str(trigger) not in pushed_by_faults:
            pushed = ", ".join(sorted(pushed_by_faults)) or "nothing"
            issues.append((("truth", "trigger"), f"no fault pushes {trigger} (faults push: {pushed})"))
        return issues

    def _rollouts(self) -> dict[str, list[tuple[int, Rollout]]]:
        return {"changes": list(enumerate(self.changes)),
                "faults": [(i, f) for i, f in enumerate(self.faults) if isinstance(f, Rollout)]}
