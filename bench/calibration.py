"""Does the grade tell a good response from a bad one?

Scores the journals of real calibration runs (bench/data/calibration/<scenario>-<quality>.jsonl:
four scripted responders of known quality, exemplary > sound > sloppy > harmful, per scenario,
recorded from `tests/calibration` with GAMEDRILL_CALIBRATION_KEEP=bench/data/calibration) with
today's scoring, and prints:

- `grade_spread_points`: the median over scenarios of exemplary - harmful;
- `calibration_pairs_ok`: how many of the ordered pairs (each quality against every worse
  one, per scenario) score in the right order, out of how many;
- `calibration_build_ms`: the median time to score one journal.

`--live` plays the drills again first (several minutes: real stacks, real load).
"""

from __future__ import annotations

import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.timeline import read_journal
from scorecards import build_scorecard

ROOT = Path(__file__).parents[1]
DATA = ROOT / "bench" / "data" / "calibration"
QUALITIES = ("exemplary", "sound", "sloppy", "harmful")


def replay_live() -> None:
    with tempfile.TemporaryDirectory() as keep:
        subprocess.run([sys.executable, "-m", "pytest", "-q", str(ROOT / "tests" / "calibration")],
                       check=True, cwd=ROOT, env={**os.environ, "GAMEDRILL_CALIBRATION_KEEP": keep})
        for journal in Path(keep).glob("*.jsonl"):
            shutil.copy(journal, DATA / journal.name)


def main() -> None:
    if "--live" in sys.argv[1:]:
        replay_live()
    scores: dict[str, dict[str, float]] = {}
    build_ms: list[float] = []
    for journal in sorted(DATA.glob("*.jsonl")):
        scenario, quality = journal.stem.rsplit("-", 1)
        events = read_journal(journal)
        start = time.perf_counter()
        card = build_scorecard(events)
        build_ms.append((time.perf_counter() - start) * 1000)
        scores.setdefault(scenario, {})[quality] = card.grade.score or 0.0
    complete = {s: q for s, q in scores.items() if set(q) == set(QUALITIES)}
    if not complete:
        sys.exit(f"no complete set of calibration journals in {DATA}")
    spread = statistics.median(q["exemplary"] - q["harmful"] for q in complete.values())
    pairs = [(q, better, worse) for q in complete.values() for better, worse in itertools.combinations(QUALITIES, 2)]
    ok = sum(1 for q, better, worse in pairs if q[better] > q[worse])
    for scenario, by_quality in sorted(complete.items()):
        print(f"# {scenario}: " + ", ".join(f"{q} {by_quality[q]:g}" for q in QUALITIES))
    print(f"grade_spread_points: {spread:.1f} points")
    print(f"calibration_pairs_ok: {ok}/{len(pairs)} pairs")
    print(f"calibration_build_ms: {statistics.median(build_ms):.1f} ms")


if __name__ == "__main__":
    main()
