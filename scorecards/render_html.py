"""Scorecard -> one self-contained HTML page: inline CSS and SVG, no script, no network.

The page's Content-Security-Policy forbids every fetch, so a stray external reference would
show up as a console error in the headless-browser test instead of a silent request. The
Jinja2 template ships inside the package (`scorecards/templates/`). Pure: scorecard in,
string out.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import jinja2
from markupsafe import Markup

from scorecards import fmt
from scorecards.chronicle import INCIDENT_KINDS
from scorecards.counterfactual import LABELS, Outcome, chart_series, sentences
from scorecards.grade import WEIGHTS
from scorecards.model import Scorecard, TimelineEntry
from scorecards.svgchart import Axis, Marker, health_strips, line_chart, lines_chart

TEMPLATE: Final = "scorecard.html.j2"
_FAMILIES: Final = (("fault.", "fault"), ("alert.", "alert"), ("team.act", "action"), ("action.", "action"),
                    ("team.", "team"), ("restoration.", "restoration"), ("slo.", "fault"))


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("scorecards", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(seconds=fmt.seconds, percent=fmt.percent, ms=fmt.ms, target=fmt.target_s,
                       result=fmt.result, seqs=fmt.seq_list, clock=fmt.clock, phase=fmt.phase_label,
                       part=fmt.part_title)
    return env


def render_html(card: Scorecard, counterfactual: Outcome | None = None) -> str:
    markers = incident_markers(card)
    return _environment().get_template(TEMPLATE).render(
        card=card, charts=_charts(card, markers), markers=markers, parts=[*WEIGHTS, "run"],
        counterfactual=counterfactual, counterfactual_chart=_counterfactual_chart(counterfactual),
        counterfactual_sentences=[] if counterfactual is None else sentences(counterfactual),
        counterfactual_label=LABELS,
        when=lambda value: fmt.when(card, value), offset=lambda t_s: fmt.offset(card, t_s),
        phase_time=fmt.phase_time)


def _counterfactual_chart(outcome: Outcome | None) -> Markup | None:
    """Failed requests per second from the fault, the team's run and each replay on one axis."""
    if outcome is None:
        return None
    series = chart_series(outcome)
    times = [t for _, _, curve in series for t, _ in curve]
    if not times:
        return None
    axis = Axis(min(times), max(max(times) + 1, min(times) + 1), 0.0)
    points = [(label, colour, [(t, float(n)) for t, n in curve]) for label, colour, curve in series]
    return Markup(lines_chart(axis, points, title="Failed requests per second, from the fault", unit=""))


def incident_markers(card: Scorecard) -> list[tuple[Marker, TimelineEntry]]:
    """Every incident event, numbered in journal order; the charts and the legend share the numbers."""
    entries = [e for e in card.timeline if e.kind in INCIDENT_KINDS]
    return [(Marker(e.t_s, number, e.label, _family(e.kind)), e) for number, e in enumerate(entries, 1)]


def _family(kind: str) -> str:
    return next((family for prefix, family in _FAMILIES if kind.startswith(prefix)), "other")


def _charts(card: Scorecard, markers: list[tuple[Marker, TimelineEntry]]) -> dict[str, Markup]:
    if not card.series and not markers:
        return {}
    marks = [m for m, _ in markers]
    times = [w.start_t_s for w in card.series] + [m.t_s for m in marks]
    ends = [w.start_t_s + 1 for w in card.series] + [m.t_s for m in marks]
    axis = Axis(min(times), max(max(ends), min(times) + 1), card.fault_t_s if card.fault_t_s is not None else 0.0)
    rate = [(w.start_t_s, None if w.error_rate is None else w.error_rate * 100) for w in card.series]
    p99 = [(w.start_t_s, w.p99_ms) for w in card.series]
    nodes = sorted({node for w in card.series for node in w.nodes})
    cells = [(node, w.start_t_s, (fails / reqs) if reqs else None)
             for w in card.series for node, (reqs, fails) in w.nodes.items()]
    return {
        "error_rate": Markup(line_chart(axis, rate, marks, title="error rate per second (%)", unit="%",
                                        y_max=100.0)),
        "p99": Markup(line_chart(axis, p99, marks, title="p99 latency per second (ms)", unit="ms",
                                 colour="#1565c0")),
        "nodes": Markup(health_strips(axis, cells, nodes, marks, title="per-node failed share per second")),
    }
