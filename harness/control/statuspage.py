"""The status page: what customers would see, built from the team's events alone.

- The incident's state (investigating, identified, monitoring, resolved) is what the team's
  status updates say (`status` on an update); an update without one keeps the state, the
  first one opens the incident as investigating, and resolving the drill resolves it.
  Before the first update there is no public incident: customers hear nothing until the
  team tells them.
- The components are the shop's, with their state measured from the traffic (as status
  pages with monitors do): the storefront over all nodes, each web node on its own, over
  the last few seconds.
- The update history, newest first, each with the state it set.

One view (`status_view`) serves the live page (`/v1/public/status`, drawn by status.js) and
the page written into the run directory when the drill ends (`status.html`, by
`render_status_html`), so the page outlives the drill and reads the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import jinja2

from harness.timeline import Event, format_wall, read_journal

STATUS_FILE: Final = "status.html"
COMPONENT_WINDOW_S: Final = 10  # seconds of traffic a component's state is judged on
DEGRADED_SHARE: Final = 0.05
OUTAGE_SHARE: Final = 0.5
HEADLINES: Final = {"investigating": "Investigating an issue", "identified": "Issue identified",
                    "monitoring": "A fix is in place: monitoring", "resolved": "Resolved"}


@dataclass(frozen=True)
class PostedUpdate:
    wall: str
    status: str
    impact: str
    action: str
    next_update_s: int | None


@dataclass(frozen=True)
class Component:
    name: str
    state: str  # operational | degraded | major outage | no data


@dataclass(frozen=True)
class StatusView:
    status: str | None  # None: no public incident
    headline: str
    components: tuple[Component, ...]
    updates: tuple[PostedUpdate, ...]  # newest first

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def component_state(requests: int, failures: int) -> str:
    if not requests:
        return "no data"
    share = failures / requests
    return "major outage" if share >= OUTAGE_SHARE else "degraded" if share >= DEGRADED_SHARE else "operational"


def status_view(events: Iterable[Event], nodes: Sequence[str]) -> StatusView:
    status: str | None = None
    posted: list[PostedUpdate] = []
    windows: list[Mapping[str, Any]] = []
    for event in events:
        if event.kind == "team.update":
            status = event.data.get("status") or status or "investigating"
            posted.append(PostedUpdate(format_wall(event.wall), status, str(event.data.get("impact") or ""),
                                       str(event.data.get("action") or ""), event.data.get("next_update_s")))
        elif event.kind == "team.resolve" and status is not None:
            status = "resolved"
        elif event.kind == "slo.window":
            windows.append(event.data)
    headline = "All systems operational" if status is None else HEADLINES[status]
    if status is not None and status != "resolved" and posted:
        headline += f": {posted[-1].impact}"
    return StatusView(status, headline, _components(windows[-COMPONENT_WINDOW_S:], nodes), tuple(reversed(posted)))


def _components(windows: Sequence[Mapping[str, Any]], nodes: Sequence[str]) -> tuple[Component, ...]:
    total = [sum(int(w.get("requests") or 0) for w in windows), sum(int(w.get("failures") or 0) for w in windows)]
    per_node = {node: [0, 0] for node in nodes}
    for window in windows:
        for node, counts in (window.get("nodes") or {}).items():
            if node in per_node and isinstance(counts, list | tuple) and len(counts) == 2:
                per_node[node][0] += int(counts[0])
                per_node[node][1] += int(counts[1])
    return (Component("Storefront", component_state(*total)),
            *(Component(f"Web node {node}", component_state(*counts)) for node, counts in per_node.items()))


# The live page's own stylesheet, inlined: the written page is one self-contained file.
_STYLESHEET: Final = Path(__file__).parent / "static" / "status.css"
_TEMPLATE: Final = jinja2.Environment(autoescape=True).from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Status: {{ title }}</title>
<style>
{{ css }}
</style></head><body><main>
<h1>Service status</h1>
<p id="summary" class="summary{{ ' open' if view.status and view.status != 'resolved' else '' }}"
   data-status="{{ view.status or 'none' }}">{{ view.headline }}</p>
<h2>Components</h2>
<ul id="components">{% for c in view.components %}
<li data-state="{{ c.state }}">{{ c.name }}: <span class="{{ c.state.split()[0] }}">{{ c.state }}</span></li>
{% endfor %}</ul>
<h2>Updates</h2>
<ol id="updates">{% for u in view.updates %}
<li data-status="{{ u.status }}"><div class="when">{{ u.wall[:19].replace('T', ' ') }} UTC</div>
<span class="state">{{ u.status }}</span>: <strong>{{ u.impact }}</strong><div>{{ u.action }}</div></li>
{% else %}<li>No incident was posted.</li>{% endfor %}</ol>
<p class="when">As it stood when the drill ended{{ ', ' + ended if ended else '' }}.</p>
</main></body></html>
""")


def render_status_html(view: StatusView, title: str, ended: str | None = None) -> str:
    return _TEMPLATE.render(view=view, title=title, ended=ended, css=_STYLESHEET.read_text(encoding="utf-8"))


def write_status_page(run_dir: Path, title: str, nodes: Sequence[str]) -> Path:
    """`<run_dir>/status.html`: the status page as the drill left it."""
    events = read_journal(run_dir / "journal.jsonl")
    ended = next((format_wall(e.wall)[:19].replace("T", " ") + " UTC" for e in reversed(events)
                  if e.kind == "run.finished"), None)
    path = run_dir / STATUS_FILE
    path.write_text(render_status_html(status_view(events, nodes), title, ended), encoding="utf-8")
    return path
