"""Scorecards: turn a finished run directory into a scorecard a team can review.

Reads the run's journal only (never the runner), so a scorecard can be rebuilt at any time:

    card = build_from_run_dir(run_dir)     # or write_scorecard(run_dir) to also write the files
    print(render_markdown(card))

Every figure carries the journal seq numbers it came from (`evidence`).
"""

from scorecards.build import PHASE_RULES, PhaseRule, build_from_run_dir, build_scorecard
from scorecards.model import SCHEMA_VERSION, Finding, Impact, PhaseTiming, Scorecard, UpdateCadence
from scorecards.render_md import render_markdown, render_summary
from scorecards.write import write_scorecard

__all__ = [
    "PHASE_RULES",
    "SCHEMA_VERSION",
    "Finding",
    "Impact",
    "PhaseRule",
    "PhaseTiming",
    "Scorecard",
    "UpdateCadence",
    "build_from_run_dir",
    "build_scorecard",
    "render_markdown",
    "render_summary",
    "write_scorecard",
]
