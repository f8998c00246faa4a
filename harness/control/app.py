"""The control API: the HTTP face of a `DrillSession`, for people, the CLI and the autopilot.

    POST /v1/events/{kind}  team event (one route per kind)    team token   201 the event
    POST /v1/act            run a mitigation from the toolkit  team token   200 {event, result}
    GET  /v1/status | /v1/changes | /v1/journal?since=N        team token
    GET  /v1/truth, POST /v1/abort                             facilitator token
    POST /v1/alerts/alertmanager  Alertmanager's webhook       webhook token (harness.observability)
    the web console, its live stream and the status page       see harness.control.console

Errors are `{"error": message}` (422 adds `fields`); the status comes from ERROR_STATUS.
"""

# No `from __future__ import annotations` here: FastAPI reads endpoint annotations at
# runtime, and the endpoints below are closures over local dependencies.

import hmac
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from harness import __version__
from harness.control.auth import Access, Credentials, Tokens, require
from harness.control.console import add_console
from harness.control.models import (
    TEAM_EVENT_BODIES,
    AbortBody,
    AbortOut,
    ActBody,
    ActionResultOut,
    ActOut,
    ErrorOut,
    EventOut,
    FieldError,
    TeamEventBody,
)
from harness.errors import GamedrillError, UnknownServiceError
from harness.observability.webhook import AlertmanagerNotification, AlertmanagerReceiver, ReceivedOut, webhook_token
from harness.session import DrillSession, TeamEventKind

logger = logging.getLogger(__name__)

# Error class -> HTTP status, first match wins (specific classes first). Anything else the
# session raises is a bug: 500 with a generic message, traceback in the log.
ERROR_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (UnknownServiceError, 400),  # the request names a node the stack does not have
    (ValueError, 400),  # the session refused the request's content (an unknown action...)
    (GamedrillError, 409),  # the drill's state refuses it (over, aborted...)
)
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": what} for code, what in (
        (400, "the session refused the request"), (401, "missing or invalid token"),
        (403, "needs the facilitator's token"), (409, "the drill's state refuses it"),
        (422, "the body or query does not validate; `fields` names each bad field"),
        (500, "a bug in the harness; the details are in its log"))
}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def status_for(exc: Exception) -> int | None:
    return next((code for cls, code in ERROR_STATUS if isinstance(exc, cls)), None)


def create_app(session: DrillSession, tokens: Tokens, alerts: AlertmanagerReceiver | None = None) -> FastAPI:
    # docs_url=None: Swagger UI would pull its scripts from a CDN; the schema stays at /openapi.json.
    app = FastAPI(title="gamedrill control API", version=__version__, docs_url=None, redoc_url=None)
    router = APIRouter(prefix="/v1", route_class=_MappedErrorsRoute, responses=_ERROR_RESPONSES)
    team, facilitator = require(tokens, Access.TEAM), require(tokens, Access.FACILITATOR)
    for kind, body_model in TEAM_EVENT_BODIES.items():
        _add_team_event_route(router, session, team, kind, body_model)
    _add_team_routes(router, session, team)
    _add_facilitator_routes(router, session, facilitator)
    if alerts is not None:
        _add_alertmanager_route(router, alerts, tokens)
    app.include_router(router)
    add_console(app, session, tokens)
    _add_error_handlers(app)
    return app


def _add_team_event_route(router: APIRouter, session: DrillSession, team: Callable[..., Access],
                          kind: TeamEventKind, body_model: type[TeamEventBody]) -> None:
    def post_event(body: TeamEventBody) -> EventOut:
        return EventOut.of(session.record(kind, body.by, body.event_data()))

    # FastAPI parses and documents the body from this annotation: give it the kind's own model.
    post_event.__annotations__["body"] = body_model
    router.add_api_route(f"/events/{kind}", post_event, methods=["POST"], status_code=201,
                         response_model=EventOut, dependencies=[Depends(team)], name=f"post_{kind}",
                         summary=f"Journal team.{kind} with the server's timestamp")


