"""The incident room in the browser: the team's console, the facilitator's, the status page.

    GET /console                 the console page (team or facilitator: the token decides)
    GET /status                  the status page: only the posted status updates
    GET /static/{file}           the pages' scripts and styles (plain files, no build step)
    GET /v1/meta                 the drill, its nodes, the toolkit, the roles     team token
    GET /v1/stream?since=SEQ     Server-Sent Events: `journal` per event, `slo`   team token
                                 every second; the team never sees facilitator-only events
    GET /v1/public/updates       the status updates; no token from loopback

The page keeps its token in the URL fragment (never sent to the server, never in a log)
and sends it as a bearer header; it reads the stream with fetch() rather than
EventSource, which cannot send headers, so the token never goes into a URL.
"""

# No `from __future__ import annotations`: FastAPI reads endpoint annotations at runtime.

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from harness.control.auth import Access, Credentials, Tokens, require
from harness.control.models import EventOut
from harness.control.server import is_loopback
from harness.control.statuspage import status_view
from harness.session import DrillSession
from harness.timeline import Event, format_wall, team_may_see

STATIC = Path(__file__).with_name("static")
SLO_EVERY_S: Final = 1.0
QUEUE_LIMIT: Final = 10_000  # a reader this far behind is cut off; it reconnects with ?since=
END_KINDS: Final = frozenset({"run.finished"})


def add_console(app: FastAPI, session: DrillSession, tokens: Tokens) -> None:
    team = require(tokens, Access.TEAM)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console")

    @app.get("/console", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC / "console.html", headers=_NO_STORE)

    @app.get("/status", include_in_schema=False)
    def status_page() -> FileResponse:
        return FileResponse(STATIC / "status.html", headers=_NO_STORE)

    router = APIRouter(prefix="/v1")

    @router.get("/meta", summary="What a console needs to draw its forms")
    def meta(access: Annotated[Access, Depends(team)]) -> dict[str, Any]:
        return {**session.meta(), "access": access.value}

    @router.get("/stream", summary="Journal events as they are written, and the SLO every second (SSE)")
    async def stream(request: Request, access: Annotated[Access, Depends(team)],
                     since: Annotated[int, Query(ge=0)] = 0) -> StreamingResponse:
        frames = _frames(request, session, since, facilitator=access is Access.FACILITATOR)
        return StreamingResponse(frames, media_type="text/event-stream",
                                 headers={**_NO_STORE, "X-Accel-Buffering": "no"})

    @router.get("/public/updates", summary="The posted status updates: what customers would see")
    def public_updates(request: Request, credentials: Credentials) -> list[dict[str, Any]]:
        client = request.client.host if request.client else ""
        if not is_loopback(client):
            team(credentials)  # off this machine, the status page needs the team's token
        updates = [e for e in session.journal_events(0, facilitator=False) if e.kind == "team.update"]
        return [{"wall": format_wall(e.wall), "impact": e.data.get("impact"), "action": e.data.get("action"),
                 "next_update_s": e.data.get("next_update_s")} for e in updates]

    @router.get("/public/status", summary="The status page: incident state, components, update history")
    def public_status(request: Request, credentials: Credentials) -> dict[str, Any]:
        client = request.client.host if request.client else ""
        if not is_loopback(client):
            team(credentials)
        events = session.journal_events(0, facilitator=False)
        return status_view(events, session.meta()["nodes"]).as_json()

    app.include_router(router)


_NO_STORE: Final = {"Cache-Control": "no-store"}


class _Subscription:
    """Journal events for one reader, handed from the writer's thread into its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def __call__(self, event: Event) -> None:  # the journal's thread, under its lock
        self.loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


@contextlib.contextmanager
def _subscribed(session: DrillSession) -> Iterator[_Subscription]:
    subscription = _Subscription(asyncio.get_running_loop())
    session.subscribe(subscription)
    try:
        yield subscription
    finally:
        session.unsubscribe(subscription)


async def _frames(request: Request, session: DrillSession, since: int, facilitator: bool) -> AsyncIterator[bytes]:
    visible: Callable[[Event], bool] = (lambda e: True) if facilitator else (lambda e: team_may_see(e.kind))
    with _subscribed(session) as live:  # subscribed before reading the backlog: nothing falls in between
        last = since
        for event in await asyncio.to_thread(session.journal_events, since, facilitator):
            last = event.seq
            yield _frame("journal", EventOut.of(event).model_dump(), event.seq)
            if event.kind in END_KINDS:
                return
        yield _frame("slo", session.status(facilitator))
        next_slo = asyncio.get_running_loop().time() + SLO_EVERY_S
        while not live.overflowed and not await request.is_disconnected():
            timeout = max(0.0, next_slo - asyncio.get_running_loop().time())
            try:
                event = await asyncio.wait_for(live.queue.get(), timeout)
            except TimeoutError:
                yield _frame("slo", session.status(facilitator))
                next_slo = asyncio.get_running_loop().time() + SLO_EVERY_S
                continue
            if event.seq <= last or not visible(event):
                continue
            last = event.seq
            yield _frame("journal", EventOut.of(event).model_dump(), event.seq)
            if event.kind in END_KINDS:
                return


def _frame(name: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"event: {name}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return (head + f"data: {json.dumps(data, separators=(',', ':'))}\n\n").encode()

