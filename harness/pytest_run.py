"""One drill run on behalf of a test: the plugin's settings applied, the outcome scored.

The run itself is the runner's (`prepare_run` / `Run.execute`), exactly as `gamedrill run`
does it, so a regression suite exercises the real path. With `keep`, the stack outlives
the run until the caller knows whether the test passed: `release()` takes it down.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.pytest_settings import GamedrillSettings
from harness.pytest_verdict import Verdict, judge
from harness.timeline import Event, read_journal
from scorecards import Scorecard, build_from_run_dir

if TYPE_CHECKING:
    from harness.runner import Run, RunResult
    from harness.spec import Drill

PROPERTY_PREFIX = "gamedrill"


def configured(drill: Drill, settings: GamedrillSettings) -> Drill:
    """The drill with the session's backend and time compression (the loaded model stays as it was)."""
    update: dict[str, object] = {}
    if settings.backend is not None:
        update["backend"] = settings.backend
    if settings.time_compression is not None:
        update["time_compression"] = settings.time_compression
    return drill.model_copy(update=update)


def prepare(drill: Drill, settings: GamedrillSettings, *, autopilot: bool, drill_file: Path | None = None) -> Run:
    """A run directory and an idle stack for `drill`; nothing starts until `execute()`.

    The run goes into the plugin's own history unless the settings say `shared` (see
    harness.pytest_settings); a run whose stack never comes up leaves nothing behind:
    `execute()` raises RunNotStarted."""
    from harness.runner import RunOptions, prepare_run

    runs_dir = settings.runs_dir_for(drill.runs_dir)
    options = RunOptions(runs_dir=runs_dir, autopilot=autopilot, keep=settings.keep,
                         history=settings.history_for(runs_dir), drill_file=drill_file)
    return prepare_run(configured(drill, settings), options)


@dataclass
class DrillRun:
    """A finished run, its scorecard, and the stack if `keep` left it up."""

    run: Run
    result: RunResult
    card: Scorecard
    kept: bool

    @classmethod
    def finished(cls, run: Run, result: RunResult) -> DrillRun:
        return cls(run, result, build_from_run_dir(result.run_dir), kept=run.options.keep)

    @property
    def run_dir(self) -> Path:
        return self.result.run_dir

    @functools.cached_property
    def events(self) -> list[Event]:
        return read_journal(self.run_dir / "journal.jsonl")

    @functools.cached_property
    def verdict(self) -> Verdict:
        return judge(self.card, self.result.outcome, self.result.reason)

    def release(self) -> None:
        """Take a kept stack down (the test passed, nobody needs it); idempotent."""
        if self.kept:
            self.kept = False
            self.run.backend.down()

    def properties(self) -> list[tuple[str, object]]:
        """Scorecard figures for the test report (junit XML `<property>` elements)."""
        card, impact = self.card, self.card.impact
        figures: dict[str, object] = {"run_id": self.result.run_id, "run_dir": str(self.run_dir),
                                      "outcome": self.result.outcome}
        for timing in card.phases:
            figures[f"{timing.phase}_s"] = _figure(timing.seconds_from_fault)
        figures["longest_update_gap_s"] = _figure(card.cadence.longest_gap_s)
        figures["failed_requests"] = impact.failed_requests
        figures["total_requests"] = impact.total_requests
        figures["peak_error_rate"] = _figure(impact.peak_error_rate, 4)
        figures["p99_max_ms"] = _figure(impact.p99_max_ms)
        figures["missed_targets"] = len(self.verdict.misses)
        figures["grade"] = _figure(card.grade.score, 1)
        figures["grade_letter"] = card.grade.letter
        return [(f"{PROPERTY_PREFIX}_{name}", value) for name, value in figures.items()]


def _figure(value: float | None, digits: int = 3) -> object:
    return "never" if value is None else round(value, digits)

