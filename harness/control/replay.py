"""A finished run, served read-only for the debrief: `gamedrill console RUN`.

The drill's harness and its control API are gone; what is left is the run directory. This
serves it on 127.0.0.1 (GET only, no tokens: nothing here acts on anything):

    /            the run: drill, outcome, links
    /scorecard   scorecard.html as written at the end of the drill
    /status      the status page as the drill left it (status.html, else built from the journal)
    /timeline    every event of the journal in plain words, with its time from the fault
    /postmortem  postmortem.md

Standard library only: the debrief machine needs nothing but the run directory and Python.
"""

from __future__ import annotations

import html
import signal
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

from harness.control.statuspage import STATUS_FILE, render_status_html, status_view
from harness.errors import GamedrillError
from harness.eventwords import in_words
from harness.timeline import Event, format_wall, read_journal

_PAGE: Final = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 960px; margin: 24px auto; color: #1f2328; }}
nav a {{ margin-right: 16px; }} table {{ border-collapse: collapse; width: 100%; }}
td {{ border-top: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; }}
.t {{ color: #57606a; white-space: nowrap; }}
pre {{ white-space: pre-wrap; }}</style></head><body>
<nav><a href="/">run</a><a href="/scorecard">scorecard</a><a href="/status">status page</a>
<a href="/timeline">timeline</a><a href="/postmortem">postmortem</a></nav>
<h1>{title}</h1>{body}</body></html>"""


class NotARunError(GamedrillError):
    """The directory holds no journal: not a run directory."""


def _page(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), body=body)


def _planned(events: list[Event]) -> dict[str, Any]:
    return next((dict(e.data) for e in events if e.kind == "run.planned"), {})


def timeline_html(events: list[Event]) -> str:
    """The journal in plain words; clocks from the first fault (before it: from the drill start)."""
    fault_t_s = next((e.t_s for e in events if e.kind == "fault.injected"), None)
    rows = []
    for event in events:
        words = in_words(event)
        if words is None:
            continue
        if fault_t_s is None or event.t_s < fault_t_s:
            since = f"{event.t_s:.0f} s"
        else:
            minutes, seconds = divmod(int(event.t_s - fault_t_s), 60)
            since = f"T+{minutes:02d}:{seconds:02d}"
        rows.append(f'<tr><td class="t">{html.escape(format_wall(event.wall)[11:19])}</td><td class="t">{since}</td>'
                    f"<td>{html.escape(words)}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


class RunPages:
    """The pages of one finished run, read from its directory at each request (cheap, always current)."""

    def __init__(self, run_dir: Path) -> None:
        if not (run_dir / "journal.jsonl").is_file():
            raise NotARunError(f"{run_dir}: no journal.jsonl here, not a run directory")
        self.run_dir = run_dir

    def page(self, path: str) -> str | None:
        events = read_journal(self.run_dir / "journal.jsonl")
        planned = _planned(events)
        title = f"{planned.get('drill') or 'drill'}, run {self.run_dir.name}"
        if path == "/":
            finished = next((e.data for e in reversed(events) if e.kind == "run.finished"), None)
            outcome = "still running or never finished" if finished is None else \
                f"{finished.get('outcome')} ({finished.get('reason')})"
            return _page(title, f"<p>outcome: {html.escape(outcome)}</p>")
        if path == "/scorecard":
            return self._file("scorecard.html")
        if path == "/status":
            written = self._file(STATUS_FILE)
            nodes = planned.get("nodes") or ("web-1", "web-2", "web-3")
            return written or render_status_html(status_view(events, list(nodes)), title)
        if path == "/timeline":
            return _page(f"{title}: timeline", timeline_html(events))
        if path == "/postmortem":
            text = self._file("postmortem.md")
            return None if text is None else _page(f"{title}: postmortem", f"<pre>{html.escape(text)}</pre>")
        return None

    def _file(self, name: str) -> str | None:
        path = self.run_dir / name
        return path.read_text(encoding="utf-8") if path.is_file() else None


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: RunPages, host: str = "127.0.0.1", port: int = 0) -> None:
        self.pages = pages
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="replay", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: ReplayServer

    def do_GET(self) -> None:
        body = self.server.pages.page(self.path.split("?", 1)[0])
        status = HTTPStatus.OK if body is not None else HTTPStatus.NOT_FOUND
        payload = (body if body is not None else _page("not found", "<p>nothing here</p>")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_until_interrupted(run_dir: Path, port: int, say: Callable[[str], None]) -> None:
    """`gamedrill console RUN` on a finished run: serve it until Ctrl-C or SIGTERM."""
    server = ReplayServer(RunPages(run_dir), port=port)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = server.start()
    try:
        say(f"{server.url}/  (run {run_dir.name}, finished: served read-only; Ctrl-C stops)")
        say(f"scorecard: {server.url}/scorecard  status page: {server.url}/status  timeline: {server.url}/timeline")
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
