"""Inline SVG charts, drawn here so the HTML scorecard needs no script and no network.

`line_chart` plots one series over drill time with every marked event as a numbered
vertical line (its label in a tooltip); `lines_chart` several series with a legend (the
counterfactual's runs); `health_strips` draws one row per node, a cell per
second coloured by that node's failed share. Pure: numbers in, an SVG string out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

WIDTH: Final = 960
LEFT: Final = 56  # room for the y-axis labels
RIGHT: Final = 12
TOP: Final = 48  # room for MARK_ROWS rows of marker numbers
MARK_ROWS: Final = 4  # numbers of events close in time are stacked, not drawn over each other
MARK_GAP_PX: Final = 16
BOTTOM: Final = 24
MARK_COLOURS: Final = {"fault": "#b00020", "alert": "#e65100", "team": "#1565c0", "action": "#6a1b9a",
                       "restoration": "#2e7d32", "other": "#757575"}


@dataclass(frozen=True)
class Marker:
    t_s: float
    number: int  # shown above the line; the same number labels the event in the page's timeline
    label: str
    family: str  # a MARK_COLOURS key


@dataclass(frozen=True)
class Axis:
    """The shared time axis: every chart of a page uses one, so their markers line up."""

    start_t_s: float
    end_t_s: float
    origin_t_s: float  # ticks read as seconds from here (the fault)

    def x(self, t_s: float) -> float:
        span = max(self.end_t_s - self.start_t_s, 1e-9)
        return LEFT + (t_s - self.start_t_s) / span * (WIDTH - LEFT - RIGHT)


def line_chart(axis: Axis, points: Sequence[tuple[float, float | None]], markers: Sequence[Marker], *,
               title: str, unit: str, height: int = 200, y_max: float | None = None, colour: str = "#c62828") -> str:
    """One series; a None value breaks the line (a second without traffic)."""
    values = [v for _, v in points if v is not None]
    top = y_max if y_max is not None else _nice_ceiling(max(values, default=1.0))
    plot_h = height - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - min(value, top) / top * plot_h

    parts = [_open(height, title)]
    parts += _grid(axis, height, top, unit, y)
    parts += [f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="1.6" points="{run}"/>'
              for run in _runs(axis, points, y)]
    parts += _markers(axis, markers, height)
    parts.append("</svg>")
    return "\n".join(parts)


def lines_chart(axis: Axis, series: Sequence[tuple[str, str, Sequence[tuple[float, float | None]]]], *,
                title: str, unit: str, height: int = 220) -> str:
    """Several series on one axis, each (label, colour, points), with a legend above the plot."""
    values = [v for _, _, points in series for _, v in points if v is not None]
    top = _nice_ceiling(max(values, default=1.0))
    plot_h = height - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - min(value, top) / top * plot_h

    parts = [_open(height, title)]
    parts += _grid(axis, height, top, unit, y)
    for index, (label, colour, points) in enumerate(series):
        parts += [f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="1.6" points="{run}"/>'
                  for run in _runs(axis, points, y)]
        x = LEFT + index * 240
        parts.append(f'<line x1="{x}" x2="{x + 18}" y1="14" y2="14" stroke="{colour}" stroke-width="3"/>'
                     f'<text class="label" x="{x + 24}" y="18">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def health_strips(axis: Axis, cells: Sequence[tuple[str, float, float | None]], nodes: Sequence[str],
                  markers: Sequence[Marker], *, title: str) -> str:
    """`cells`: (node, second start, failed share or None). Green healthy, red failing, grey no traffic."""
    row_h = 18
    height = TOP + BOTTOM + row_h * max(len(nodes), 1)
    parts = [_open(height, title)]
    for index, node in enumerate(nodes):
        row_y = TOP + index * row_h
        parts.append(f'<text x="{LEFT - 6}" y="{row_y + row_h - 5}" text-anchor="end" class="label">'
                     f'{escape(node)}</text>')
        parts += _strip(axis, [(t, share) for name, t, share in cells if name == node], row_y, row_h - 2)
    parts += _axis_ticks(axis, height)
    parts += _markers(axis, markers, height)
    parts.append("</svg>")
    return "\n".join(parts)


def _open(height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>')


def _grid(axis: Axis, height: int, top: float, unit: str, to_y: Callable[[float], float]) -> list[str]:
    lines: list[str] = []
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        value = top * fraction
        row = to_y(value)
        lines.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{row:.1f}" y2="{row:.1f}"/>')
        lines.append(f'<text class="label" x="{LEFT - 6}" y="{row + 4:.1f}" text-anchor="end">{value:g}{unit}</text>')
    return lines + _axis_ticks(axis, height)


def _axis_ticks(axis: Axis, height: int) -> list[str]:
    step = _nice_step((axis.end_t_s - axis.start_t_s) / 8)
    first = (axis.start_t_s - axis.origin_t_s) // step * step + axis.origin_t_s
    ticks: list[str] = []
    t_s = first
    while t_s <= axis.end_t_s:
        if t_s >= axis.start_t_s:
            x = axis.x(t_s)
            ticks.append(f'<text class="label" x="{x:.1f}" y="{height - 6}" text-anchor="middle">'
                         f'{t_s - axis.origin_t_s:+g}s</text>')
        t_s += step
    return ticks


def _runs(axis: Axis, points: Sequence[tuple[float, float | None]], to_y: Callable[[float], float]) -> list[str]:
    runs: list[list[str]] = [[]]
    for t_s, value in points:
        if value is None:
            runs.append([])
            continue
        runs[-1].append(f"{axis.x(t_s):.1f},{to_y(value):.1f}")
    return [" ".join(run) for run in runs if run]


def _strip(axis: Axis, cells: list[tuple[float, float | None]], row_y: float, row_h: float) -> list[str]:
    """Consecutive seconds of the same colour are merged into one rectangle."""
    rects: list[str] = []
    start: float | None = None
    colour = ""
    last_t = 0.0
    for t_s, share in [*sorted(cells, key=lambda c: c[0]), (float("inf"), None)]:
        shade = _shade(share) if t_s != float("inf") else ""
        if start is not None and (shade != colour or t_s > last_t + 1.5):
            x0, x1 = axis.x(start), axis.x(last_t + 1)
            rects.append(f'<rect x="{x0:.1f}" y="{row_y:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="{row_h}" '
                         f'fill="{colour}"/>')
            start = None
        if start is None and shade:
            start, colour = t_s, shade
        last_t = t_s
    return rects


def _shade(share: float | None) -> str:
    if share is None:
        return "#e0e0e0"
    level = min(int(share * 10 + 0.5), 10)  # 11 steps from green to red
    red, green = int(46 + (198 - 46) * level / 10), int(125 - (125 - 40) * level / 10)
    return f"#{red:02x}{green:02x}32"


def _markers(axis: Axis, markers: Sequence[Marker], height: int) -> list[str]:
    drawn: list[str] = []
    row_ends: list[float] = [-MARK_GAP_PX] * MARK_ROWS  # the x of the last number in each row
    for marker in markers:
        x = axis.x(marker.t_s)
        row = next((r for r, end in enumerate(row_ends) if x - end >= MARK_GAP_PX), None)
        if row is not None:
            row_ends[row] = x
        colour = MARK_COLOURS.get(marker.family, MARK_COLOURS["other"])
        number = "" if row is None else (
            f'<text class="mark" x="{x:.1f}" y="{TOP - 8 - row * 11}" text-anchor="middle" fill="{colour}">'
            f'{marker.number}</text>')  # no room left: the line and its tooltip still show it
        drawn.append(f'<g class="marker {escape(marker.family)}"><title>{marker.number}. {escape(marker.label)}'
                     f'</title><line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 4}" y2="{height - BOTTOM}" '
                     f'stroke="{colour}" stroke-width="1" stroke-dasharray="3,2"/>{number}</g>')
    return drawn


def _nice_ceiling(value: float) -> float:
    step = _nice_step(value / 4)
    return max(step * 4, step * -(-value // step)) if value > 0 else 1.0


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)
