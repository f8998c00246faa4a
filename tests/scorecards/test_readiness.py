"""Readiness from the history of real runs: who held which duty on which kind of incident,
and a next drill that covers the largest gap."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from harness.cli_scorecard import SCORECARD_COMMANDS, builtin_families
from harness.timeline import read_journal
from scorecards import build_scorecard, history
from scorecards.families import BAD_CONFIG, BAD_RELEASE, DEPENDENCY, LATENT_DEFECT
from scorecards.readiness import readiness

JOURNALS = Path(__file__).parents[1] / "data" / "journals"
CLI = click.Group("gamedrill", commands={command.name or "": command for command in SCORECARD_COMMANDS})


def stored(tmp_path: Path) -> Path:
    db_path = tmp_path / "history.sqlite"
    with history.connect(db_path) as db:
        for journal in sorted(JOURNALS.glob("*.jsonl")):
            history.store(db, build_scorecard(read_journal(journal)), tmp_path / journal.stem)
    return db_path


def test_the_matrix_counts_each_duty_per_family(tmp_path: Path) -> None:
    with history.connect(stored(tmp_path)) as db:
        ready = readiness(db, "alice", builtin_families())
    # Three bad-config runs (alice led each: declare --commander alice), two bad-release ones.
    assert ready.of("alice", "commander", BAD_CONFIG).count == 3
    assert ready.of("dave", "operator", BAD_CONFIG).count == 2  # the exemplary and the sound runbook
    assert ready.of("alice", "operator", BAD_RELEASE).count == 2  # she typed both (never-restored, relapse)
    assert ready.of("bob", "commander", BAD_CONFIG).count == 0
    assert {BAD_CONFIG, BAD_RELEASE, LATENT_DEFECT, DEPENDENCY} <= set(ready.families)
    suggestion = ready.suggestion
    assert suggestion is not None and suggestion.family in (LATENT_DEFECT, DEPENDENCY)
    assert suggestion.scenario is not None and builtin_families()[suggestion.scenario] == suggestion.family
    assert suggestion.roster["commander"] != "alice"  # someone who has not led yet
    assert len(set(suggestion.roster.values())) == len(suggestion.roster)


def test_readiness_in_the_terminal_and_as_html(tmp_path: Path) -> None:
    db_path = stored(tmp_path)
    page = tmp_path / "readiness.html"
    shown = CliRunner().invoke(CLI, ["scorecard", "readiness", "--team", "bob", "--history", str(db_path),
                                     "--html", str(page)], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "bad config" in shown.output and "next:" in shown.output and "led 3" in shown.output
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "<script" not in html and "alice" in html and "Next drill" in html
    nobody = CliRunner().invoke(CLI, ["scorecard", "readiness", "--team", "zed", "--history", str(db_path)])
    assert nobody.exit_code == 0 and "0 finished run(s)" in nobody.output
