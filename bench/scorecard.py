"""How fast scorecards are built and the history answers.

Prints `scorecard_build_s` (journal -> scorecard for a synthetic 30-minute drill whose
per-second windows add up to 100k requests; target < 1 s), `scorecard_write_s` (the same
plus every output file and the history row) and `trend_1000_ms` (a team's trend over
1,000 stored runs, rendered as the CLI's table and chart; target < 200 ms). Medians of
several runs. Needs no network and no stack: the journal is written with a fake clock.
"""

from __future__ import annotations

import dataclasses
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from harness.timeline import FakeClock, Journal
from scorecards import Scorecard, build_from_run_dir, history, write_scorecard
from scorecards.render_history import trend_chart, trend_table
from scorecards.trends import trend

DRILL_S = 30 * 60
FAULT_T_S = 120.0
RESTORED_T_S = 1500.0
TOTAL_REQUESTS = 100_000
STORED_RUNS = 1000
REPEATS = 5
NODES = ("web-1", "web-2", "web-3")


def write_journal(run_dir: Path, rng: random.Random) -> None:
    """A 30-minute drill: baseline, fault, a full response, restoration, with a window per second."""
    run_dir.mkdir(parents=True)
    clock = FakeClock()
    team = [(150.0, "team.ack", {"by": "alice"}),
            (170.0, "team.declare", {"by": "alice", "severity": 2, "commander": "alice"}),
            (175.0, "team.role", {"by": "alice", "role": "comms", "who": "bob"}),
            *[(200.0 + 240 * i, "team.update", {"by": "bob", "impact": "checkout failing", "action": "working",
                                                "next_update_s": 300}) for i in range(6)],
            (400.0, "team.suspect", {"by": "alice", "change": "script_push v2"}),
            (410.0, "team.scope", {"by": "alice", "nodes": list(NODES)}),
            (1300.0, "team.act", {"by": "carol", "action": "kill-hung-workers", "canary": "web-1", "params": {}}),
            (1400.0, "team.act", {"by": "carol", "action": "kill-hung-workers", "canary": None, "params": {}}),
            (RESTORED_T_S + 10, "restoration.detected", {"window_start_t_s": RESTORED_T_S, "window_s": 5}),
            (1600.0, "team.resolve", {"by": "alice"})]
    per_second = TOTAL_REQUESTS // DRILL_S
    windows = []
    for second in range(DRILL_S):
        failing = FAULT_T_S <= second < RESTORED_T_S
        requests = per_second + (1 if second < TOTAL_REQUESTS % DRILL_S else 0)
        counts = [[requests // 3, 0] for _ in NODES]
        failures = 0
        for node in counts:
            node[1] = rng.randint(node[0] // 3, node[0]) if failing else 0
            failures += node[1]
        windows.append((second + 1.05, "slo.window", {
            "start_t_s": second, "requests": requests, "failures": failures, "p50_ms": 4.0,
            "p99_ms": 1500.0 if failing else 9.0, "nodes": dict(zip(NODES, counts, strict=True))}))
    events = [(0.5, "run.planned", {"run_id": "bench", "drill": "bench", "scenario": "hung-workers",
                                    "targets": {"detect_s": 60, "declare_s": 120, "mitigate_s": 1800},
                                    "truth": {"trigger": {"kind": "script_push", "version": "v2"},
                                              "affected_nodes": list(NODES), "fixes": ["kill-hung-workers"]},
                                    "team": {"name": "bench", "members": ["alice", "bob", "carol"]},
                                    "nodes": list(NODES)}),
              (FAULT_T_S, "fault.injected", {"index": 0, "type": "rollout"}),
              (FAULT_T_S + 30, "alert.fired", {"name": "errors", "metric": "error_rate", "value": 0.5}),
              *team, *windows, (DRILL_S + 2.0, "run.finished", {"outcome": "resolved"})]
    with Journal.open(run_dir / "journal.jsonl", clock) as journal:
        for t_s, kind, data in sorted(events, key=lambda e: e[0]):
            clock.advance(t_s - clock.elapsed_s)
            journal.append(kind, **data)


def timed(step: Callable[[], object]) -> float:
    began = time.perf_counter()
    step()
    return time.perf_counter() - began


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gamedrill-bench-") as tmp:
        run_dir = Path(tmp) / "runs" / "bench"
        write_journal(run_dir, random.Random(7))
        card = build_from_run_dir(run_dir)
        if sum(w.requests for w in card.series) != TOTAL_REQUESTS or len(card.series) != DRILL_S:
            raise SystemExit("the synthetic journal is not the size this benchmark claims")
        build_s = [timed(lambda: build_from_run_dir(run_dir)) for _ in range(REPEATS)]
        db_path = Path(tmp) / "history.sqlite"
        write_s = [timed(lambda: write_scorecard(run_dir, db_path)) for _ in range(REPEATS)]
        trend_db = Path(tmp) / "trend.sqlite"
        fill_history(trend_db, card)
        trend_ms = [1000 * timed(lambda: render_trend(trend_db)) for _ in range(REPEATS)]
    print(f"scorecard_build_s: {statistics.median(build_s):.3f} s")
    print(f"scorecard_write_s: {statistics.median(write_s):.3f} s")
    print(f"trend_1000_ms: {statistics.median(trend_ms):.1f} ms")


def fill_history(db_path: Path, card: Scorecard) -> None:
    """1,000 runs of the team (plus as many of another), a day apart, with varied timings."""
    rng = random.Random(11)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with history.connect(db_path) as db:
        for index in range(2 * STORED_RUNS):
            team = "bench" if index % 2 == 0 else "others"
            phases = tuple(dataclasses.replace(p, seconds_from_fault=round(rng.uniform(5, 900), 3))
                           for p in card.phases)
            stored = dataclasses.replace(card, run_id=f"run-{index:05d}", phases=phases,
                                         team=dataclasses.replace(card.team, name=team),
                                         started_wall=(start + timedelta(hours=12 * index)).isoformat())
            history.store(db, stored, Path("runs") / stored.run_id)


def render_trend(db_path: Path) -> None:
    with history.connect(db_path) as db:
        result = trend(db, "bench")
    if len(result.runs) != STORED_RUNS:
        raise SystemExit(f"trend saw {len(result.runs)} runs, expected {STORED_RUNS}")
    out = Console(file=io.StringIO(), width=160)
    out.print(trend_table(result))
    for line in trend_chart(result):
        out.print(line, markup=False)


if __name__ == "__main__":
    sys.exit(main())
