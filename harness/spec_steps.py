"""Runbook steps of a drill's responder: each a one-key mapping in YAML.

    - wait_for: alert                       # or {event: restored, timeout_s: 60}
    - declare: {severity: 2, commander: alice}
    - act: {by: alice, action: kill-hung-workers, canary: web-1}
    - pause: 3

The key names the step model; the value holds its fields (a scalar fills the step's
`shorthand` field). Pydantic puts the key into error locations, which is exactly the YAML
path (`responder[3].declare.severity`), so errors land on the right line.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Discriminator, Field, JsonValue, Tag, field_validator, model_validator

from harness.spec_base import ActionName, NodeName, Person, PositiveSeconds, SpecModel, Text
from harness.spec_scenario import ChangeKind, ChangeRef
from harness.yamlsrc import FieldPath

Role = Literal["commander", "comms", "scribe", "ops"]
ROLES: tuple[str, ...] = get_args(Role)
# The incident's state on the status page, as a status update sets it (the statuspage.io words).
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
INCIDENT_STATUSES: tuple[str, ...] = get_args(IncidentStatus)
CHANGE_KINDS: tuple[str, ...] = get_args(ChangeKind)
PERSON_FIELDS = ("by", "commander", "who")  # step fields that name a team member


class Step(SpecModel):
    step: ClassVar[str]
    shorthand: ClassVar[str | None] = None  # the field a scalar value fills: `- pause: 5`

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        if isinstance(data, dict) and list(data) == [cls.step]:
            body = data[cls.step]
            if body is None:
                return {}
            if cls.shorthand is not None and not isinstance(body, dict):
                return {cls.shorthand: body}
            return body
        return data

    def named_people(self) -> list[tuple[str, str]]:
        """(field, name) of every team member this step names."""
        named = ((field, getattr(self, field, None)) for field in PERSON_FIELDS)
        return [(field, value) for field, value in named if isinstance(value, str)]

    def named_nodes(self) -> list[tuple[FieldPath, str]]:
        """(path, node) of every stack node this step names."""
        return []


class WaitFor(Step):
    step = "wait_for"
    shorthand = "event"
    event: Literal["alert", "restored"]
    timeout_s: PositiveSeconds | None = None  # None: until the drill ends


class Ack(Step):
    step = "ack"
    shorthand = "by"
    by: Person


class Declare(Step):
    step = "declare"
    severity: int = Field(strict=True, ge=1, le=4)  # 1 is the worst
    commander: Person
    by: Person | None = None  # None: the commander declares


class AssignRole(Step):
    step = "role"
    role: Role
    who: Person
    by: Person | None = None


class Update(Step):
    step = "update"
    by: Person
    impact: Text
    action: Text
    next_update_s: PositiveSeconds | None = None
    impact_pct: float | None = Field(default=None, ge=0, le=100)  # structured impact, fact-checked
    components: tuple[NodeName, ...] | None = None
    status: IncidentStatus | None = None  # the status page's state from this update on


class Note(Step):
    step = "note"
    by: Person
    text: Text


NO_CHANGE = "none"  # the team's verdict that no change triggered it (a slow leak)


def change_reference(value: str) -> str:
    """A suspected change as the team names it: `<kind> <version>`, a change id, or `none`.

    One rule for drill files and the control API, so the scorecard can match what the team
    said against the scenario's ground truth."""
    parts = value.split()
    if len(parts) == 1 and (parts[0].isdigit() or parts[0].lower() == NO_CHANGE):
        return parts[0].lower()
    if len(parts) == 2 and parts[0] in CHANGE_KINDS:
        return " ".join(parts)
    raise ValueError(f"{value!r}: expected '<kind> <version>' with kind one of "
                     f"{', '.join(CHANGE_KINDS)}, a change id, or 'none'")


class Suspect(Step):
    """The change the team believes triggered the incident: `script_push v2` or a change id."""

    step = "suspect"
    by: Person
    change: str

    @field_validator("change", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("change")
    @classmethod
    def _id_or_identity(cls, value: str) -> str:
        return change_reference(value)

    @property
    def change_id(self) -> int | None:
        return int(self.change) if self.change.isdigit() else None

    @property
    def change_ref(self) -> ChangeRef | None:
        if self.change_id is not None or self.change == NO_CHANGE:
            return None
        kind, version = self.change.split()
        return ChangeRef.model_validate({"kind": kind, "version": version})


class Scope(Step):
    step = "scope"
    by: Person
    nodes: tuple[NodeName, ...] = Field(min_length=1)

    def named_nodes(self) -> list[tuple[FieldPath, str]]:
        return [(("nodes", i), node) for i, node in enumerate(self.nodes)]


class Act(Step):
    """Run a mitigation from the toolkit; the action name is checked against its registry later."""

    step = "act"
    by: Person
    action: ActionName
    canary: NodeName | None = None  # None: every node at once
    params: dict[str, JsonValue] = Field(default_factory=dict)

    def named_nodes(self) -> list[tuple[FieldPath, str]]:
        return [(("canary",), self.canary)] if self.canary is not None else []


class Escalate(Step):
    step = "escalate"
    by: Person
    to: Text


class Resolve(Step):
    step = "resolve"
    shorthand = "by"
    by: Person


class Reply(Step):
    """Answer the oldest stakeholder question not answered yet, waiting for one if need be."""

    step = "reply"
    by: Person
    text: Text
    timeout_s: PositiveSeconds | None = None  # None: until the drill ends


class Pause(Step):
    step = "pause"
    shorthand = "seconds"
    seconds: PositiveSeconds


STEP_MODELS: dict[str, type[Step]] = {model.step: model for model in (
    WaitFor, Ack, Declare, AssignRole, Update, Note, Suspect, Scope, Act, Escalate, Resolve, Reply, Pause)}


def _step_name(value: Any) -> str | None:
    if isinstance(value, Step):
        return value.step
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if isinstance(key, str) else None
    return None


ResponderStep = Annotated[
    Annotated[WaitFor, Tag("wait_for")] | Annotated[Ack, Tag("ack")] | Annotated[Declare, Tag("declare")]
    | Annotated[AssignRole, Tag("role")] | Annotated[Update, Tag("update")] | Annotated[Note, Tag("note")]
    | Annotated[Suspect, Tag("suspect")] | Annotated[Scope, Tag("scope")] | Annotated[Act, Tag("act")]
    | Annotated[Escalate, Tag("escalate")] | Annotated[Resolve, Tag("resolve")]
    | Annotated[Reply, Tag("reply")] | Annotated[Pause, Tag("pause")],
    Discriminator(_step_name),
]
