"""The control API's wire format: one request body per team event, and the responses.

Bodies refuse unknown keys, so a client cannot smuggle its own `t_s` or `wall` into an
event: every timestamp is the server's. Strings are stripped, non-empty and capped, because
this is network input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, StringConstraints

from harness.session import TeamEventKind
from harness.spec_steps import IncidentStatus, Role, change_reference
from harness.timeline import Event, format_wall

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Person = Name
# Nodes and actions are only bounded here: the session checks them against the stack and the
# toolkit, and its error lists the valid names (400), which says more than a pattern would.
Node = Name
Action = Name
Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


def _change_id_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ChangeReference = Annotated[str, BeforeValidator(_change_id_as_text), StringConstraints(max_length=128),
                            AfterValidator(change_reference)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamEventBody(RequestBody):
    by: Person

    def event_data(self) -> dict[str, Any]:
        """What goes into the event's `data` besides `by` (which the session records itself)."""
        return self.model_dump(mode="json", exclude={"by"})


class AckBody(TeamEventBody):
    pass


class DeclareBody(TeamEventBody):
    severity: int = Field(strict=True, ge=1, le=4, description="1 is the worst")
    commander: Person


class RoleBody(TeamEventBody):
    role: Role
    who: Person


class UpdateBody(TeamEventBody):
    impact: Message
    action: Message
    next_update_s: int | None = Field(default=None, strict=True, gt=0)
    text: Message | None = None
    # Structured impact, fact-checked against the measurements by the scorecard.
    impact_pct: float | None = Field(default=None, ge=0, le=100, description="share of requests failing, in %")
    components: list[Node] | None = Field(default=None, max_length=64, description="the nodes affected")
    status: IncidentStatus | None = None  # investigating, identified, monitoring, resolved (the status page)

    def event_data(self) -> dict[str, Any]:
        data = super().event_data()
        for optional in ("status", "impact_pct", "components"):  # an update that keeps the status page's
            if data.get(optional) is None:  # state, or states no structured impact, says nothing of them
                data.pop(optional, None)
        return data


class NoteBody(TeamEventBody):
    text: Message


class SuspectBody(TeamEventBody):
    change: ChangeReference = Field(description="'<kind> <version>' as in the change log, a change id, or 'none'")


class ScopeBody(TeamEventBody):
    nodes: list[Node] = Field(min_length=1, max_length=64)


class EscalateBody(TeamEventBody):
    to: Message


class ResolveBody(TeamEventBody):
    pass


class ReplyBody(TeamEventBody):
    question: Name = Field(description="the id of the stakeholder's question (stakeholder.asked), e.g. Q1")
    text: Message


TEAM_EVENT_BODIES: Mapping[TeamEventKind, type[TeamEventBody]] = {
    "ack": AckBody, "declare": DeclareBody, "role": RoleBody, "update": UpdateBody, "note": NoteBody,
    "suspect": SuspectBody, "scope": ScopeBody, "escalate": EscalateBody, "resolve": ResolveBody,
    "reply": ReplyBody,
}


class ActBody(RequestBody):
    by: Person
    action: Action
    canary: Node | None = Field(default=None, description="run on this node first; none: every node at once")
    params: dict[str, JsonValue] = Field(default_factory=dict)


class AbortBody(RequestBody):
    reason: Message


# ---- responses ------------------------------------------------------------------------


class EventOut(BaseModel):
    """A journal event exactly as its line in journal.jsonl."""

    seq: int
    kind: str
    wall: str
    t_s: float
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls(seq=event.seq, kind=event.kind, wall=format_wall(event.wall), t_s=event.t_s,
                   data=dict(event.data))


class ActionResultOut(BaseModel):
    action: str
    ok: bool
    nodes: list[str]
    detail: str
    changed: dict[str, Any]


class ActOut(BaseModel):
    event: EventOut
    result: ActionResultOut


class AbortOut(BaseModel):
    aborted: bool
    reason: str


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    error: str
    fields: list[FieldError] = Field(default_factory=list)