def _add_team_routes(router: APIRouter, session: DrillSession, team: Callable[..., Access]) -> None:
    @router.post("/act", dependencies=[Depends(team)], summary="Run a mitigation from the toolkit")
    def act(body: ActBody) -> ActOut:
        event, result = session.act(body.by, body.action, body.canary, dict(body.params))
        return ActOut(event=EventOut.of(event),
                      result=ActionResultOut(action=result.action, ok=result.ok, nodes=list(result.nodes),
                                             detail=result.detail, changed=dict(result.changed)))

    @router.get("/status", summary="The drill's phase, SLO now, alerts firing (the facilitator also sees its state)")
    def status(access: Annotated[Access, Depends(team)]) -> dict[str, Any]:
        return session.status(facilitator=access is Access.FACILITATOR)

    @router.get("/changes", dependencies=[Depends(team)], summary="The change log, oldest first")
    def changes() -> list[dict[str, Any]]:
        return session.changes()

    @router.get("/journal", summary="Events after `since`; the team does not see the ground truth")
    def journal(access: Annotated[Access, Depends(team)], since: Annotated[int, Query(ge=0)] = 0) -> list[EventOut]:
        return [EventOut.of(event) for event in session.journal_events(since, facilitator=access is Access.FACILITATOR)]


def _add_facilitator_routes(router: APIRouter, session: DrillSession, facilitator: Callable[..., Access]) -> None:
    @router.get("/truth", dependencies=[Depends(facilitator)], summary="The ground truth and the faults so far")
    def truth() -> dict[str, Any]:
        return session.truth()

    @router.post("/abort", dependencies=[Depends(facilitator)], summary="Stop the drill; every fault is reverted")
    def abort(body: AbortBody) -> AbortOut:
        session.abort(body.reason)
        return AbortOut(aborted=True, reason=body.reason)


def _add_alertmanager_route(router: APIRouter, alerts: AlertmanagerReceiver, tokens: Tokens) -> None:
    expected = webhook_token(tokens.facilitator).encode()

    def webhook_auth(credentials: Credentials) -> None:
        if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), expected):
            raise HTTPException(401, "missing or invalid webhook token (see alertmanager.yml in the run directory)",
                                headers={"WWW-Authenticate": "Bearer"})

    @router.post("/alerts/alertmanager", dependencies=[Depends(webhook_auth)],
                 summary="Alertmanager's webhook: this run's PromQL alerts, journaled as alert.fired / alert.cleared")
    def alertmanager(body: AlertmanagerNotification) -> ReceivedOut:
        return alerts.receive(body)


class _MappedErrorsRoute(APIRoute):
    """Turns what the session raises into a status from ERROR_STATUS, at the one place all routes share."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def mapped(request: Request) -> Response:
            try:
                return await handle(request)
            except (HTTPException, RequestValidationError):
                raise  # answered by the app's handlers (auth, validation, 404...)
            except Exception as exc:
                code = status_for(exc)
                if code is None:
                    logger.exception("control API: %s %s failed", request.method, request.url.path)
                    return _error(500, "internal error in the drill harness; the details are in its log")
                return _error(code, str(exc))

        return mapped


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        fields = [FieldError(field=_field_name(error), message=str(error.get("msg", "invalid")))
                  for error in exc.errors()]
        summary = "; ".join(f"{field.field}: {field.message}" for field in fields)
        return _error(422, f"invalid request: {summary}", fields=fields)


def _field_name(error: Mapping[str, Any]) -> str:
    """`("body", "nodes", 0)` -> `nodes[0]`; a whole-body problem (bad JSON too) is `body`."""
    location = error.get("loc", ())
    if error.get("type") == "json_invalid":  # its location is a character offset, not a field
        return "body"
    parts = list(location[1:]) if len(location) > 1 and location[0] in ("body", "query", "path") else list(location)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _error(code: int, message: str, headers: Mapping[str, str] | None = None,
           fields: Sequence[FieldError] = ()) -> JSONResponse:
    body = ErrorOut(error=message, fields=list(fields))
    return JSONResponse(body.model_dump(exclude_defaults=True), status_code=code, headers=headers)
