"""Scorecards: turn a finished run directory into a scorecard a team can review.

Reads the run's journal only (never the runner), so a scorecard can be rebuilt at any time:

    card = build_from_run_dir(run_dir)     # or write_scorecard(run_dir): every file + the history
    print(render_markdown(card))

Every figure carries the journal seq numbers it came from (`evidence`); the grade's weights
are `WEIGHTS`, the incident policy's thresholds `scorecards.policy`.
"""

from scorecards.build import build_from_run_dir, build_scorecard
from scorecards.grade import WEIGHTS
from scorecards.history import HistoryError
from scorecards.model import (
    SCHEMA_VERSION,
    ActionItem,
    ActionReview,
    Diagnosis,
    Finding,
    Grade,
    Impact,
    PhaseTiming,
    Scorecard,
    Severity,
    UpdateCadence,
)
from scorecards.phases import PHASE_RULES, PhaseRule
from scorecards.render_html import render_html
from scorecards.render_md import render_markdown, render_summary
from scorecards.render_postmortem import render_postmortem
from scorecards.schema import schema_path
from scorecards.write import OUTPUT_NAMES, write_scorecard

__all__ = [
    "OUTPUT_NAMES",
    "PHASE_RULES",
    "SCHEMA_VERSION",
    "WEIGHTS",
    "ActionItem",
    "ActionReview",
    "Diagnosis",
    "Finding",
    "Grade",
    "HistoryError",
    "Impact",
    "PhaseRule",
    "PhaseTiming",
    "Scorecard",
    "Severity",
    "UpdateCadence",
    "build_from_run_dir",
    "build_scorecard",
    "render_html",
    "render_markdown",
    "render_postmortem",
    "render_summary",
    "schema_path",
    "write_scorecard",
]
