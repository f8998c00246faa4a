"""How honest are the harness's clocks?

A scripted responder breaks the whole shop (every lb weight to 0: requests fail at once)
and heals it at instants it records itself, a few times over, while a real drill runs
with real Locust load. For each heal, the error is the harness's measured restoration
time (the start of the first healthy window) minus the recorded true instant. The
responder also posts team notes; the error there is the journal's server-side event time
minus the client's send time.

Prints `restore_error_p95_ms` and `event_error_p95_ms` (targets: 100 ms and 10 ms), with
the medians, over CYCLES heals and NOTES notes.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from harness.control import ControlClient
from harness.runner import Run, RunOptions, prepare_run
from harness.runstate import RunState
from harness.shopapi import LoadBalancer
from harness.slo import percentile
from harness.spec import load_drill
from harness.timeline import read_journal
from harness.waiting import wait_until

DRILL = Path(__file__).parent / "data" / "timing-drill.yaml"
CYCLES = 6
NOTES_PER_CYCLE = 4
OUTAGE_S = 1.5


def play(run: Run, true_restores: list[float], sends: list[tuple[float, str]]) -> None:
    """The scripted responder: outage, heal (recorded), wait for the harness to see it; repeat."""
    wait_until(lambda: run.states.state == RunState.INJECTED, 60, "the drill to inject")
    assert run.tokens is not None and run.control is not None
    client = ControlClient(run.control.url, run.tokens.team)
    lb = LoadBalancer(run.backend.endpoint("lb").port)
    nodes = run.drill.scenario.stack.nodes
    for cycle in range(CYCLES):
        run.monitor.arm_restoration(run.journal.now_s())
        for node in nodes:
            lb.set_weight(node, 0)
        time.sleep(OUTAGE_S)  # the outage the scripted team lets run
        for index, node in enumerate(nodes):
            lb.set_weight(node, 1)
            if index == 0:  # from here on requests succeed again (all of them go to this node)
                true_restores.append(run.journal.now_s())
        for note in range(NOTES_PER_CYCLE):
            text = f"cycle {cycle} note {note}"
            sent = run.journal.now_s()
            client.note("bench", text)
            sends.append((sent, text))
        wait_until(lambda: run.monitor.restored_at is not None, 20, "the harness to detect restoration")
    client.resolve("bench")


def main() -> None:
    true_restores: list[float] = []
    sends: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory(prefix="gamedrill-bench-") as tmp:
        run = prepare_run(load_drill(DRILL), RunOptions(runs_dir=Path(tmp)))
        player = threading.Thread(target=play, args=(run, true_restores, sends), daemon=True)
        player.start()
        result = run.execute()
        player.join(timeout=5)
        if result.outcome != "resolved":
            raise SystemExit(f"the drill ended {result.outcome}: {result.reason}")
        events = read_journal(result.run_dir / "journal.jsonl")
    measured = [e.data["window_start_t_s"] for e in events if e.kind == "restoration.detected"]
    if len(measured) != len(true_restores):
        raise SystemExit(f"{len(true_restores)} heals but {len(measured)} restorations detected")
    restore_errors = sorted(abs(m - t) * 1000 for m, t in zip(measured, true_restores, strict=True))
    noted = {e.data["text"]: e.t_s for e in events if e.kind == "team.note"}
    event_errors = sorted((noted[text] - sent) * 1000 for sent, text in sends)
    print(f"restore_error_p95_ms: {percentile(restore_errors, 95):.1f} ms")
    print(f"restore_error_median_ms: {statistics.median(restore_errors):.1f} ms")
    print(f"event_error_p95_ms: {percentile(event_errors, 95):.2f} ms")
    print(f"event_error_median_ms: {statistics.median(event_errors):.2f} ms")


if __name__ == "__main__":
    main()
