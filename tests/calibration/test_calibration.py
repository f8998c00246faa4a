"""A grade that tells good from bad: four responders of known quality play each of three
scenarios for real (local backend: real processes, real load, the real fault), and their
scores must come out in order, far enough apart, with the harmful one failing.

Set GAMEDRILL_CALIBRATION_KEEP=DIR to keep each run's journal as DIR/<scenario>-<quality>.jsonl
(how bench/data/calibration/ is refreshed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from responders import QUALITIES, SCENARIOS, write_drill

from scorecards import Scorecard, build_from_run_dir
from scorecards.grade import WEIGHTS

GAMEDRILL = [sys.executable, "-m", "harness.cli"]
RUN_TIMEOUT_S = 240  # a drill takes 15-60 s on an idle machine; this one is shared
ATTEMPTS = 3  # a busy machine can fail the steady-state check: that run never injected, so play it again


def play(scenario: str, quality: str, tmp_path: Path) -> Scorecard:
    drill = write_drill(scenario, quality, tmp_path)
    for _ in range(ATTEMPTS):
        runs = tmp_path / f"runs-{quality}"
        shutil.rmtree(runs, ignore_errors=True)
        done = subprocess.run([*GAMEDRILL, "run", str(drill), "--autopilot", "--runs-dir", str(runs)],
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        run_dirs = [d for d in runs.iterdir() if d.is_dir()]
        assert len(run_dirs) == 1, done.stdout[-2000:] + done.stderr[-2000:]
        card = build_from_run_dir(run_dirs[0])
        if card.outcome != "not_injected":
            keep = os.environ.get("GAMEDRILL_CALIBRATION_KEEP")
            if keep:
                shutil.copy(run_dirs[0] / "journal.jsonl", Path(keep) / f"{scenario}-{quality}.jsonl")
            return card
    raise AssertionError(f"{scenario}/{quality}: never injected in {ATTEMPTS} attempts (machine too busy?)")


def missed(card: Scorecard) -> str:
    """The failed findings, with what happened: why a pair came out in the wrong order."""
    failed = [f"{f.category}/{f.name}: {f.what_happened}" for f in card.findings if f.passed is False]
    return ", ".join(failed) or "nothing"


def unexplained_losses(card: Scorecard) -> list[str]:
    """Grade parts that lost points with no failed finding of theirs to say why."""
    failed = {f.category for f in card.findings if f.passed is False}
    return [p.part for p in card.grade.parts if p.checks and p.passed < p.checks and p.part not in failed]


@pytest.mark.timeout(len(QUALITIES) * ATTEMPTS * RUN_TIMEOUT_S)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_better_response_always_scores_better(scenario: str, tmp_path: Path) -> None:
    cards = {quality: play(scenario, quality, tmp_path) for quality in QUALITIES}
    scores = {quality: card.grade.score for quality, card in cards.items()}
    shown = "; ".join(f"{q} {s} {cards[q].grade.letter} (missed: {missed(cards[q])})" for q, s in scores.items())
    assert all(s is not None for s in scores.values()), shown
    exemplary, sound, sloppy, harmful = (float(scores[q] or 0) for q in QUALITIES)
    assert exemplary >= sound >= sloppy >= harmful, shown
    assert exemplary - sloppy >= 20, shown
    assert sound - sloppy >= 10, shown
    assert cards["harmful"].grade.letter == "F", shown
    assert cards["exemplary"].grade.letter in ("A", "B"), shown
    for quality, card in cards.items():
        assert not unexplained_losses(card), f"{quality}: {unexplained_losses(card)}"
        assert {p.part for p in card.grade.parts} == set(WEIGHTS)
