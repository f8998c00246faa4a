"""Readiness as a terminal table and as one self-contained HTML page."""

from __future__ import annotations

from jinja2 import Environment
from rich.table import Table

from scorecards.readiness import DUTIES, Readiness

_LABELS = {"commander": "led", "comms": "comms", "scribe": "scribe", "operator": "ops"}
_PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Readiness{% if r.team %}: {{ r.team }}{% endif %}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}td.none{color:#b00}small{color:#666}</style>
</head><body>
<h1>Readiness{% if r.team %}: {{ r.team }}{% endif %}</h1>
<p>{{ r.runs }} finished run(s). Each cell: how often each person held each duty on that kind of incident,
and when last.</p>
<table><tr><th>person</th>{% for f in r.families %}<th>{{ f }}</th>{% endfor %}</tr>
{% for p in r.people %}<tr><th>{{ p }}</th>{% for f in r.families %}{% set text = cell(p, f) %}
<td class="{{ 'none' if text == '—' else '' }}">{{ text }}</td>{% endfor %}</tr>{% endfor %}</table>
{% if r.suggestion %}<h2>Next drill</h2>
<p>{{ r.suggestion.why }}: run <b>{{ r.suggestion.scenario or r.suggestion.family }}</b> with
{% for duty, who in r.suggestion.roster.items() %}{{ who }} as {{ duty }}{{ ", " if not loop.last }}{% endfor %}.</p>
{% endif %}</body></html>
""")


def cell_text(ready: Readiness, person: str, family: str) -> str:
    held = [(duty, ready.of(person, duty, family)) for duty in DUTIES]
    done = [(duty, p) for duty, p in held if p.count]
    if not done:
        return "—"
    last = max(p.last or "" for _, p in done)
    return " · ".join(f"{_LABELS[duty]} {p.count}" for duty, p in done) + (f" ({last})" if last else "")


def readiness_table(ready: Readiness) -> Table:
    table = Table(title=f"readiness{f' · {ready.team}' if ready.team else ''}: {ready.runs} finished run(s)",
                  caption=suggestion_line(ready))
    table.add_column("person")
    for family in ready.families:
        table.add_column(family)
    for person in ready.people:
        table.add_row(person, *(cell_text(ready, person, family) for family in ready.families))
    return table


def suggestion_line(ready: Readiness) -> str | None:
    s = ready.suggestion
    if s is None:
        return None
    roster = ", ".join(f"{who} as {duty}" for duty, who in s.roster.items())
    return f"next: {s.scenario or s.family} with {roster} ({s.why})"


def readiness_html(ready: Readiness) -> str:
    return _PAGE.render(r=ready, cell=lambda person, family: cell_text(ready, person, family))
