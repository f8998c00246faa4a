"""History views for the terminal: run lists, comparisons, trends (with sparklines), actions.

Pure: data in, rich renderables (or strings) out; the CLI prints them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Final

from rich.table import Table

from scorecards.fmt import phase_label
from scorecards.followups import FollowUp
from scorecards.history import RunRow
from scorecards.phases import MITIGATE
from scorecards.trends import LEFT_OUT, Comparison, Trend

SPARKS: Final = "▁▂▃▄▅▆▇█"
TREND_ROWS: Final = 20
CHART_WIDTH: Final = 60
_VERDICT_STYLE: Final = {"improved": "green", "regressed": "bold red", "same": "dim", LEFT_OUT: "yellow"}
INCOMPLETE: Final = "INCOMPLETE"


def grade_cell(run: RunRow) -> str:
    """A stored run's grade; an incomplete run has none (rows stored before grades were withheld included)."""
    if not run.complete:
        return "withheld"
    return f"{run.grade_letter} {run.grade_score if run.grade_score is not None else ''}".strip()


def runs_table(runs: Sequence[RunRow]) -> Table:
    incomplete = sum(1 for run in runs if not run.complete)
    table = Table(title=f"{len(runs)} run(s)" + (f", {incomplete} incomplete" if incomplete else ""),
                  caption="incomplete: the harness stopped before the run finished; no grade" if incomplete else None)
    for column in ("run", "started (UTC)", "team", "drill", "scenario", "outcome", "complete", "grade",
                   "failed requests"):
        table.add_column(column)
    for run in runs:
        table.add_row(run.run_id, (run.started_wall or "?")[:19].replace("T", " "), run.team, run.drill, run.scenario,
                      run.outcome, "yes" if run.complete else INCOMPLETE, grade_cell(run),
                      f"{run.failed_requests} of {run.total_requests}",
                      style=None if run.complete else "yellow")
    return table


def comparison_table(comparison: Comparison) -> Table:
    left_out = comparison.left_out
    caption = None
    if comparison.incomplete:
        named = " and ".join(run.run_id for run in comparison.incomplete)
        caption = (f"{named}: incomplete (the harness stopped part way); {len(left_out)} change(s) left out: "
                   "phases not reached, findings it fails, the grade")
    table = Table(title=f"{comparison.a.run_id} → {comparison.b.run_id}: {len(comparison.improved)} improved, "
                        f"{len(comparison.regressed)} regressed" + (f", {len(left_out)} left out" if left_out else ""),
                  caption=caption)
    for column in ("what", _run_heading(comparison.a), _run_heading(comparison.b), "verdict"):
        table.add_column(column)
    for change in comparison.changes:
        table.add_row(phase_label(change.what), change.before, change.after, change.verdict,
                      style=_VERDICT_STYLE[change.verdict])
    return table


def trend_table(trend: Trend, rows: int = TREND_ROWS) -> Table:
    """The latest `rows` runs (a thousand-row table is read by nobody; the chart covers them all)."""
    title = f"team {trend.team}" + (f" · scenario {trend.scenario}" if trend.scenario else "")
    shown = min(rows, len(trend.runs))
    older = len(trend.runs) - shown
    notes = [f"{older} older run(s) not listed (--rows)"] if older else []
    if trend.left_out:
        notes.append(left_out_note(trend))
    if trend.masked:
        notes.append("* mitigate: restored, relapsed (masked), then restored for good at the time shown")
    table = Table(title=f"{title}: seconds from the fault, {len(trend.runs)} run(s)",
                  caption="; ".join(notes) or None)
    table.add_column("run")
    table.add_column("started (UTC)")
    for phase in trend.phases:
        table.add_column(phase_label(phase), justify="right")
    table.add_column("grade")
    reached = trend.reached or tuple((True,) * len(trend.phases) for _ in trend.runs)
    for run, row, got_there in list(zip(trend.runs, trend.seconds, reached, strict=True))[older:]:
        table.add_row(run.run_id if run.complete else f"{run.run_id} ({INCOMPLETE.lower()})",
                      (run.started_wall or "?")[:16].replace("T", " "),
                      *(_cell(s, ok) + ("*" if phase == MITIGATE and run.run_id in trend.masked else "")
                        for phase, s, ok in zip(trend.phases, row, got_there, strict=True)), grade_cell(run),
                      style=None if run.complete else "yellow")
    return table


def left_out_note(trend: Trend) -> str:
    """How many incomplete runs the trend left out, and how to see them."""
    return (f"{trend.left_out} incomplete run(s) left out (the harness stopped part way; "
            "--include-incomplete shows them)")


def _cell(seconds: float | None, reached: bool) -> str:
    if not reached:
        return "not reached"
    return "never" if seconds is None else f"{seconds:.1f}"


def _run_heading(run: RunRow) -> str:
    return run.run_id if run.complete else f"{run.run_id} ({INCOMPLETE.lower()})"


def trend_chart(trend: Trend, width: int = CHART_WIDTH) -> list[str]:
    """One sparkline per phase over the runs, oldest left; each character is the median of its
    share of the runs ('·' where the phase never happened in any of them)."""
    label_width = max(len(phase_label(p)) for p in trend.phases)
    lines = []
    for index, phase in enumerate(trend.phases):
        column = [row[index] for row in trend.seconds]
        known = [v for v in column if v is not None]
        low, high = (min(known), max(known)) if known else (0.0, 0.0)
        cells = [_median([v for v in bucket if v is not None]) for bucket in _buckets(column, width)]
        spark = "".join("·" if v is None else SPARKS[_level(v, low, high)] for v in cells)
        span = f"{low:.1f} s … {high:.1f} s" if known else "never"
        lines.append(f"{phase_label(phase):<{label_width}}  {spark}  ({span})")
    return lines


def _buckets(values: list[float | None], width: int) -> list[list[float | None]]:
    count = min(width, len(values))
    return [values[i * len(values) // count:(i + 1) * len(values) // count] for i in range(count)]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _level(value: float, low: float, high: float) -> int:
    if high <= low:
        return 0
    return min(len(SPARKS) - 1, int((value - low) / (high - low) * (len(SPARKS) - 1) + 0.5))


def actions_table(actions: Sequence[FollowUp]) -> Table:
    table = Table(title=f"{len(actions)} follow-up action(s)")
    for column in ("#", "run", "team", "scenario", "action", "owner", "due", "status"):
        table.add_column(column)
    for action in actions:
        table.add_row(str(action.id), action.run_id, action.team, action.scenario, action.text,
                      action.owner or "—", action.due or "—", action.status)
    return table
